import { createHash, createPublicKey } from 'node:crypto';
import { derToPem } from '../../src/pki/pem';
import { startHarness, waitFor, type Harness } from '../support/daemon-harness';
import { select, value, type Sample } from '../support/metrics-text';
import { createCertificate, days, type TestCert } from '../support/pki';
import { buildTestPki, INTERMEDIATE_CN, type TestPki } from '../support/scenarios';
import { startTlsServer, type TlsTestServer } from '../support/tls-server';

/** SHA-256 of the certificate's public key (SPKI), as `openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256` gives it. */
function spkiPin(cert: TestCert): string {
  return createHash('sha256').update(createPublicKey(cert.pem).export({ type: 'spki', format: 'der' })).digest('hex');
}

describe('the daemon holding real servers to pins, allowed issuers and max_validity', () => {
  let pki: TestPki;
  let harness: Harness;
  let longLived: TestCert;
  const servers: TlsTestServer[] = [];
  const ports = new Map<string, number>();
  let samples: Sample[];

  const reasonsOf = (target: string): string[] => select(samples, 'certexp_verify_failure', { target }).map((s) => s.labels.reason ?? '').sort();

  function config(pinnedWrong: string): string {
    const target = (name: string, more: string): string => `  - { name: ${name}, host: 127.0.0.1, port: ${ports.get(name) ?? 0}, server_name: localhost${more} }`;
    return [
      'defaults:', '  interval: 1s', '  timeout: 1s', '  ca_file: root.pem', '  max_validity: 398d', 'targets:',
      target('pinned', `, expected_fingerprints: ["${spkiPin(pki.valid)}"]`),
      target('pinned-wrong', `, expected_fingerprints: ["${pinnedWrong}"]`),
      target('issuer-allowed', `, allowed_issuers: ["CN=${INTERMEDIATE_CN}, O=certexp-test"]`),
      target('issuer-not-allowed', `, allowed_issuers: ["${pki.otherRoot.fingerprintSha256}"]`),
      target('too-long', ''),
      target('too-long-allowed', ', max_validity: 1000d'),
      '',
    ].join('\n');
  }

  beforeAll(async () => {
    pki = await buildTestPki();
    longLived = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, notAfter: new Date(pki.now.getTime() + days(400)) });
    const chains: Record<string, TestCert[]> = {
      'pinned': [pki.valid, pki.intermediate],
      'pinned-wrong': [pki.valid, pki.intermediate],
      'issuer-allowed': [pki.valid, pki.intermediate],
      'issuer-not-allowed': [pki.valid, pki.intermediate],
      'too-long': [longLived, pki.intermediate],
      'too-long-allowed': [longLived, pki.intermediate],
    };
    for (const [name, chain] of Object.entries(chains)) {
      const server = await startTlsServer({ key: (chain[0] as TestCert).key, chain });
      servers.push(server);
      ports.set(name, server.port);
    }
    harness = await startHarness(config(pki.expired.fingerprintSha256), { 'root.pem': derToPem(pki.root.der) });
    await waitFor('a probe of every target', async () => {
      ({ samples } = await harness.scrape());
      return [...ports.keys()].every((target) => select(samples, 'certexp_verify_success', { target }).length === 1);
    });
  });

  afterAll(async () => {
    await harness.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  it('verifies a leaf whose key is pinned, and reports pin_mismatch for one that matches no pin', () => {
    expect(value(samples, 'certexp_verify_success', { target: 'pinned' })).toBe(1);
    expect(reasonsOf('pinned-wrong')).toEqual(['pin_mismatch']);
    expect(value(samples, 'certexp_verify_success', { target: 'pinned-wrong' })).toBe(0);
  });

  it('verifies a chain through an allowed CA, and reports issuer_not_allowed for one through no allowed CA', () => {
    expect(value(samples, 'certexp_verify_success', { target: 'issuer-allowed' })).toBe(1);
    expect(reasonsOf('issuer-not-allowed')).toEqual(['issuer_not_allowed']);
  });

  it('reports validity_too_long for a 400-day leaf under the default 398d, and not where a target allows more', () => {
    expect(reasonsOf('too-long')).toEqual(['validity_too_long']);
    expect(value(samples, 'certexp_verify_success', { target: 'too-long-allowed' })).toBe(1);
  });

  it('keeps the certificate series of a chain that breaks an expectation, so expiry alerts still work', () => {
    expect(value(samples, 'certexp_cert_remaining_days', { target: 'pinned-wrong' })).toBeCloseTo(90, 0);
    expect(select(samples, 'certexp_cert_not_after_timestamp_seconds', { target: 'pinned-wrong' })).toHaveLength(2);
  });

  it('drops the old verdict and verifies on the new pins when a reload changes them', async () => {
    await harness.writeConfig(config(pki.valid.fingerprintSha256));
    const reload = await harness.app.inject({ method: 'POST', url: '/-/reload' });
    expect(reload.statusCode).toBe(200);
    await waitFor('pinned-wrong to verify on its new pin', async () => {
      ({ samples } = await harness.scrape());
      return select(samples, 'certexp_verify_success', { target: 'pinned-wrong' }).some((s) => s.value === 1);
    });
    expect(select(samples, 'certexp_verify_failures_total', { target: 'pinned-wrong' })).toEqual([]);
  });
});
