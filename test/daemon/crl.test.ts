/**
 * CRL checking end to end: the daemon probing real loopback TLS servers whose leaves name a CRL
 * distribution point on 127.0.0.1 (serving CRLs from `openssl ca -gencrl` and from pkijs, or
 * failing), and what /metrics and the logs then say.
 */
import { derToPem } from '../../src/pki/pem';
import { createCrl, crlDistributionPointsExtension, opensslCrl, startCrlServer, type CrlServer } from '../support/crl';
import { startHarness, waitFor, type Harness } from '../support/daemon-harness';
import { select, value, type Sample } from '../support/metrics-text';
import { createCertificate, days, type TestCert } from '../support/pki';
import { freePort } from '../support/ports';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { startTlsServer, type TlsTestServer } from '../support/tls-server';
import { describeWithTool } from '../support/tools';

describeWithTool('openssl', 'openssl', 'the daemon checking revocation with CRLs', () => {
  let pki: TestPki;
  let crls: CrlServer;
  let harness: Harness;
  const servers: TlsTestServer[] = [];
  let samples: Sample[];
  let startedAt: number;

  const statusOf = (target: string): string[] => select(samples, 'certexp_crl_status', { target }).filter((s) => s.value === 1).map((s) => s.labels.status ?? '');
  const reasonsOf = (target: string): string[] => select(samples, 'certexp_verify_failure', { target }).map((s) => s.labels.reason ?? '').sort();

  beforeAll(async () => {
    pki = await buildTestPki();
    crls = await startCrlServer();
    const down = `http://127.0.0.1:${await freePort()}/ca.crl`;
    const leaf = (url: string): Promise<TestCert> =>
      createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, dnsNames: ['localhost'], extraExtensions: [crlDistributionPointsExtension([url])] });
    const [good, revoked, unreachable, wrongKey, expired, pkijsRevoked] = await Promise.all([
      leaf(crls.url('openssl.crl')), leaf(crls.url('openssl.crl')), leaf(down), leaf(crls.url('wrong-key.crl')), leaf(crls.url('expired.crl')), leaf(crls.url('pkijs.crl')),
    ]);
    crls.serve('openssl.crl', await opensslCrl(pki.intermediate, [{ cert: good }, { cert: revoked, revokedAt: new Date(Date.now() - days(1)), reason: 'keyCompromise' }], 24));
    const stranger = await createCertificate({ subjectCn: 'stranger', ca: true });
    crls.serve('wrong-key.crl', createCrl({ issuer: pki.intermediate, signer: stranger.key }));
    crls.serve('expired.crl', createCrl({ issuer: pki.intermediate, thisUpdate: new Date(Date.now() - days(8)), nextUpdate: new Date(Date.now() - days(1)) }));
    crls.serve('pkijs.crl', createCrl({ issuer: pki.intermediate, revoked: [{ cert: pkijsRevoked, revokedAt: new Date(Date.now() - days(1)), reasonCode: 4 }] }));

    const targets: string[] = [];
    const serve = async (name: string, chainLeaf: TestCert, more = ''): Promise<void> => {
      const server = await startTlsServer({ key: chainLeaf.key, chain: [chainLeaf, pki.intermediate] });
      servers.push(server);
      targets.push(`  - { name: ${name}, host: 127.0.0.1, port: ${server.port}, server_name: localhost${more} }`);
    };
    await serve('crl-good', good);
    await serve('crl-revoked', revoked);
    await serve('crl-down', unreachable);
    await serve('crl-wrong-key', wrongKey);
    await serve('crl-expired', expired);
    await serve('crl-pkijs-revoked', pkijsRevoked);
    await serve('revoked-not-checked', revoked, ', crl: none');
    await serve('no-distribution-point', pki.valid);

    startedAt = Date.now();
    const config = ['defaults:', '  interval: 1s', '  timeout: 1s', '  ocsp: none', '  crl: distribution_point', '  ca_file: root.pem', 'targets:', ...targets, ''].join('\n');
    harness = await startHarness(config, { 'root.pem': derToPem(pki.root.der) });
    await waitFor('two probes of every target', async () => {
      ({ samples } = await harness.scrape());
      return select(samples, 'certexp_probes_total').filter((s) => s.value >= 2).length === targets.length;
    }, 15_000);
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await (crls as CrlServer | undefined)?.close();
    await (harness as Harness | undefined)?.close();
  });

  it('reports good and the CRL\'s nextUpdate for a leaf the OpenSSL CRL does not list, and times the fetch', () => {
    expect(statusOf('crl-good')).toEqual(['good']);
    expect(select(samples, 'certexp_crl_status', { target: 'crl-good' }).map((s) => s.labels.status)).toEqual(['good', 'revoked', 'error']);
    const nextUpdate = value(samples, 'certexp_crl_next_update_timestamp_seconds', { target: 'crl-good' }) * 1000;
    expect(nextUpdate).toBeGreaterThan(startedAt + days(1) - 120_000);
    expect(nextUpdate).toBeLessThan(Date.now() + days(1) + 60_000);
    expect(value(samples, 'certexp_verify_success', { target: 'crl-good' })).toBe(1);
    expect(value(samples, 'certexp_probe_duration_seconds', { target: 'crl-good', phase: 'crl' })).toBeGreaterThanOrEqual(0);
  });

  it('fails verification with revoked for a leaf listed by OpenSSL\'s CRL or by pkijs\'s, keeping its expiry series', () => {
    for (const target of ['crl-revoked', 'crl-pkijs-revoked']) {
      expect([target, statusOf(target), reasonsOf(target)]).toEqual([target, ['revoked'], ['revoked']]);
      expect(value(samples, 'certexp_verify_success', { target })).toBe(0);
      expect(value(samples, 'certexp_verify_failures_total', { target, reason: 'revoked' })).toBeGreaterThanOrEqual(2);
      expect(select(samples, 'certexp_cert_not_after_timestamp_seconds', { target })).toHaveLength(2);
    }
  });

  it('fetches a distribution point once for every target and probe while its CRL is fresh', () => {
    // crl-good and crl-revoked name the same CRL, and each has been probed at least twice.
    expect(crls.requests('openssl.crl')).toBe(1);
    expect(crls.requests('pkijs.crl')).toBe(1);
  });

  it('reports a server that is down, a CRL signed by another key and an expired CRL as status error, never as a failed probe or verification', () => {
    for (const target of ['crl-down', 'crl-wrong-key', 'crl-expired']) {
      expect([target, statusOf(target)]).toEqual([target, ['error']]);
      expect([target, select(samples, 'certexp_crl_next_update_timestamp_seconds', { target })]).toEqual([target, []]);
      expect([target, value(samples, 'certexp_probe_success', { target }), value(samples, 'certexp_verify_success', { target })]).toEqual([target, 1, 1]);
    }
  });

  it('logs a failing CRL check once, with what went wrong, not once per probe', () => {
    const lines = harness.logs.filter((l) => l.target === 'crl-down' && l.msg === 'revocation check failing');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ check: 'crl', error: expect.stringMatching(/\/ca\.crl: ECONNREFUSED$/) as string });
  });

  it('checks nothing with crl: none, and exports no CRL series for a leaf that names no distribution point', () => {
    for (const target of ['revoked-not-checked', 'no-distribution-point']) {
      expect([target, select(samples, 'certexp_crl_status', { target }), value(samples, 'certexp_verify_success', { target })]).toEqual([target, [], 1]);
      expect(select(samples, 'certexp_probe_duration_seconds', { target, phase: 'crl' })).toEqual([]);
    }
  });
});
