/**
 * The prober's per-target TLS options against real loopback servers: the client certificate
 * (mutual TLS), what a refusal of it looks like in TLS 1.3 and 1.2 (with the server's chain
 * still reported), the offered protocol range, and the per-version acceptance checks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type SecureVersion, type TLSSocket } from 'node:tls';
import { systemClock } from '../../src/clock';
import type { ProbeOutcome, ProbeRequest } from '../../src/probing/prober';
import type { ClientCertificate } from '../../src/probing/secure-contexts';
import { createTlsProber } from '../../src/probing/tls-prober';
import { Secret } from '../../src/web/secret';
import { closedAfterEach } from '../support/closed-after-each';
import { createCertificate, days, hours, type TestCert } from '../support/pki';
import { expectFailure, expectOk } from '../support/probe-outcomes';
import { buildTestPki, chainPem, type TestPki } from '../support/scenarios';
import { startStarttlsServer, STARTTLS_SCRIPTS } from '../support/starttls-servers';
import { startTlsServer, type TlsTestServer } from '../support/tls-server';
import { describeWithTool } from '../support/tools';

let pki: TestPki;
let client: TestCert;
let expiredClient: TestCert;
let untrustedClient: TestCert;
const servers = closedAfterEach<{ close(): Promise<void> }>();

beforeAll(async () => {
  pki = await buildTestPki();
  const now = Date.now();
  const clientCert = (issuer: TestCert, notAfter: Date, notBefore = new Date(now - hours(1))): Promise<TestCert> =>
    createCertificate({ subjectCn: 'certexp-probe', issuer, notBefore, notAfter, dnsNames: [], extKeyUsage: ['clientAuth'] });
  [client, expiredClient, untrustedClient] = await Promise.all([
    clientCert(pki.intermediate, new Date(now + days(30))),
    clientCert(pki.intermediate, new Date(now - days(1)), new Date(now - days(10))),
    clientCert(pki.otherIntermediate, new Date(now + days(30))),
  ]);
});


function certificate(leaf: TestCert, issuer: TestCert): ClientCertificate {
  return { certificatePem: chainPem(leaf, issuer), key: new Secret(leaf.key.privateKeyPem) };
}

function probe(port: number, options: Partial<ProbeRequest> = {}, timeoutMs = 5000): Promise<ProbeOutcome> {
  const prober = createTlsProber({ resolver: () => Promise.resolve(['127.0.0.1']), clock: systemClock });
  return prober({ host: 'service.test', port, serverName: 'localhost', ...options }, AbortSignal.timeout(timeoutMs));
}

/** A Node TLS server that demands a client certificate under `root` and records whose it accepted. */
async function mutualTlsServer(maxVersion: SecureVersion): Promise<{ port: number; accepted: string[] }> {
  const accepted: string[] = [];
  const server = createServer({
    key: pki.valid.key.privateKeyPem,
    cert: chainPem(pki.valid, pki.intermediate),
    ca: [pki.root.pem],
    requestCert: true,
    rejectUnauthorized: true,
    maxVersion,
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    accepted.push(socket.getPeerX509Certificate()?.subject ?? '');
    socket.on('error', () => undefined);
    // As a real service does, wait for the client to speak: its session tickets go out meanwhile.
    setTimeout(() => { socket.end(); }, 100);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({ close: () => new Promise<void>((resolve) => { server.close(() => { resolve(); }); }) });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { port: address.port, accepted };
}

async function track(server: Promise<TlsTestServer>): Promise<TlsTestServer> {
  const started = await server;
  servers.push(started);
  return started;
}

describe('client certificates (mutual TLS)', () => {
  it.each<SecureVersion>(['TLSv1.3', 'TLSv1.2'])('presents the certificate and gets the chain when the %s server trusts it', async (version) => {
    const server = await mutualTlsServer(version);
    const outcome = expectOk(await probe(server.port, { clientCertificate: certificate(client, pki.intermediate) }));

    expect(outcome.tls.version).toBe(version);
    expect(outcome.chain[0]?.equals(pki.valid.der)).toBe(true);
    expect(server.accepted).toEqual(['O=certexp-test\nCN=certexp-probe']);
  });

  it('returns client_cert_rejected with the server\'s chain when a TLS 1.3 server refuses the certificate after the handshake', async () => {
    const server = await mutualTlsServer('TLSv1.3');
    const outcome = expectFailure(await probe(server.port, { clientCertificate: certificate(untrustedClient, pki.otherIntermediate) }));

    expect(outcome.reason).toBe('client_cert_rejected');
    expect(outcome.error).toMatch(/closed the connection right after the handshake/);
    expect(outcome.seen?.chain.map((der) => der.equals(pki.valid.der))).toEqual([true, false]);
    expect(outcome.seen?.tls.version).toBe('TLSv1.3');
    expect(server.accepted).toEqual([]);
  });

  it('does not wait for a verdict, and returns the chain, when no client certificate is configured', async () => {
    const server = await mutualTlsServer('TLSv1.3');
    const started = Date.now();
    const outcome = expectOk(await probe(server.port));

    expect(outcome.chain[0]?.equals(pki.valid.der)).toBe(true);
    expect(Date.now() - started).toBeLessThan(400);
  });
});

describeWithTool('openssl', 'openssl', 'client certificates refused with an alert (openssl s_server)', () => {
  let dir: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certexp-mtls-'));
    await writeFile(join(dir, 'server.pem'), chainPem(pki.valid, pki.intermediate));
    await writeFile(join(dir, 'server.key'), pki.valid.key.privateKeyPem);
    await writeFile(join(dir, 'ca.pem'), pki.root.pem);
  });

  afterEach(() => {
    child?.kill();
    child = undefined;
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** s_server requiring a client certificate under `root`, and failing the handshake with an alert when it does not verify. */
  async function refusingServer(protocol: '-tls1_2' | '-tls1_3'): Promise<number> {
    const process = spawn('openssl', ['s_server', '-www', '-accept', '127.0.0.1:0', '-cert', join(dir, 'server.pem'), '-key', join(dir, 'server.key'),
      '-CAfile', join(dir, 'ca.pem'), '-Verify', '2', '-verify_return_error', protocol], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = process;
    let output = '';
    return new Promise<number>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        const match = /ACCEPT\s+127\.0\.0\.1:(\d+)/.exec(output);
        if (match !== null) resolve(Number(match[1]));
      };
      process.stdout.on('data', onData);
      process.stderr.on('data', onData);
      process.once('exit', () => { reject(new Error(`s_server exited: ${output}`)); });
      setTimeout(() => { reject(new Error(`s_server did not listen within 5 s: ${output}`)); }, 5000).unref();
    });
  }

  it.each([
    ['-tls1_2', 'an unknown CA', () => certificate(untrustedClient, pki.otherIntermediate), /ALERT_UNKNOWN_CA|alert unknown ca/i],
    ['-tls1_3', 'an unknown CA', () => certificate(untrustedClient, pki.otherIntermediate), /ALERT_UNKNOWN_CA|alert unknown ca/i],
    ['-tls1_3', 'an expired certificate', () => certificate(expiredClient, pki.intermediate), /CERTIFICATE_EXPIRED|certificate expired/i],
  ] as const)('returns client_cert_rejected and the server\'s chain when a %s server refuses %s with an alert', async (protocol, _label, mine, alert) => {
    const port = await refusingServer(protocol);
    const outcome = expectFailure(await probe(port, { clientCertificate: mine() }));

    expect(outcome.reason).toBe('client_cert_rejected');
    expect(outcome.error).toMatch(alert);
    expect(outcome.seen?.chain[0]?.equals(pki.valid.der)).toBe(true);
  });
});

describe('protocol versions', () => {
  it('returns handshake_failed when min_version is above what the server speaks', async () => {
    const server = await track(startTlsServer({ key: pki.valid.key, chain: [pki.valid], maxVersion: 'TLSv1.2' }));
    const outcome = expectFailure(await probe(server.port, { minVersion: 'TLSv1.3' }));

    expect(outcome.reason).toBe('handshake_failed');
    expect(outcome.error).toMatch(/protocol version/i);
  });

  it('negotiates no higher than max_version when the server speaks TLS 1.3', async () => {
    const server = await track(startTlsServer({ key: pki.valid.key, chain: [pki.valid] }));
    const outcome = expectOk(await probe(server.port, { maxVersion: 'TLSv1.2' }));

    expect(outcome.tls.version).toBe('TLSv1.2');
    expect(outcome.tls.cipher).toMatch(/^TLS_ECDHE_ECDSA_WITH_/);
  });

  it('reports each checked version as refused by a server that speaks TLS 1.2 and 1.3 only', async () => {
    const server = await track(startTlsServer({ key: pki.valid.key, chain: [pki.valid], minVersion: 'TLSv1.2' }));
    const outcome = expectOk(await probe(server.port, { checkVersions: ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] }));

    expect(outcome.versions).toEqual({ 'TLSv1': false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true });
  });

  it('reports TLS 1.0 and 1.1 as accepted by a server that still speaks them', async () => {
    const server = await track(startTlsServer({
      key: pki.valid.key, chain: [pki.valid], minVersion: 'TLSv1', maxVersion: 'TLSv1.2', serverOptions: { ciphers: 'DEFAULT:@SECLEVEL=0' },
    }));
    const outcome = expectOk(await probe(server.port, { checkVersions: ['TLSv1', 'TLSv1.1', 'TLSv1.3'] }));

    expect(outcome.versions).toEqual({ 'TLSv1': true, 'TLSv1.1': true, 'TLSv1.3': false });
  });

  it('upgrades every check connection of a STARTTLS target before its handshake', async () => {
    const server = await startStarttlsServer({ script: STARTTLS_SCRIPTS.smtp, key: pki.valid.key, chain: [pki.valid] });
    servers.push(server);
    const outcome = expectOk(await probe(server.port, { starttls: 'smtp', checkVersions: ['TLSv1.1', 'TLSv1.2'] }));

    expect(outcome.versions).toEqual({ 'TLSv1.1': false, 'TLSv1.2': true });
    expect(server.complaints).toEqual([]);
  });

  it('leaves out a version whose check cannot connect, and adds no versions when none are asked for', async () => {
    const server = await track(startTlsServer({ key: pki.valid.key, chain: [pki.valid] }));
    expect(expectOk(await probe(server.port)).versions).toBeUndefined();
    const outcome = expectOk(await probe(server.port, { checkVersions: [] }));
    expect(outcome.versions).toEqual({});
  });
});
