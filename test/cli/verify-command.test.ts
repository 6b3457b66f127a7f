import { createCertificate, days, type TestCert } from '../support/pki';
import { buildTestPki, chainPem, type TestPki } from '../support/scenarios';
import { verifyFiles, type VerifyRun } from '../support/verify-run';

let pki: TestPki;
let sha1Leaf: TestCert;

beforeAll(async () => {
  pki = await buildTestPki();
  sha1Leaf = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, dnsNames: ['localhost'], signatureHash: 'SHA-1' });
});

/** runVerify over in-memory files, at the test PKI's clock. */
function verify(files: Record<string, string | Buffer>, ...argv: string[]): Promise<VerifyRun> {
  return verifyFiles(files, argv, pki.now.getTime());
}

const trusted = ['--ca-file', 'root.pem', '--no-system-roots'];

describe('certexp verify', () => {
  it('exits 0 and prints the path with days left when a full-chain file verifies', async () => {
    const run = await verify({ 'leaf.pem': chainPem(pki.valid, pki.intermediate), 'root.pem': pki.root.pem }, 'leaf.pem', ...trusted, '--name', 'localhost');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^Path \(3 certificates, ends at a trust anchor\):/);
    expect(run.out).toMatch(/\[2\] O=certexp-test, CN=certexp-test Root CA {2}\(trust anchor\)/);
    expect(run.out).toMatch(/\(90 days left\)/);
    expect(run.out).toMatch(/^OK: the chain verifies \(at .*, name localhost, policy web\)$/m);
  });

  it('takes the intermediates from --chain and answers for another day with --at', async () => {
    const files = { 'leaf.pem': pki.valid.pem, 'chain.pem': pki.intermediate.pem, 'root.pem': pki.root.pem };
    const later = new Date(pki.now.getTime() + days(91)).toISOString();
    const run = await verify(files, 'leaf.pem', '--chain', 'chain.pem', ...trusted, '--at', later);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/^FAILED: expired \(at .*, no name checked, policy web\)$/m);
    expect(run.out).toMatch(/^ {2}expired: a certificate on the chain is past its notAfter: renew it/m);
  });

  it('prints JSON with verdict, reasons, fixes and the path for scripts', async () => {
    const run = await verify({ 'leaf.pem': pki.valid.pem, 'root.pem': pki.root.pem }, 'leaf.pem', ...trusted, '--name', 'localhost', '--json');
    expect(run.code).toBe(1);
    const report = JSON.parse(run.out) as { verified: boolean; reasons: string[]; fixes: Record<string, string>; path: { subject: string; daysLeft: number; anchor: boolean }[] };
    expect(report.verified).toBe(false);
    expect(report.reasons).toEqual(['missing_intermediate']);
    expect(report.fixes.missing_intermediate).toMatch(/serve the full chain/);
    expect(report.path.map((c) => [c.daysLeft, c.anchor])).toEqual([[90, false]]);
  });

  it('checks the name only when --name is given', async () => {
    const files = { 'leaf.pem': chainPem(pki.wrongName, pki.intermediate), 'root.pem': pki.root.pem };
    expect((await verify(files, 'leaf.pem', ...trusted)).code).toBe(0);
    const run = await verify(files, 'leaf.pem', ...trusted, '--name', 'localhost');
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/FAILED: hostname_mismatch/);
  });

  it('reads a DER leaf and lists presented certificates the path did not use', async () => {
    const files = { 'leaf.der': pki.valid.der, 'chain.pem': chainPem(pki.otherRoot, pki.intermediate), 'root.pem': pki.root.pem };
    const run = await verify(files, 'leaf.der', '--chain', 'chain.pem', ...trusted);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/not on the path: presented #1 O=certexp-test, CN=certexp-test Other Root CA/);
  });

  it('applies the Web PKI profile unless --policy rfc5280 relaxes it', async () => {
    const files = { 'leaf.pem': chainPem(sha1Leaf, pki.intermediate), 'root.pem': pki.root.pem };
    expect((await verify(files, 'leaf.pem', ...trusted)).out).toMatch(/FAILED: weak_signature/);
    expect((await verify(files, 'leaf.pem', ...trusted, '--policy', 'rfc5280')).code).toBe(0);
  });

  it('reports chain_too_long past --max-depth', async () => {
    const files = { 'leaf.pem': chainPem(pki.valid, pki.intermediate), 'root.pem': pki.root.pem };
    const run = await verify(files, 'leaf.pem', ...trusted, '--max-depth', '0');
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/FAILED: chain_too_long/);
  });

  it('does not trust the system roots for a private chain', async () => {
    const run = await verify({ 'leaf.pem': chainPem(pki.valid, pki.intermediate) }, 'leaf.pem');
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/FAILED: untrusted_root/);
  });

  it.each<[string, Record<string, string>, string[], RegExp]>([
    ['the leaf file is missing', {}, ['leaf.pem'], /^certexp verify: cannot read leaf\.pem: ENOENT/],
    ['the leaf file holds no certificate', { 'leaf.pem': 'hello' }, ['leaf.pem'], /leaf\.pem holds no certificate/],
    ['the leaf is not X.509', { 'leaf.pem': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }, ['leaf.pem'], /the leaf is not an X\.509 certificate/],
    ['--at is not a time', { 'leaf.pem': 'x' }, ['leaf.pem', '--at', 'tomorrow'], /--at tomorrow: not an ISO-8601 time[\s\S]*Usage: certexp verify/],
    ['--policy is unknown', { 'leaf.pem': 'x' }, ['leaf.pem', '--policy', 'strict'], /--policy strict: want web or rfc5280/],
    ['a flag is unknown', { 'leaf.pem': 'x' }, ['leaf.pem', '--nope'], /Unknown option '--nope'/],
    ['no leaf is given', {}, [], /give exactly one LEAF\.pem/],
  ])('exits 2 with a clear message when %s', async (_title, files, argv, message) => {
    const run = await verify(files, ...argv);
    expect(run.code).toBe(2);
    expect(run.out).toBe('');
    expect(run.err).toMatch(message);
  });
});
