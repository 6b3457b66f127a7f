/**
 * The TLS prober against real servers on 127.0.0.1 and ::1: what it returns for a good server,
 * what it sends (SNI), and the reason it gives for each way a probe can fail. The resolver is
 * injected (no DNS); sockets are real.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import { systemClock } from '../../src/clock';
import type { Prober, ProbeRequest } from '../../src/probing/prober';
import { createTlsProber } from '../../src/probing/tls-prober';
import type { Resolver } from '../../src/probing/resolver';
import { closedAfterEach } from '../support/closed-after-each';
import type { TestCert } from '../support/pki';
import { expectFailure, expectOk } from '../support/probe-outcomes';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { startRawServer, startTlsServer, type LoopbackHost, type TlsTestServer } from '../support/tls-server';

const HOSTS: readonly LoopbackHost[] = ['127.0.0.1', '::1'];

let pki: TestPki;
const servers = closedAfterEach<TlsTestServer>();

beforeAll(async () => {
  pki = await buildTestPki();
});


async function track(server: Promise<TlsTestServer>): Promise<TlsTestServer> {
  const started = await server;
  servers.push(started);
  return started;
}

/** Answers every name with `addresses`, like a resolver that knows the test host. */
const answering = (...addresses: string[]): Resolver => () => Promise.resolve(addresses);

function prober(resolver: Resolver = answering('127.0.0.1')): Prober {
  return createTlsProber({ resolver, clock: systemClock });
}

function request(port: number, serverName = 'localhost', host = 'service.test'): ProbeRequest {
  return { host, port, serverName };
}

function sha256(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

/** Resolves when `socket` closes, or rejects after `limitMs`. */
function closed(socket: Socket, limitMs = 1000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (socket.destroyed) { resolve(); return; }
    const timer = setTimeout(() => { reject(new Error('server-side socket still open')); }, limitMs);
    socket.once('close', () => { clearTimeout(timer); resolve(); });
  });
}

/** A raw server that hands each accepted socket to `onConnection` and remembers the sockets. */
async function rawServer(host: LoopbackHost, onConnection: (socket: Socket) => void = (socket) => { socket.resume(); }) {
  const accepted: Socket[] = [];
  const server = await track(startRawServer(host, (socket) => { accepted.push(socket); onConnection(socket); }));
  return { server, accepted };
}

/** A misbehaving peer: `behave`, then read (and drop) whatever comes, so the peer's FIN is seen. */
function reading(behave: (socket: Socket) => void): (socket: Socket) => void {
  return (socket) => { socket.resume(); behave(socket); };
}

/**
 * A TLS server that completes the handshake and then keeps the connection open: only the
 * prober closing its side makes the server see 'close'. `serve` swaps the chain it presents.
 */
async function lingeringTlsServer(host: LoopbackHost, leaf: TestCert, chain: TestCert[]) {
  const contextOf = (key: TestCert, certs: TestCert[]) => createSecureContext({ key: key.key.privateKeyPem, cert: certs.map((c) => c.pem).join('') });
  let context = contextOf(leaf, chain);
  const accepted: TLSSocket[] = [];
  const handshakes: TLSSocket[] = [];
  const { server } = await rawServer(host, (socket) => {
    const tls = new TLSSocket(socket, { isServer: true, secureContext: context });
    accepted.push(tls);
    tls.on('error', () => undefined);
    tls.on('secure', () => handshakes.push(tls));
    tls.resume();
  });
  const serve = (next: TestCert[]): void => {
    const [nextLeaf] = next;
    if (nextLeaf !== undefined) context = contextOf(nextLeaf, next);
  };
  return { server, accepted, handshakes, serve };
}

describe('createTlsProber', () => {
  describe.each(HOSTS)('against a good server on %s', (host) => {
    it('returns ok with the presented chain exactly as sent, the TLS facts and every phase', async () => {
      const server = await track(startTlsServer({ host, key: pki.valid.key, chain: [pki.valid, pki.intermediate] }));
      const outcome = expectOk(await prober(answering(host))(request(server.port), AbortSignal.timeout(5000)));

      expect(outcome.address).toBe(host);
      expect(outcome.chain).toHaveLength(2);
      expect(outcome.chain[0]?.equals(pki.valid.der)).toBe(true);
      expect(outcome.chain[1]?.equals(pki.intermediate.der)).toBe(true);
      expect(outcome.tls.version).toBe('TLSv1.3');
      expect(outcome.tls.cipher).toMatch(/^TLS_[A-Z0-9_]+$/);
      for (const phase of ['dns', 'connect', 'handshake'] as const) {
        const seconds = outcome.phases[phase];
        expect(typeof seconds).toBe('number');
        expect(seconds).toBeGreaterThanOrEqual(0);
        expect(seconds).toBeLessThan(5);
      }
    });

    it('returns the chain in the order sent, extra certificates included, when the server sends it out of order', async () => {
      const sent = [pki.valid, pki.root, pki.otherRoot, pki.intermediate];
      const server = await track(startTlsServer({ host, key: pki.valid.key, chain: sent }));
      const outcome = expectOk(await prober(answering(host))(request(server.port), AbortSignal.timeout(5000)));

      expect(outcome.chain.map(sha256)).toEqual(sent.map((c) => c.fingerprintSha256));
    });

    it('returns a one-certificate chain when the server sends only its self-signed leaf', async () => {
      const server = await track(startTlsServer({ host, key: pki.selfSigned.key, chain: [pki.selfSigned] }));
      const outcome = expectOk(await prober(answering(host))(request(server.port), AbortSignal.timeout(5000)));

      expect(outcome.chain.map(sha256)).toEqual([pki.selfSigned.fingerprintSha256]);
    });

    it('closes its connection when the probe succeeds against a server that would keep it open', async () => {
      const { server, accepted } = await lingeringTlsServer(host, pki.valid, [pki.valid, pki.intermediate]);
      const outcome = await prober(answering(host))(request(server.port), AbortSignal.timeout(5000));

      expect(outcome.ok).toBe(true);
      expect(accepted).toHaveLength(1);
      await closed(accepted[0] as Socket);
    });
  });

  it('reads a renewed chain, sent out of order, exactly: one handshake a probe, two when the leaf is new and the first was not recorded', async () => {
    let chain = [pki.valid, pki.intermediate];
    const { server, accepted, serve } = await lingeringTlsServer('127.0.0.1', pki.valid, chain);
    const probe = prober();
    const run = async (): Promise<{ chain: string[]; connections: number }> => {
      const before = accepted.length;
      const outcome = expectOk(await probe(request(server.port), AbortSignal.timeout(5000)));
      return { chain: outcome.chain.map(sha256), connections: accepted.length - before };
    };
    const sent = (): string[] => chain.map((c) => c.fingerprintSha256);

    expect(await run()).toEqual({ chain: sent(), connections: 1 });
    expect(await run()).toEqual({ chain: sent(), connections: 1 });
    chain = [pki.wildcard, pki.root, pki.intermediate];
    serve(chain);
    expect(await run()).toEqual({ chain: sent(), connections: 2 });
    expect(await run()).toEqual({ chain: sent(), connections: 1 });
  });

  it('reports the negotiated version and the standard cipher name when the server caps TLS at 1.2', async () => {
    const server = await track(startTlsServer({ key: pki.valid.key, chain: [pki.valid, pki.intermediate], maxVersion: 'TLSv1.2' }));
    const outcome = expectOk(await prober()(request(server.port), AbortSignal.timeout(5000)));

    expect(outcome.tls.version).toBe('TLSv1.2');
    // The IANA name (standardName), not OpenSSL's "ECDHE-ECDSA-AES256-GCM-SHA384".
    expect(outcome.tls.cipher).toMatch(/^TLS_ECDHE_ECDSA_WITH_[A-Z0-9_]+$/);
  });

  it('connects to the first address when the resolver returns several', async () => {
    const server = await track(startTlsServer({ host: '::1', key: pki.valid.key, chain: [pki.valid] }));
    const outcome = expectOk(await prober(answering('::1', '127.0.0.1'))(request(server.port), AbortSignal.timeout(5000)));

    expect(outcome.address).toBe('::1');
  });

  it('asks the resolver for the request host, not the server name', async () => {
    const asked: string[] = [];
    const server = await track(startTlsServer({ key: pki.valid.key, chain: [pki.valid] }));
    const resolver: Resolver = (host) => { asked.push(host); return Promise.resolve(['127.0.0.1']); };
    await prober(resolver)(request(server.port, 'localhost', 'lb.internal.test'), AbortSignal.timeout(5000));

    expect(asked).toEqual(['lb.internal.test']);
  });

  describe('SNI', () => {
    async function sniServer(host: LoopbackHost): Promise<{ server: TlsTestServer; names: string[] }> {
      const names: string[] = [];
      const server = await track(
        startTlsServer({
          host,
          key: pki.valid.key,
          chain: [pki.valid],
          serverOptions: { SNICallback: (name, done) => { names.push(name); done(null, undefined); } },
        }),
      );
      return { server, names };
    }

    it.each<[LoopbackHost, string]>([
      ['127.0.0.1', 'localhost'],
      ['127.0.0.1', 'shop.example.test'],
      ['::1', 'api.example.test'],
    ])('sends the server name when probing %s with server name %s', async (host, serverName) => {
      const { server, names } = await sniServer(host);
      const outcome = await prober(answering(host))(request(server.port, serverName), AbortSignal.timeout(5000));

      expect(outcome.ok).toBe(true);
      expect(names).toEqual([serverName]);
    });

    it.each([
      ['bücher.example', 'xn--bcher-kva.example'],
      ['localhost.', 'localhost'],
      ['LocalHost', 'localhost'],
    ])('sends the server name %s as the SNI %s (A-labels, no trailing dot)', async (serverName, sni) => {
      const { server, names } = await sniServer('127.0.0.1');
      await prober()(request(server.port, serverName), AbortSignal.timeout(5000));
      expect(names).toEqual([sni]);
    });

    it.each<[LoopbackHost, string]>([
      ['127.0.0.1', '127.0.0.1'],
      ['::1', '::1'],
      ['::1', '[::1]'],
      ['::1', '0:0:0:0:0:0:0:1'],
    ])('sends no SNI when probing %s with the IP literal %s as server name', async (host, serverName) => {
      const { server, names } = await sniServer(host);
      const outcome = await prober(answering(host))(request(server.port, serverName, host), AbortSignal.timeout(5000));

      // The handshake happened, and the server's SNI callback never saw a name.
      expect(outcome.ok).toBe(true);
      expect(names).toEqual([]);
    });
  });

  it('lets the server finish the TLS 1.3 handshake before closing', async () => {
    const { server, accepted, handshakes } = await lingeringTlsServer('127.0.0.1', pki.valid, [pki.valid, pki.intermediate]);
    expectOk(await prober()(request(server.port), AbortSignal.timeout(5000)));
    await closed(accepted[0] as Socket);
    expect(handshakes).toHaveLength(1);
  });

  describe('failures', () => {
    it('returns handshake_failed, not connection_refused, when the server accepts and resets at once', async () => {
      const { server } = await rawServer('127.0.0.1', (socket) => { socket.resetAndDestroy(); });
      expect(expectFailure(await prober()(request(server.port), AbortSignal.timeout(5000))).reason).toBe('handshake_failed');
    });

    it('returns dns_error when the resolver throws instead of rejecting', async () => {
      const throwing: Resolver = () => { throw Object.assign(new Error('boom'), { code: 'ENOTFOUND' }); };
      expect(expectFailure(await prober(throwing)(request(1), AbortSignal.timeout(5000))).reason).toBe('dns_error');
    });

    it.each(HOSTS)('returns connection_refused when nothing listens on the port (%s)', async (host) => {
      const { server } = await rawServer(host);
      const port = server.port;
      await server.close();

      const outcome = expectFailure(await prober(answering(host))(request(port), AbortSignal.timeout(5000)));
      expect(outcome.reason).toBe('connection_refused');
      expect(outcome.address).toBe(host);
      expect(outcome.phases.dns).toBeGreaterThanOrEqual(0);
      expect(outcome.phases.connect).toBeUndefined();
      expect(outcome.phases.handshake).toBeUndefined();
    });

    const misbehaving: [string, (socket: Socket) => void][] = [
      ['writes an HTTP response', reading((socket) => { socket.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'); })],
      ['writes bytes that are not TLS', reading((socket) => { socket.write(Buffer.from('00ff1337c0ffee0042deadbeef'.repeat(8), 'hex')); })],
      // After the ClientHello, as a middlebox filtering on SNI does.
      ['resets the connection', (socket) => { socket.once('data', () => { socket.resetAndDestroy(); }); }],
      ['closes the connection without a word', reading((socket) => { socket.end(); })],
    ];

    it.each(misbehaving)('returns handshake_failed and closes its socket when the server %s', async (_label, behave) => {
      const { server, accepted } = await rawServer('127.0.0.1', behave);
      const outcome = expectFailure(await prober()(request(server.port), AbortSignal.timeout(5000)));

      expect(outcome.reason).toBe('handshake_failed');
      expect(outcome.address).toBe('127.0.0.1');
      expect(outcome.phases.connect).toBeGreaterThanOrEqual(0);
      expect(outcome.phases.handshake).toBeUndefined();
      expect(accepted).toHaveLength(1);
      await closed(accepted[0] as Socket);
    });

    it('returns handshake_failed when the TLS server answers with an alert', async () => {
      // A server that fails SNI processing aborts the handshake with a fatal alert.
      const server = await track(
        startTlsServer({
          key: pki.valid.key,
          chain: [pki.valid],
          serverOptions: { SNICallback: (_name, done) => { done(new Error('no certificate for that name'), undefined); } },
        }),
      );
      const outcome = expectFailure(await prober()(request(server.port), AbortSignal.timeout(5000)));

      expect(outcome.reason).toBe('handshake_failed');
      expect(outcome.error).toMatch(/^handshake: /);
    });

    it.each(HOSTS)('returns handshake_timeout and closes its socket when the server (%s) accepts and never speaks', async (host) => {
      const { server, accepted } = await rawServer(host);
      const started = Date.now();
      const outcome = expectFailure(await prober(answering(host))(request(server.port), AbortSignal.timeout(300)));
      const elapsed = Date.now() - started;

      expect(outcome.reason).toBe('handshake_timeout');
      expect(outcome.phases.connect).toBeGreaterThanOrEqual(0);
      expect(outcome.phases.handshake).toBeUndefined();
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(1500);
      expect(accepted).toHaveLength(1);
      await closed(accepted[0] as Socket);
    });

    it('returns dns_error with no address when the resolver rejects with ENOTFOUND', async () => {
      const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' });
      const resolver: Resolver = () => Promise.reject(notFound);
      const outcome = expectFailure(await prober(resolver)(request(1, 'nowhere.invalid', 'nowhere.invalid'), AbortSignal.timeout(5000)));

      expect(outcome.reason).toBe('dns_error');
      expect(outcome.address).toBeUndefined();
      expect(outcome.error).toContain('ENOTFOUND');
      expect(outcome.phases).toEqual({});
    });

    it('returns dns_error when the resolver returns no addresses', async () => {
      const outcome = expectFailure(await prober(answering())(request(1), AbortSignal.timeout(5000)));

      expect(outcome.reason).toBe('dns_error');
      expect(outcome.address).toBeUndefined();
    });

    it('returns timeout within the signal when the resolver never answers', async () => {
      const resolver: Resolver = () => new Promise<readonly string[]>(() => undefined);
      const started = Date.now();
      const outcome = expectFailure(await prober(resolver)(request(1), AbortSignal.timeout(300)));
      const elapsed = Date.now() - started;

      expect(outcome.reason).toBe('timeout');
      expect(outcome.address).toBeUndefined();
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(1500);
    });

    it('returns timeout without asking the resolver when the signal is already aborted', async () => {
      let asked = 0;
      const resolver: Resolver = () => { asked++; return Promise.resolve(['127.0.0.1']); };
      const controller = new AbortController();
      controller.abort(new Error('shutting down'));
      const outcome = expectFailure(await prober(resolver)(request(1), controller.signal));

      expect(outcome.reason).toBe('timeout');
      expect(asked).toBe(0);
    });

    it('resolves with a failure instead of throwing when the resolver throws synchronously', async () => {
      const resolver: Resolver = () => { throw new Error('resolver exploded'); };
      const outcome = await prober(resolver)(request(1), AbortSignal.timeout(5000));

      expect(outcome.ok).toBe(false);
    });
  });

  it('opens no connection after it returns when many probes fail and succeed in parallel', async () => {
    const good = await lingeringTlsServer('127.0.0.1', pki.valid, [pki.valid, pki.intermediate]);
    const silent = await rawServer('127.0.0.1');
    const probe = prober();
    const outcomes = await Promise.all([
      ...Array.from({ length: 5 }, () => probe(request(good.server.port), AbortSignal.timeout(5000))),
      ...Array.from({ length: 5 }, () => probe(request(silent.server.port), AbortSignal.timeout(200))),
    ]);

    expect(outcomes.map((o) => (o.ok ? 'ok' : o.reason))).toEqual([
      ...new Array<string>(5).fill('ok'),
      ...new Array<string>(5).fill('handshake_timeout'),
    ]);
    const accepted = [...good.accepted, ...silent.accepted];
    expect(accepted).toHaveLength(10);
    await Promise.all(accepted.map((socket) => closed(socket)));
  });
});
