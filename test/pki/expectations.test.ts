import { createHash, createPublicKey } from 'node:crypto';
import { ChainAnalyzer, type AnalyzeInput } from '../../src/pki/analyze-chain';
import { parseCertificate } from '../../src/pki/certificate';
import { CertificateCache } from '../../src/pki/certificate-cache';
import { parseDistinguishedName } from '../../src/pki/distinguished-name';
import { parseFingerprint, parseIssuerPattern, type ChainExpectations, type IssuerPattern } from '../../src/pki/expectations';
import { SignatureVerifier } from '../../src/pki/signature';
import { TrustStore } from '../../src/pki/trust-store';
import { createCertificate, days, hours, type TestCert } from '../support/pki';
import { buildTestPki, INTERMEDIATE_CN, ROOT_CN, type TestPki } from '../support/scenarios';

let pki: TestPki;
const analyzer = new ChainAnalyzer(new CertificateCache(), new SignatureVerifier());

beforeAll(async () => {
  pki = await buildTestPki();
});

/** SHA-256 of the leaf's SubjectPublicKeyInfo as OpenSSL encodes it: what `openssl pkey -pubin -outform der | openssl dgst -sha256` prints. */
function spkiPin(cert: TestCert): string {
  const spki = createPublicKey({ key: cert.pem, format: 'pem' }).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

function issuer(text: string): IssuerPattern {
  const pattern = parseIssuerPattern(text);
  if ('error' in pattern) throw new Error(pattern.error);
  return pattern;
}

function reasons(chain: readonly TestCert[], expectations: ChainExpectations, anchors: readonly TestCert[] = [pki.root], more: Partial<AnalyzeInput> = {}): readonly string[] {
  return analyze(chain, expectations, anchors, more).reasons;
}

function analyze(chain: readonly TestCert[], expectations: ChainExpectations, anchors: readonly TestCert[], more: Partial<AnalyzeInput> = {}) {
  return analyzer.analyze({
    chain: chain.map((c) => c.der),
    trust: new TrustStore(anchors.map((a) => parseCertificate(a.der))),
    serverName: 'localhost',
    at: pki.now.getTime(),
    expectations,
    ...more,
  });
}

const colons = (hex: string): string => hex.toUpperCase().replace(/(..)(?!$)/g, '$1:');

describe('expected_fingerprints (pin_mismatch)', () => {
  it('verifies when a pin is the leaf certificate\'s SHA-256, in hex or OpenSSL\'s colon form', () => {
    expect(reasons([pki.valid, pki.intermediate], { fingerprints: [pki.valid.fingerprintSha256] })).toEqual([]);
    const colonPin = parseFingerprint(colons(pki.valid.fingerprintSha256));
    expect(colonPin).toBe(pki.valid.fingerprintSha256);
    expect(reasons([pki.valid, pki.intermediate], { fingerprints: [colonPin ?? ''] })).toEqual([]);
  });

  it('verifies a renewed certificate with the same key when the pin is of the key (SPKI), not of the certificate', async () => {
    const renewed = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, key: pki.valid.key, dnsNames: ['localhost'] });
    expect(reasons([renewed, pki.intermediate], { fingerprints: [spkiPin(pki.valid)] })).toEqual([]);
    expect(reasons([renewed, pki.intermediate], { fingerprints: [pki.valid.fingerprintSha256] })).toEqual(['pin_mismatch']);
  });

  it('reports pin_mismatch when the leaf matches no pin, alongside the other reasons', () => {
    expect(reasons([pki.valid, pki.intermediate], { fingerprints: ['00'.repeat(32)] })).toEqual(['pin_mismatch']);
    expect(reasons([pki.expired, pki.intermediate], { fingerprints: ['00'.repeat(32)] })).toEqual(['expired', 'pin_mismatch']);
  });

  it('pins the leaf only: the intermediate\'s fingerprint does not satisfy a pin', () => {
    expect(reasons([pki.valid, pki.intermediate], { fingerprints: [pki.intermediate.fingerprintSha256, spkiPin(pki.intermediate)] })).toEqual(['pin_mismatch']);
  });

  it('checks nothing when the list is empty', () => {
    expect(reasons([pki.valid, pki.intermediate], { fingerprints: [] })).toEqual([]);
  });

  it.each([
    ['a truncated hex string', 'abcd'],
    ['65 hex digits', 'a'.repeat(65)],
    ['colons in the wrong places', 'abc:d'.repeat(13)],
    ['a base64 pin', 'sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
  ])('accepts no fingerprint when given %s', (_title, text) => {
    expect(parseFingerprint(text)).toBeUndefined();
  });
});

describe('allowed_issuers (issuer_not_allowed)', () => {
  it('verifies when the intermediate is allowed by subject, in any order, case and spacing', () => {
    for (const text of [`CN=${INTERMEDIATE_CN}, O=certexp-test`, `o = CERTEXP-TEST, cn = ${INTERMEDIATE_CN.toUpperCase()}`, `/O=certexp-test/CN=${INTERMEDIATE_CN}`]) {
      expect([text, reasons([pki.valid, pki.intermediate], { allowedIssuers: [issuer(text)] })]).toEqual([text, []]);
    }
  });

  it('verifies when the root is allowed by certificate or key fingerprint, or by subject', () => {
    for (const text of [pki.root.fingerprintSha256, colons(spkiPin(pki.root)), `CN=${ROOT_CN},O=certexp-test`]) {
      expect([text, reasons([pki.valid, pki.intermediate], { allowedIssuers: [issuer(text)] })]).toEqual([text, []]);
    }
  });

  it('reports issuer_not_allowed when no CA on the path is allowed', () => {
    const allowedIssuers = [issuer('CN=Some Other CA, O=certexp-test'), issuer(pki.otherRoot.fingerprintSha256)];
    expect(reasons([pki.valid, pki.intermediate], { allowedIssuers })).toEqual(['issuer_not_allowed']);
  });

  it('does not take a subject that only partly matches: every attribute must agree', () => {
    expect(reasons([pki.valid, pki.intermediate], { allowedIssuers: [issuer(`CN=${INTERMEDIATE_CN}`)] })).toEqual(['issuer_not_allowed']);
  });

  it('does not allow the leaf itself by its fingerprint: the leaf is not its own issuer', () => {
    expect(reasons([pki.valid, pki.intermediate], { allowedIssuers: [issuer(pki.valid.fingerprintSha256)] })).toEqual(['issuer_not_allowed']);
  });

  it('matches the issuer name when the server sends no intermediate, reporting only the missing intermediate', () => {
    const allowedIssuers = [issuer(`CN=${INTERMEDIATE_CN}, O=certexp-test`)];
    expect(reasons([pki.valid], { allowedIssuers })).toEqual(['missing_intermediate']);
    expect(reasons([pki.valid], { allowedIssuers: [issuer('CN=Some Other CA')] })).toEqual(['issuer_not_allowed', 'missing_intermediate']);
  });

  it('builds the path through the allowed root when a cross-signed intermediate offers two', async () => {
    const crossSigned = await createCertificate({ subjectCn: INTERMEDIATE_CN, key: pki.intermediate.key, issuer: pki.otherRoot, ca: true });
    const chain = [pki.valid, pki.intermediate, crossSigned];
    const anchors = [pki.root, pki.otherRoot];
    const viaOther = analyze(chain, { allowedIssuers: [issuer(pki.otherRoot.fingerprintSha256)] }, anchors);
    expect(viaOther.reasons).toEqual([]);
    expect(viaOther.path.map((c) => c.fingerprintSha256)).toEqual([pki.valid, crossSigned, pki.otherRoot].map((c) => c.fingerprintSha256));
    const viaRoot = analyze(chain, { allowedIssuers: [issuer(pki.root.fingerprintSha256)] }, anchors);
    expect(viaRoot.path.map((c) => c.fingerprintSha256)).toEqual([pki.valid, pki.intermediate, pki.root].map((c) => c.fingerprintSha256));
  });

  it.each([
    ['a bare name', 'Lets Encrypt', '"Lets Encrypt" is neither a subject (CN=..., O=...) nor a SHA-256 fingerprint (64 hex digits, colons allowed)'],
    ['an unknown attribute type', 'CN=R3, XX=1', 'subject "CN=R3, XX=1": unknown attribute type "XX" (known: CN, O, OU, C, L, ST, DC, serialNumber, emailAddress, or a dotted OID)'],
    ['a part without a type', 'CN=R3, Inc.', 'subject "CN=R3, Inc.": "Inc." is not TYPE=value'],
  ])('explains what an entry should be when given %s', (_title, text, error) => {
    expect(parseIssuerPattern(text)).toEqual({ error });
  });
});

describe('parseDistinguishedName', () => {
  it('decodes quotes and RFC 4514 escapes, including UTF-8 in hex, when a value holds a comma or non-ASCII', () => {
    const quoted = parseDistinguishedName('O="Example, Inc.", CN=caf\\C3\\A9 \\+ more');
    const escaped = parseDistinguishedName('CN=café + more, O=Example\\, Inc.');
    expect(quoted).toEqual({ attributes: ['2.5.4.10=example, inc.', '2.5.4.3=café + more'] });
    expect(escaped).toEqual(quoted);
  });

  it('accepts long attribute names and dotted OIDs', () => {
    expect(parseDistinguishedName('commonName=x, 2.5.4.10=y')).toEqual({ attributes: ['2.5.4.10=y', '2.5.4.3=x'] });
  });
});

describe('max_validity (validity_too_long)', () => {
  const lifetime = async (ms: number): Promise<TestCert> => {
    const notBefore = new Date(pki.now.getTime() - hours(1));
    return createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, notBefore, notAfter: new Date(notBefore.getTime() + ms) });
  };

  it('allows exactly 398 days counted with both ends inclusive, and reports one second more', async () => {
    const limit = { maxValidityMs: days(398) };
    expect(reasons([await lifetime(days(398) - 1000), pki.intermediate], limit)).toEqual([]);
    expect(reasons([await lifetime(days(398)), pki.intermediate], limit)).toEqual(['validity_too_long']);
  });

  it('holds only the leaf to the limit: a five-year intermediate is fine', () => {
    expect(reasons([pki.valid, pki.intermediate], { maxValidityMs: days(100) })).toEqual([]);
  });

  it('checks no lifetime when max_validity is not set', async () => {
    expect(reasons([await lifetime(days(825)), pki.intermediate], {})).toEqual([]);
  });
});
