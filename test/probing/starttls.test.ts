/**
 * STARTTLS: the prober speaks each protocol's plain-text upgrade to a loopback server that
 * follows the protocol's specification, then completes TLS and returns the chain; and every
 * way a server can refuse or break the upgrade comes back as starttls_failed with the cause.
 */
import { systemClock } from '../../src/clock';
import type { ProbeOutcome, ProbeRequest } from '../../src/probing/prober';
import { createTlsProber } from '../../src/probing/tls-prober';
import type { Resolver } from '../../src/probing/resolver';
import { STARTTLS_DEFAULT_PORTS, STARTTLS_PROTOCOLS, type StarttlsProtocol } from '../../src/probing/starttls/upgrade';
import { closedAfterEach } from '../support/closed-after-each';
import { buildTestPki, type TestPki } from '../support/scenarios';
import {
  divert,
  hearLine,
  ldapExtendedResponse,
  mysqlHandshake,
  say,
  startStarttlsServer,
  STARTTLS_SCRIPTS,
  type Script,
  type StarttlsTestServer,
} from '../support/starttls-servers';
import type { LoopbackHost } from '../support/tls-server';

let pki: TestPki;
const servers = closedAfterEach<StarttlsTestServer>();

beforeAll(async () => {
  pki = await buildTestPki();
});


async function serve(script: Script, host: LoopbackHost = '127.0.0.1'): Promise<StarttlsTestServer> {
  const server = await startStarttlsServer({ script, key: pki.valid.key, chain: [pki.valid, pki.intermediate], host });
  servers.push(server);
  return server;
}

const answering = (address: string): Resolver => () => Promise.resolve([address]);

function probe(server: StarttlsTestServer, starttls: StarttlsProtocol | undefined, timeoutMs = 5000): Promise<ProbeOutcome> {
  const request: ProbeRequest = { host: 'mail.test', port: server.port, serverName: 'localhost', ...(starttls === undefined ? {} : { starttls }) };
  return createTlsProber({ resolver: answering(server.host), clock: systemClock })(request, AbortSignal.timeout(timeoutMs));
}

function mysqlPacket(sequence: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([payload.length, 0, 0, sequence]), payload]);
}

function failure(outcome: ProbeOutcome): { reason: string; error: string } {
  if (outcome.ok) throw new Error('expected a failure, got ok');
  return { reason: outcome.reason, error: outcome.error };
}

describe('STARTTLS', () => {
  it('knows a default port for every protocol it speaks', () => {
    expect(STARTTLS_PROTOCOLS).toEqual(['smtp', 'imap', 'pop3', 'ftp', 'ldap', 'xmpp', 'postgres', 'mysql']);
    expect(STARTTLS_DEFAULT_PORTS).toMatchObject({ smtp: 25, imap: 143, pop3: 110, ftp: 21, ldap: 389, xmpp: 5222, postgres: 5432, mysql: 3306 });
  });

  describe.each(STARTTLS_PROTOCOLS)('%s', (protocol) => {
    it('upgrades, completes TLS and returns the chain with a starttls phase when the server follows the protocol', async () => {
      const server = await serve(STARTTLS_SCRIPTS[protocol]);
      const outcome = await probe(server, protocol);

      if (!outcome.ok) throw new Error(`${outcome.reason}: ${outcome.error}`);
      expect(server.complaints).toEqual([]);
      expect(outcome.chain.map((der) => der.equals(pki.valid.der) || der.equals(pki.intermediate.der))).toEqual([true, true]);
      expect(outcome.phases.starttls).toBeGreaterThanOrEqual(0);
      expect(outcome.phases.handshake).toBeGreaterThanOrEqual(0);
      await waitForHandshake(server);
    });

    it('fails without the starttls setting, because the port does not speak TLS first', async () => {
      const server = await serve(STARTTLS_SCRIPTS[protocol]);
      const outcome = await probe(server, undefined, 1000);

      expect(['handshake_failed', 'handshake_timeout']).toContain(failure(outcome).reason);
    });

    it('returns starttls_failed within the timeout when the server accepts and never speaks', async () => {
      const server = await serve({ steps: [], then: 'hang' });
      const started = Date.now();
      const outcome = failure(await probe(server, protocol, 300));

      expect(outcome.reason).toBe('starttls_failed');
      expect(outcome.error).toMatch(new RegExp(`^starttls: ${protocol}: timed out while waiting for `));
      expect(Date.now() - started).toBeLessThan(1500);
    });

    it('returns starttls_failed when the server hangs up instead of agreeing to TLS', async () => {
      const script = STARTTLS_SCRIPTS[protocol];
      // The go-ahead is the server's last word before TLS (for MySQL, its handshake packet).
      const goAhead = script.steps.map((step) => 'say' in step).lastIndexOf(true);
      const server = await serve(divert(script, goAhead, undefined, 'close'));

      expect(failure(await probe(server, protocol))).toEqual({
        reason: 'starttls_failed',
        error: expect.stringMatching(new RegExp(`^starttls: ${protocol}: the server closed the connection while waiting for `)) as unknown,
      });
    });

    it('refuses bytes the server sends after its go-ahead, which an attacker could have injected', async () => {
      const script = STARTTLS_SCRIPTS[protocol];
      const last = script.steps[script.steps.length - 1];
      const goAhead = last !== undefined && 'say' in last ? last.say : undefined;
      const injected = protocol === 'mysql'
        // MySQL's go-ahead is the server's handshake; the injection rides on it.
        ? [say(Buffer.concat([mysqlHandshake(0xffff), Buffer.from('\x16\x03\x01')])), ...script.steps.slice(1)]
        : [...script.steps.slice(0, -1), say((heard) => {
          const text = typeof goAhead === 'function' ? goAhead(heard) : goAhead ?? '';
          return Buffer.concat([Buffer.from(text), Buffer.from('250 injected\r\n')]);
        })];
      const server = await serve({ steps: injected, then: 'hang' });
      const outcome = failure(await probe(server, protocol));

      expect(outcome.reason).toBe('starttls_failed');
      expect(outcome.error).toMatch(protocol === 'mysql' ? /^starttls: mysql: / : /bytes after its go-ahead/);
    });
  });

  /** How each protocol says no; every one must come back as starttls_failed quoting the server. */
  const refusals: [StarttlsProtocol, string, Script, RegExp][] = [
    ['smtp', 'does not list STARTTLS after EHLO', divert(STARTTLS_SCRIPTS.smtp, 2, say('250-mx.localhost\r\n250 PIPELINING\r\n'), 'hang'),
      /does not offer STARTTLS in its EHLO reply/],
    ['smtp', 'answers STARTTLS with 454', divert(STARTTLS_SCRIPTS.smtp, 4, say('454 4.7.0 TLS not available\r\n'), 'hang'),
      /expected 220 as the STARTTLS reply, got "454 4\.7\.0 TLS not available"/],
    ['smtp', 'greets with 554', { steps: [say('554 no service for you\r\n')], then: 'hang' }, /expected 220 as the greeting, got "554/],
    ['smtp', 'is not SMTP at all', { steps: [say('SSH-2.0-OpenSSH_9.6\r\n')], then: 'hang' }, /expected a numeric reply as the greeting, got "SSH-2\.0/],
    ['imap', 'pre-authenticates the connection', { steps: [say('* PREAUTH welcome\r\n')], then: 'hang' }, /expected "\* OK" as the greeting/],
    ['imap', 'answers STARTTLS with BAD', divert(STARTTLS_SCRIPTS.imap, 2, say((heard) => `${heard.toString().split(' ')[0] ?? ''} BAD no TLS\r\n`), 'hang'),
      /expected "a001 OK" as the STARTTLS reply, got "a001 BAD no TLS"/],
    ['pop3', 'answers STLS with -ERR', divert(STARTTLS_SCRIPTS.pop3, 2, say('-ERR command not permitted\r\n'), 'hang'), /got "-ERR command not permitted"/],
    ['ftp', 'answers AUTH TLS with 530', divert(STARTTLS_SCRIPTS.ftp, 2, say('530 TLS not configured\r\n'), 'hang'), /expected 234 as the AUTH TLS reply, got "530/],
    ['ldap', 'answers with resultCode protocolError', divert(STARTTLS_SCRIPTS.ldap, 1, say(ldapExtendedResponse(1, 2, 'unsupported extended operation')), 'hang'),
      /resultCode 2 \(protocolError\): "unsupported extended operation"/],
    ['ldap', 'sends a notice of disconnection', divert(STARTTLS_SCRIPTS.ldap, 1, say(ldapExtendedResponse(0, 52, 'shutting down')), 'hang'),
      /answered message 0 instead of our StartTLS request/],
    ['ldap', 'is not LDAP at all', { steps: [say('HTTP/1.1 400 Bad Request\r\n\r\n')], then: 'hang' }, /not an LDAP ExtendedResponse/],
    ['xmpp', 'offers no starttls feature', divert(STARTTLS_SCRIPTS.xmpp, 1,
      say("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'><stream:features><bind/></stream:features>"), 'hang'),
    /does not offer STARTTLS in its stream features/],
    ['xmpp', 'answers starttls with failure', divert(STARTTLS_SCRIPTS.xmpp, 3, say("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), 'hang'),
      /answered <failure\/> to <starttls\/>/],
    ['xmpp', 'ends the stream with an error', divert(STARTTLS_SCRIPTS.xmpp, 1,
      say("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'><stream:error><host-unknown/></stream:error></stream:stream>"), 'hang'),
    /ended the stream instead of sending the stream features/],
    ['postgres', 'answers N (ssl = off)', divert(STARTTLS_SCRIPTS.postgres, 1, say('N'), 'hang'), /does not accept TLS \(it answered N to SSLRequest\)/],
    ['mysql', 'does not offer CLIENT_SSL', divert(STARTTLS_SCRIPTS.mysql, 0, say(mysqlHandshake(0xffff & ~0x0800)), 'hang'), /no CLIENT_SSL in its handshake/],
    ['mysql', 'refuses the host with an error packet', {
      steps: [say(mysqlPacket(0, Buffer.concat([Buffer.from([0xff, 0x6a, 0x04]), Buffer.from('#HY000Host is not allowed to connect', 'latin1')])))],
      then: 'hang',
    }, /refused the connection with error 1130: "Host is not allowed to connect"/],
  ];

  it.each(refusals)('returns starttls_failed when the %s server %s', async (protocol, _label, script, message) => {
    const server = await serve(script);
    const outcome = failure(await probe(server, protocol));

    expect(outcome.reason).toBe('starttls_failed');
    expect(outcome.error).toMatch(new RegExp(`^starttls: ${protocol}: `));
    expect(outcome.error).toMatch(message);
  });

  it('returns starttls_failed instead of buffering without end when the server floods a line', async () => {
    const server = await serve({ steps: [say('220-'), say('x'.repeat(200_000))], then: 'hang' });
    const outcome = failure(await probe(server, 'smtp'));

    expect(outcome.reason).toBe('starttls_failed');
    expect(outcome.error).toMatch(/more than 65536 bytes without the greeting/);
  });

  it('sends the server name as the XMPP domain, and the SNI in the TLS handshake after the upgrade', async () => {
    const server = await serve(STARTTLS_SCRIPTS.xmpp, '::1');
    const outcome = await probe(server, 'xmpp');

    expect(outcome.ok).toBe(true);
    expect(server.heard[0]?.toString()).toContain("to='localhost'");
  });

  it('upgrades over IPv6 and reads replies split across many small writes', async () => {
    const greeting = '220-mx.localhost\r\n220 ESMTP\r\n';
    const script: Script = {
      steps: [...Array.from(Buffer.from(greeting), (byte) => say(Buffer.from([byte]))), hearLine(/^EHLO \S+$/), ...STARTTLS_SCRIPTS.smtp.steps.slice(2)],
      then: 'tls',
    };
    const server = await serve(script, '::1');
    const outcome = await probe(server, 'smtp');

    if (!outcome.ok) throw new Error(`${outcome.reason}: ${outcome.error}`);
    expect(outcome.address).toBe('::1');
  });
});

async function waitForHandshake(server: StarttlsTestServer): Promise<void> {
  const deadline = Date.now() + 2000;
  while (server.handshakes() === 0) {
    if (Date.now() > deadline) throw new Error('the server saw no TLS handshake');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
