/**
 * `certexp check` with the daemon's trust checks and connection settings: OCSP (stapled by
 * openssl s_server, or from OpenSSL's responder), the CRL of the distribution point, pins,
 * allowed issuers and lifetime, and --address, --proxy-url, --cert-file/--key-file and
 * --min-version/--max-version, each against real loopback servers.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/clock';
import { runCheck, type CheckIo } from '../../src/cli/check-command';
import type { Resolver } from '../../src/probing/resolver';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy';
import { crlDistributionPointsExtension, opensslCrl, startCrlServer, type CrlServer } from '../support/crl';
import { OcspFiles, ocspUrlExtension, startOcspResponder, type OcspResponder } from '../support/ocsp';
import { createCertificate, days, type TestCert } from '../support/pki';
import { startSServer, type SServer } from '../support/s-server';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { startTlsServer, type TlsTestServer } from '../support/tls-server';
import { describeWithTool } from '../support/tools';

/** Every name resolves to 127.0.0.1, so a test can prove --address is what is connected to. */
const loopbackOnly: Resolver = () => Promise.resolve(['127.0.0.1']);
/** No name resolves: connecting anywhere but an --address literal fails. */
const nothingResolves: Resolver = (host) => Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));

async function check(argv: string[], resolver: Resolver = loopbackOnly): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CheckIo = {
    readFile: (path) => readFile(path),
    stdout: (text) => { out += text; },
    stderr: (text) => { err += text; },
    now: () => Date.now(),
    isTty: false,
    resolver,
    clock: systemClock,
  };
  return { code: await runCheck(argv, io), out, err };
}

describeWithTool('openssl', 'openssl', 'certexp check with trust checks and connection settings', () => {
  let pki: TestPki;
  let dir: string;
  let files: OcspFiles;
  let responder: OcspResponder;
  let crls: CrlServer;
  const servers: TlsTestServer[] = [];
  const sServers: SServer[] = [];
  let proxy: ConnectProxy;
  let trusted: string[];
  const revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - days(1));
  const ports: Record<string, number> = {};

  const serve = async (name: string, leaf: TestCert, more: Partial<Parameters<typeof startTlsServer>[0]> = {}): Promise<void> => {
    const server = await startTlsServer({ key: leaf.key, chain: [leaf, pki.intermediate], ...more });
    servers.push(server);
    ports[name] = server.port;
  };
  const at = (name: string): string => `127.0.0.1:${ports[name] ?? 0}`;

  beforeAll(async () => {
    pki = await buildTestPki();
    dir = await mkdtemp(join(tmpdir(), 'certexp-check-trust-'));
    await writeFile(join(dir, 'root.pem'), pki.root.pem);
    trusted = ['--ca-file', join(dir, 'root.pem'), '--server-name', 'localhost'];
    files = await OcspFiles.create({ ca: pki.intermediate, signer: pki.intermediate }, []);
    responder = await startOcspResponder(files);
    crls = await startCrlServer();
    const leaf = (...extensions: { oid: string; critical: boolean; valueDer: Buffer }[]): Promise<TestCert> =>
      createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, dnsNames: ['localhost'], extraExtensions: extensions });
    const [ocspGood, ocspRevoked, crlGood, crlRevoked, stapled] = await Promise.all([
      leaf(ocspUrlExtension(responder.url)), leaf(ocspUrlExtension(responder.url)),
      leaf(crlDistributionPointsExtension([crls.url('ca.crl')])), leaf(crlDistributionPointsExtension([crls.url('ca.crl')])), leaf(),
    ]);
    await files.setIndex([{ cert: ocspGood }, { cert: ocspRevoked, revokedAt, reason: 'keyCompromise' }, { cert: stapled, revokedAt, reason: 'superseded' }]);
    crls.serve('ca.crl', await opensslCrl(pki.intermediate, [{ cert: crlGood }, { cert: crlRevoked, revokedAt, reason: 'cessationOfOperation' }]));
    await serve('ocsp-good', ocspGood);
    await serve('ocsp-revoked', ocspRevoked);
    await serve('crl-good', crlGood);
    await serve('crl-revoked', crlRevoked);
    await serve('valid', pki.valid);
    await serve('tls12-only', pki.valid, { maxVersion: 'TLSv1.2' });
    const client = await createCertificate({ subjectCn: 'certexp client', issuer: pki.intermediate, dnsNames: [], extKeyUsage: ['clientAuth'] });
    await writeFile(join(dir, 'client.pem'), client.pem);
    await writeFile(join(dir, 'client.key'), client.key.privateKeyPem);
    await serve('mtls', pki.valid, { serverOptions: { requestCert: true, rejectUnauthorized: true, ca: [pki.root.pem, pki.intermediate.pem] } });
    const staple = await startSServer(dir, 'stapling', [stapled, pki.intermediate], { statusFile: await files.stapleFor(stapled) });
    sServers.push(staple);
    ports.stapled = staple.port;
    proxy = await startConnectProxy({ names: { 'shop.example': '127.0.0.1' } });
  });

  afterAll(async () => {
    for (const server of sServers) server.child.kill();
    await Promise.all(servers.map((s) => s.close()));
    await (proxy as ConnectProxy | undefined)?.close();
    await (responder as OcspResponder | undefined)?.close();
    await (crls as CrlServer | undefined)?.close();
    await (files as OcspFiles | undefined)?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  describe('revocation', () => {
    it('asks the OCSP responder with --ocsp responder: OK for a good leaf, CRITICAL with the time and reason for a revoked one', async () => {
      const good = await check([at('ocsp-good'), ...trusted, '--ocsp', 'responder']);
      expect(good.code).toBe(0);
      expect(good.out).toMatch(/^Revocation:\n {2}OCSP \(responder\): good; this update \S+, next update \S+$/m);
      const revoked = await check([at('ocsp-revoked'), ...trusted, '--ocsp', 'responder']);
      expect(revoked.code).toBe(2);
      expect(revoked.out).toMatch(/^CERTEXP CRITICAL - .* does not verify: revoked, /m);
      expect(revoked.out).toContain(`OCSP (responder): revoked at ${revokedAt.toISOString()}, keyCompromise`);
      expect(revoked.out).toMatch(/^ {2}revoked: the CA has revoked the leaf/m);
    });

    it('judges what the server staples by default, and asks nobody without --ocsp responder', async () => {
      const stapled = await check([`127.0.0.1:${ports.stapled ?? 0}`, ...trusted]);
      expect(stapled.code).toBe(2);
      expect(stapled.out).toContain(`OCSP (stapled): revoked at ${revokedAt.toISOString()}, superseded`);
      const before = responder.requests();
      const quiet = await check([at('ocsp-revoked'), ...trusted]);
      expect(quiet.code).toBe(0);
      expect(quiet.out).not.toContain('Revocation:');
      expect(responder.requests()).toBe(before);
    });

    it('fetches the CRL with --crl: OK for an unlisted leaf, CRITICAL for a listed one, and prints both in --json', async () => {
      const good = await check([at('crl-good'), ...trusted, '--crl']);
      expect(good.code).toBe(0);
      expect(good.out).toContain(`CRL (${crls.url('ca.crl')}): good; this update`);
      const revoked = await check([at('crl-revoked'), ...trusted, '--crl', '--json']);
      expect(revoked.code).toBe(2);
      const json = JSON.parse(revoked.out) as { status: string; reasons: string[]; revocation: unknown[]; phases: Record<string, number> };
      expect(json.status).toBe('CRITICAL');
      expect(json.reasons).toEqual(['revoked']);
      expect(json.revocation).toEqual([{
        check: 'crl', source: crls.url('ca.crl'), status: 'revoked', thisUpdate: expect.any(String) as string, nextUpdate: expect.any(String) as string,
        revokedAt: revokedAt.toISOString(), revocationReason: 'cessationOfOperation', error: null,
      }]);
      expect(json.phases.crl).toBeGreaterThanOrEqual(0);
    });

    it('prints a CRL that cannot be had as an error, and leaves the exit status to the chain', async () => {
      await crls.close();
      const run = await check([at('crl-good'), ...trusted, '--crl']);
      expect(run.code).toBe(0);
      expect(run.out).toMatch(/CRL \(distribution point\): error: http:\/\/127\.0\.0\.1:\d+\/ca\.crl: ECONNREFUSED/);
    });
  });

  describe('expectations', () => {
    it('says the expectations are met for the pinned leaf under an allowed issuer', async () => {
      const run = await check([at('valid'), ...trusted, '--expected-fingerprint', pki.valid.fingerprintSha256,
        '--allowed-issuer', 'CN=certexp-test Intermediate CA, O=certexp-test', '--max-validity', '100d']);
      expect(run.code).toBe(0);
      expect(run.out).toContain(`Expectations met: pinned to ${pki.valid.fingerprintSha256}; issued under "CN=certexp-test Intermediate CA, O=certexp-test"; valid for at most 100 days`);
    });

    it('is CRITICAL with pin_mismatch, issuer_not_allowed and validity_too_long when they are not met, in text and JSON', async () => {
      const argv = [at('valid'), ...trusted, '--expected-fingerprint', pki.expired.fingerprintSha256, '--allowed-issuer', 'CN=Someone Else', '--max-validity', '30d'];
      const run = await check(argv);
      expect(run.code).toBe(2);
      expect(run.out).toMatch(/does not verify: issuer_not_allowed, pin_mismatch, validity_too_long/);
      expect(run.out).toContain('Expectations NOT met:');
      const json = JSON.parse((await check([...argv, '--json'])).out) as { expectations: unknown };
      expect(json.expectations).toEqual({ expectedFingerprints: [pki.expired.fingerprintSha256], allowedIssuers: ['CN=Someone Else'], maxValidityDays: 30, met: false });
    });
  });

  describe('connection settings, through the daemon\'s config code', () => {
    it('connects to --address instead of the host\'s addresses, keeping the host as the name', async () => {
      const run = await check([`localhost:${ports.valid ?? 0}`, '--ca-file', join(dir, 'root.pem'), '--address', '127.0.0.1'], nothingResolves);
      expect(run.code).toBe(0);
      expect(run.out).toMatch(/^CERTEXP OK - localhost:\d+ \(localhost\) verifies/m);
      expect((await check([`localhost:${ports.valid ?? 0}`, '--ca-file', join(dir, 'root.pem')], nothingResolves)).out).toMatch(/dns_error/);
    });

    it('goes through --proxy-url, which resolves the target\'s name itself', async () => {
      const run = await check([`shop.example:${ports.valid ?? 0}`, ...trusted, '--proxy-url', `http://127.0.0.1:${proxy.port}`]);
      expect(run.code).toBe(0);
      expect(run.out).toContain(`(through proxy 127.0.0.1:${proxy.port})`);
      expect(proxy.requests.map((r) => r.authority)).toContain(`shop.example:${ports.valid ?? 0}`);
    });

    it('presents --cert-file and --key-file to a server that demands a client certificate', async () => {
      // Under TLS 1.2 the server refuses a handshake without a certificate inside it.
      expect((await check([at('mtls'), ...trusted, '--max-version', 'TLS12'])).code).toBe(2);
      const withCertificate = ['--cert-file', join(dir, 'client.pem'), '--key-file', join(dir, 'client.key')];
      expect((await check([at('mtls'), ...trusted, '--max-version', 'TLS12', ...withCertificate])).code).toBe(0);
    });

    it('offers the versions --min-version and --max-version allow', async () => {
      expect((await check([at('valid'), ...trusted, '--max-version', 'TLS12'])).out).toMatch(/: TLSv1\.2, /);
      const refused = await check([at('tls12-only'), ...trusted, '--min-version', 'TLS13']);
      expect(refused.code).toBe(2);
      expect(refused.out).toMatch(/handshake_failed/);
    });
  });

  it.each([
    [['localhost', '--min-version', 'TLS14'], /--min-version: expected one of "TLS10", "TLS11", "TLS12", "TLS13", got "TLS14"/],
    [['localhost', '--expected-fingerprint', 'abc'], /--expected-fingerprint: "abc" is not a SHA-256 fingerprint/],
    [['localhost', '--allowed-issuer', 'Lets Encrypt'], /--allowed-issuer: "Lets Encrypt" is neither a subject/],
    [['localhost', '--max-validity', 'a year'], /--max-validity: /],
    [['localhost', '--ocsp', 'maybe'], /--ocsp: expected one of "stapled", "responder", "none", got "maybe"/],
    [['localhost', '--proxy-url', 'ftp://proxy:21'], /--proxy-url: /],
    [['localhost', '--cert-file', 'client.pem'], /key_file/],
  ])('exits 3 (UNKNOWN) naming the flag for %j', async (argv, message) => {
    const run = await check(argv);
    expect([run.code, run.err]).toEqual([3, expect.stringMatching(message) as string]);
  });
});
