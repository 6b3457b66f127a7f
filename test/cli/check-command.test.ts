import { systemClock } from '../../src/clock';
import { runCheck, type CheckIo } from '../../src/cli/check-command';
import { systemResolver } from '../../src/probing/resolver';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { startStarttlsServer, STARTTLS_SCRIPTS } from '../support/starttls-servers';
import { startTlsServer, type TlsTestServer } from '../support/tls-server';

let pki: TestPki;
const servers: Record<string, TlsTestServer> = {};

beforeAll(async () => {
  pki = await buildTestPki();
  servers.valid = await startTlsServer({ key: pki.valid.key, chain: [pki.valid, pki.intermediate] });
  servers.soon = await startTlsServer({ key: pki.expiringSoon.key, chain: [pki.expiringSoon, pki.intermediate] });
  servers.expired = await startTlsServer({ key: pki.expired.key, chain: [pki.expired, pki.intermediate] });
  servers.v6 = await startTlsServer({ host: '::1', key: pki.ipOnly.key, chain: [pki.ipOnly, pki.intermediate] });
  servers.smtp = await startStarttlsServer({ script: STARTTLS_SCRIPTS.smtp, key: pki.valid.key, chain: [pki.valid, pki.intermediate] });
});

afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.close()));
});

async function check(argv: string[], isTty = false): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CheckIo = {
    readFile: (path) => (path === 'root.pem' ? Promise.resolve(Buffer.from(pki.root.pem)) : Promise.reject(new Error(`ENOENT ${path}`))),
    stdout: (text) => { out += text; },
    stderr: (text) => { err += text; },
    now: () => Date.now(),
    isTty,
    resolver: systemResolver,
    clock: systemClock,
  };
  return { code: await runCheck(argv, io), out, err };
}

const port = (name: string): number => (servers[name] as TlsTestServer).port;
const trusted = ['--ca-file', 'root.pem', '--server-name', 'localhost'];

describe('certexp check', () => {
  it('exits 0 (OK) and prints the chain, TLS facts and timings for a healthy endpoint', async () => {
    const run = await check([`127.0.0.1:${port('valid')}`, ...trusted]);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(new RegExp(`^CERTEXP OK - 127\\.0\\.0\\.1:${port('valid')} \\(localhost\\) verifies, (89\\.9\\d|90) days left$`, 'm'));
    expect(run.out).toMatch(/^Connected to 127\.0\.0\.1: TLSv1\.3, TLS_\w+; dns [\d.]+ ms, connect [\d.]+ ms, handshake [\d.]+ ms, verify [\d.]+ ms$|^Connected to 127\.0\.0\.1: TLSv1\.3, TLS_\w+; dns [\d.]+ ms, connect [\d.]+ ms, handshake [\d.]+ ms$/m);
    expect(run.out).toMatch(/names {7}localhost, 127\.0\.0\.1, ::1/);
    expect(run.out).toMatch(/key {9}ec 256 bits, signed ecdsa-with-SHA256/);
    expect(run.out).not.toContain('\u001b[');
  });

  it('exits 1 (WARNING) under --warning-days and 2 (CRITICAL) under --critical-days', async () => {
    const soon = await check([`127.0.0.1:${port('soon')}`, ...trusted]);
    expect(soon.code).toBe(1);
    expect(soon.out).toMatch(/^CERTEXP WARNING - .* verifies, (9\.9\d|10) days left$/m);
    expect((await check([`127.0.0.1:${port('soon')}`, ...trusted, '--critical-days', '15'])).code).toBe(2);
    expect((await check([`127.0.0.1:${port('soon')}`, ...trusted, '--warning-days', '5'])).code).toBe(0);
  });

  it('exits 2 with every reason and its fix when the chain does not verify', async () => {
    const run = await check([`127.0.0.1:${port('expired')}`, ...trusted]);
    expect(run.code).toBe(2);
    expect(run.out).toMatch(/^CERTEXP CRITICAL - .* does not verify: expired, -\d/m);
    expect(run.out).toMatch(/^ {2}expired: a certificate on the chain is past its notAfter/m);
    const untrusted = await check([`127.0.0.1:${port('valid')}`, '--server-name', 'localhost']);
    expect(untrusted.out).toMatch(/does not verify: untrusted_root/);
  });

  it('exits 2 with the probe failure reason when nothing listens', async () => {
    const closed = await startTlsServer({ key: pki.valid.key, chain: [pki.valid] });
    await closed.close();
    const run = await check([`127.0.0.1:${closed.port}`]);
    expect(run.code).toBe(2);
    expect(run.out).toMatch(/^CERTEXP CRITICAL - 127\.0\.0\.1:\d+: connection_refused\n {2}connect: .*ECONNREFUSED.*\n {2}nothing listens on that port/);
  });

  it('probes IPv6 endpoints and checks IP names', async () => {
    const run = await check([`[::1]:${port('v6')}`, '--ca-file', 'root.pem']);
    expect(run.out).toMatch(new RegExp(`^CERTEXP OK - \\[::1\\]:${port('v6')} \\(::1\\) verifies`, 'm'));
  });

  it('upgrades with --starttls before the handshake and says so, with the starttls phase timed', async () => {
    const run = await check([`127.0.0.1:${port('smtp')}`, ...trusted, '--starttls', 'smtp']);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^Connected to 127\.0\.0\.1 \(smtp STARTTLS\): TLSv1\.3, TLS_\w+; dns [\d.]+ ms, connect [\d.]+ ms, starttls [\d.]+ ms, handshake [\d.]+ ms/m);
  });

  it('exits 2 with starttls_failed and its fix when the port does not speak the protocol', async () => {
    const run = await check([`127.0.0.1:${port('valid')}`, ...trusted, '--starttls', 'imap', '--timeout', '1']);
    expect(run.code).toBe(2);
    expect(run.out).toMatch(/^CERTEXP CRITICAL - 127\.0\.0\.1:\d+: starttls_failed\n {2}starttls: imap: .*\n {2}the server did not complete the STARTTLS upgrade/);
  });

  it('prints JSON for scripts', async () => {
    const run = await check([`127.0.0.1:${port('valid')}`, ...trusted, '--json']);
    const result = JSON.parse(run.out) as { status: string; verified: boolean; tls: { version: string }; path: { subject: string }[]; daysLeft: number };
    expect(result.status).toBe('OK');
    expect(result.verified).toBe(true);
    expect(result.tls.version).toBe('TLSv1.3');
    expect(result.path).toHaveLength(3);
    expect(result.daysLeft).toBeGreaterThan(89);
  });

  it('colours the status line on a terminal only', async () => {
    const run = await check([`127.0.0.1:${port('soon')}`, ...trusted], true);
    expect(run.out.startsWith('\u001b[33mCERTEXP WARNING')).toBe(true);
  });

  it.each([
    [[], /give exactly one HOST\[:PORT\]/],
    [['a:b:c:d:99999999'], /want HOST, HOST:PORT/],
    [['localhost', '--warning-days', 'soon'], /--warning-days soon: want a number/],
    [['localhost', '--ca-file', 'missing.pem'], /cannot read missing\.pem/],
    [['localhost', '--bogus'], /Unknown option '--bogus'/],
    [['localhost', '--starttls', 'http'], /--starttls: expected one of "smtp", "imap", "pop3", "ftp", "ldap", "xmpp", "postgres", "mysql", got "http"/],
  ])('exits 3 (UNKNOWN) on bad input %j', async (argv, message) => {
    const run = await check(argv);
    expect(run.code).toBe(3);
    expect(run.err).toMatch(message);
  });
});
