/**
 * `certexp verify` with the offline trust checks: pins, allowed issuers and lifetime, an OCSP
 * response made by `openssl ocsp` and CRLs made by `openssl ca -gencrl` and by pkijs, all
 * judged at --at against the leaf's issuer on the built path.
 */
import { readFile } from 'node:fs/promises';
import { parseCertificate } from '../../src/pki/certificate';
import { buildOcspRequest } from '../../src/pki/ocsp';
import { derToPem } from '../../src/pki/pem';
import { createCrl, opensslCrl } from '../support/crl';
import { OcspFiles } from '../support/ocsp';
import { createCertificate, days, type TestCert } from '../support/pki';
import { buildTestPki, chainPem, type TestPki } from '../support/scenarios';
import { describeWithTool } from '../support/tools';
import { verifyFiles, type VerifyRun } from '../support/verify-run';

let pki: TestPki;
let revoked: TestCert;
const files: Record<string, string | Buffer> = {};
const revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - days(1));

function verify(...argv: string[]): Promise<VerifyRun> {
  return verifyFiles(files, argv, Date.now());
}

const good = ['good.pem', '--ca-file', 'root.pem', '--no-system-roots'];
const bad = ['revoked.pem', '--ca-file', 'root.pem', '--no-system-roots'];

beforeAll(async () => {
  pki = await buildTestPki();
  revoked = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, dnsNames: ['localhost'] });
  Object.assign(files, {
    'root.pem': pki.root.pem,
    'good.pem': chainPem(pki.valid, pki.intermediate),
    'revoked.pem': chainPem(revoked, pki.intermediate),
    'leaf-alone.pem': pki.valid.pem,
    'pkijs.crl': createCrl({ issuer: pki.intermediate, revoked: [{ cert: revoked, revokedAt, reasonCode: 1 }] }),
    'stale.crl': createCrl({ issuer: pki.intermediate, thisUpdate: new Date(Date.now() - days(9)), nextUpdate: new Date(Date.now() - days(2)) }),
    'other-ca.crl': createCrl({ issuer: pki.otherIntermediate }),
  });
});

describe('certexp verify: expectations', () => {
  it('exits 0 and says so when the leaf is pinned, under an allowed issuer, and short-lived enough', async () => {
    const run = await verify(...good, '--expected-fingerprint', pki.valid.fingerprintSha256.replace(/(..)(?!$)/g, '$1:').toUpperCase(),
      '--allowed-issuer', pki.root.fingerprintSha256, '--max-validity', '91d');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^Expectations met: pinned to [0-9A-F:]+; issued under "[0-9a-f]{64}"; valid for at most 91 days$/m);
  });

  it('exits 1 with each reason and its fix when they are not met, and lists them in --json', async () => {
    const run = await verify(...good, '--expected-fingerprint', pki.expired.fingerprintSha256, '--allowed-issuer', 'CN=Other CA', '--max-validity', '30d', '--json');
    expect(run.code).toBe(1);
    const report = JSON.parse(run.out) as { reasons: string[]; expectations: unknown; revocation: unknown[] };
    expect(report.reasons).toEqual(['issuer_not_allowed', 'pin_mismatch', 'validity_too_long']);
    expect(report.expectations).toEqual({ expectedFingerprints: [pki.expired.fingerprintSha256], allowedIssuers: ['CN=Other CA'], maxValidityDays: 30, met: false });
    expect(report.revocation).toEqual([]);
  });

  it('prints no trust checks and null in --json when none was asked for', async () => {
    const run = await verify(...good, '--json');
    expect(JSON.parse(run.out)).toMatchObject({ verified: true, revocation: [], expectations: null });
    expect((await verify(...good)).out).not.toMatch(/Expectations|Revocation/);
  });

  it.each([
    [['--expected-fingerprint', 'abc'], /--expected-fingerprint: "abc" is not a SHA-256 fingerprint/],
    [['--allowed-issuer', 'nobody'], /--allowed-issuer: "nobody" is neither a subject/],
    [['--max-validity', 'forever'], /--max-validity: "forever" is not a duration such as 398d/],
  ])('exits 2 naming the flag for %j', async (flags, message) => {
    const run = await verify(...good, ...flags);
    expect([run.code, run.err]).toEqual([2, expect.stringMatching(message) as string]);
  });
});

describe('certexp verify: a CRL file', () => {
  it('exits 1 with revoked, its time and reason, for a leaf a pkijs CRL lists, and 0 for one it does not', async () => {
    const run = await verify(...bad, '--crl', 'pkijs.crl');
    expect(run.code).toBe(1);
    expect(run.out).toContain(`CRL (pkijs.crl): revoked at ${revokedAt.toISOString()}, keyCompromise`);
    expect(run.out).toMatch(/^FAILED: revoked /m);
    expect((await verify(...good, '--crl', 'pkijs.crl')).code).toBe(0);
  });

  it('prints a stale CRL, or another CA\'s, as an error and leaves the verdict alone', async () => {
    const stale = await verify(...good, '--crl', 'stale.crl');
    expect(stale.code).toBe(0);
    expect(stale.out).toMatch(/CRL \(stale\.crl\): error: the CRL is stale: nextUpdate .* has passed/);
    expect((await verify(...good, '--crl', 'other-ca.crl')).out).toMatch(/CRL \(other-ca\.crl\): error: the CRL is issued by .*Other Intermediate CA/);
  });

  it('says it needs the issuer when the path has none, and exits 2 for a file it cannot read', async () => {
    const alone = await verify('leaf-alone.pem', '--no-system-roots', '--crl', 'pkijs.crl');
    expect(alone.out).toContain("CRL (pkijs.crl): error: no issuer on the path to check it against (give the leaf's issuer with --chain or --ca-file)");
    const missing = await verify(...good, '--crl', 'missing.crl');
    expect([missing.code, missing.err]).toEqual([2, expect.stringMatching(/cannot read missing\.crl: ENOENT/) as string]);
  });
});

describeWithTool('openssl', 'openssl', 'certexp verify: OpenSSL-made OCSP responses and CRLs', () => {
  let ocsp: OcspFiles;

  beforeAll(async () => {
    ocsp = await OcspFiles.create({ ca: pki.intermediate, signer: pki.intermediate }, [{ cert: pki.valid }, { cert: revoked, revokedAt, reason: 'superseded' }]);
    const request = (cert: TestCert): Buffer => buildOcspRequest(parseCertificate(cert.der), parseCertificate(pki.intermediate.der), { nonce: false }).der;
    files['good.ocsp'] = await ocsp.answer(request(pki.valid));
    files['revoked.ocsp'] = await readFile(await ocsp.stapleFor(revoked));
    files['openssl.crl'] = derToPem(await opensslCrl(pki.intermediate, [{ cert: pki.valid }, { cert: revoked, revokedAt, reason: 'affiliationChanged' }]), 'X509 CRL');
  });

  afterAll(async () => {
    await ocsp.remove();
  });

  it('judges --ocsp-response: good verifies, revoked fails with its reason, and another leaf\'s response is an error', async () => {
    const fine = await verify(...good, '--ocsp-response', 'good.ocsp');
    expect(fine.code).toBe(0);
    expect(fine.out).toMatch(/^ {2}OCSP \(good\.ocsp\): good; this update \S+, next update \S+$/m);
    const run = await verify(...bad, '--ocsp-response', 'revoked.ocsp', '--json');
    expect(run.code).toBe(1);
    expect((JSON.parse(run.out) as { revocation: unknown[] }).revocation).toEqual([expect.objectContaining({
      check: 'ocsp', source: 'revoked.ocsp', status: 'revoked', revokedAt: revokedAt.toISOString(), revocationReason: 'superseded',
    })]);
    expect((await verify(...good, '--ocsp-response', 'revoked.ocsp')).out).toContain('OCSP (revoked.ocsp): error: the response says nothing about this certificate');
  });

  it('looks the leaf up in a PEM CRL from openssl ca -gencrl, and takes both files at once', async () => {
    const run = await verify(...bad, '--crl', 'openssl.crl', '--ocsp-response', 'revoked.ocsp');
    expect(run.code).toBe(1);
    expect(run.out).toContain(`CRL (openssl.crl): revoked at ${revokedAt.toISOString()}, affiliationChanged`);
    expect(run.out).toContain('OCSP (revoked.ocsp): revoked');
    expect((await verify(...good, '--crl', 'openssl.crl')).code).toBe(0);
  });
});
