/**
 * Servers that misbehave, through the whole daemon: each ends in a probe failure or a
 * verification failure with its reason, within the probe's timeout, and /metrics keeps serving.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { derToPem } from '../../src/pki/pem';
import type { Resolver } from '../../src/probing/resolver';
import { select, value, type Sample } from '../support/metrics-text';
import { createCertificate, type TestCert } from '../support/pki';
import { startHarness, waitFor, type Harness } from '../support/daemon-harness';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { startRawServer, startTlsServer, type TlsTestServer } from '../support/tls-server';

/** A fatal TLS 1.2 alert record: handshake_failure (40). */
const TLS_ALERT = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);

const behaviours: Record<string, (socket: Socket) => void> = {
  silent: (socket) => { socket.resume(); },
  slowloris: (socket) => {
    socket.resume();
    // One byte of a TLS record header a second: never a whole handshake.
    const bytes = [0x16, 0x03, 0x03, 0x10, 0x00];
    const timer = setInterval(() => { if (!socket.destroyed) socket.write(Buffer.from([bytes.shift() ?? 0])); }, 1000);
    socket.on('close', () => { clearInterval(timer); });
  },
  reset: (socket) => { socket.once('data', () => { socket.resetAndDestroy(); }); },
  http: (socket) => { socket.once('data', () => { socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'); }); },
  garbage: (socket) => { socket.once('data', () => { socket.end(randomBytes(4096)); }); },
  alert: (socket) => { socket.once('data', () => { socket.end(TLS_ALERT); }); },
};

describe('hostile servers and failing DNS, through the daemon', () => {
  let pki: TestPki;
  let harness: Harness;
  const servers: TlsTestServer[] = [];
  let samples: Sample[];
  const timeoutMs = 1500;
  let started: number;

  /** Resolves names of the form "<n>.fleet.test" to 50 addresses, the first the fleet's; fails everything else. */
  const resolver: Resolver = (host) => {
    if (host === 'nothing.test') return Promise.resolve([]);
    if (host === 'many.test') return Promise.resolve(['127.0.0.1', ...Array.from({ length: 49 }, (_, i) => `127.0.1.${i + 1}`)]);
    if (host === 'hang.test') return new Promise(() => undefined);
    return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
  };

  beforeAll(async () => {
    pki = await buildTestPki();
    const targets: string[] = [];
    for (const [name, behave] of Object.entries(behaviours)) {
      const server = await startRawServer('127.0.0.1', behave);
      servers.push(server);
      targets.push(`  - { name: ${name}, host: 127.0.0.1, port: ${server.port}, server_name: localhost }`);
    }
    // A chain of 110 CAs, each issuing the next: more than anyone should send.
    let issuer: TestCert = pki.root;
    const cas: TestCert[] = [];
    for (let i = 0; i < 110; i++) {
      issuer = await createCertificate({ subjectCn: `Deep CA ${i}`, issuer, ca: true, key: pki.intermediate.key });
      cas.unshift(issuer);
    }
    const deepLeaf = await createCertificate({ subjectCn: 'localhost', issuer, dnsNames: ['localhost'] });
    // A 1 MB certificate: one huge non-critical extension. OpenSSL refuses certificate lists this big.
    const huge = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, dnsNames: ['localhost'],
      extraExtensions: [{ oid: '1.3.6.1.4.1.99999.2', critical: false, valueDer: Buffer.concat([Buffer.from([0x04, 0x83, 0x10, 0x00, 0x00]), Buffer.alloc(0x100000, 0x41)]) }] });
    // Names with quotes, backslashes and newlines must come out escaped in label values.
    const oddName = await createCertificate({ subjectCn: 'evil"\\\n{name}', issuer: pki.intermediate, dnsNames: ['localhost'] });
    for (const [name, key, chain] of [['deep', deepLeaf.key, [deepLeaf, ...cas]], ['huge', huge.key, [huge, pki.intermediate]], ['odd-name', oddName.key, [oddName, pki.intermediate]]] as const) {
      const server = await startTlsServer({ key, chain: [...chain] });
      servers.push(server);
      targets.push(`  - { name: ${name}, host: 127.0.0.1, port: ${server.port}, server_name: localhost }`);
    }
    const good = await startTlsServer({ key: pki.valid.key, chain: [pki.valid, pki.intermediate] });
    servers.push(good);
    targets.push(`  - { name: many-addresses, host: many.test, port: ${good.port}, server_name: localhost }`);
    targets.push(`  - { name: no-addresses, host: nothing.test, port: ${good.port} }`);
    targets.push(`  - { name: unknown-name, host: unknown.test, port: ${good.port} }`);
    targets.push(`  - { name: dns-hangs, host: hang.test, port: ${good.port} }`);
    const config = `defaults: { interval: 2s, timeout: ${timeoutMs}ms, ca_file: root.pem }\ntargets:\n${targets.join('\n')}\n`;
    started = Date.now();
    harness = await startHarness(config, { 'root.pem': derToPem(pki.root.der) }, resolver);
    const names = [...Object.keys(behaviours), 'deep', 'huge', 'odd-name', 'many-addresses', 'no-addresses', 'unknown-name', 'dns-hangs'];
    await waitFor('a probe of every hostile target', async () => {
      const now = (await harness.scrape()).samples;
      return names.every((target) => select(now, 'certexp_probes_total', { target }).length === 1);
    }, 15_000);
    samples = (await harness.scrape()).samples;
  }, 60_000);

  afterAll(async () => {
    await harness.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  const failure = (target: string): string[] => select(samples, 'certexp_probe_failures_total', { target }).map((s) => s.labels.reason ?? '');

  it.each([
    ['silent', 'handshake_timeout'],
    ['slowloris', 'handshake_timeout'],
    ['reset', 'handshake_failed'],
    ['http', 'handshake_failed'],
    ['garbage', 'handshake_failed'],
    ['alert', 'handshake_failed'],
    ['huge', 'handshake_failed'],
    ['no-addresses', 'dns_error'],
    ['unknown-name', 'dns_error'],
    ['dns-hangs', 'timeout'],
  ])('reports %s as a probe failure with reason %s', (target, reason) => {
    expect(value(samples, 'certexp_probe_success', { target })).toBe(0);
    expect(failure(target)).toEqual([reason]);
  });

  it('bounds every probe by its timeout, the slow ones included', () => {
    for (const target of ['silent', 'slowloris', 'dns-hangs']) {
      const phases = select(samples, 'certexp_probe_duration_seconds', { target });
      const total = phases.reduce((sum, s) => sum + s.value, 0);
      expect(total).toBeLessThan(timeoutMs / 1000 + 0.5);
    }
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('takes the first of 50 addresses and verifies the chain there', () => {
    expect(value(samples, 'certexp_probe_success', { target: 'many-addresses' })).toBe(1);
    expect(value(samples, 'certexp_verify_success', { target: 'many-addresses' })).toBe(1);
  });

  it('reads at most 64 certificates of a 111-certificate chain and reports chain_too_long', () => {
    expect(value(samples, 'certexp_probe_success', { target: 'deep' })).toBe(1);
    expect(select(samples, 'certexp_verify_failure', { target: 'deep' }).map((s) => s.labels.reason)).toEqual(['chain_too_long']);
    expect(select(samples, 'certexp_cert_not_after_timestamp_seconds', { target: 'deep' })).toHaveLength(64);
  });

  it('escapes hostile certificate names in label values', async () => {
    const { body } = await harness.scrape();
    expect(body).toContain('subject_cn="evil\\"\\\\\\n{name}"');
    expect(value(samples, 'certexp_verify_success', { target: 'odd-name' })).toBe(1);
  });

  it('keeps serving /metrics and its health endpoints throughout', async () => {
    expect((await harness.app.inject({ url: '/-/healthy' })).statusCode).toBe(200);
    expect((await harness.app.inject({ url: '/-/ready' })).statusCode).toBe(200);
  });
});
