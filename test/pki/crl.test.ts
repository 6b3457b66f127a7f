import { parseCertificate, type ParsedCertificate } from '../../src/pki/certificate';
import { crlDistributionPoints, crlVerdict, readCrl, type CheckedCrl, type CrlVerdict } from '../../src/pki/crl';
import { derToPem } from '../../src/pki/pem';
import { REVOCATION_CLOCK_SKEW_MS } from '../../src/pki/revocation';
import {
  createCrl, crlDistributionPointsExtension, deltaCrlIndicatorExtension, issuingDistributionPointExtension, opensslCrl, type CrlOptions,
} from '../support/crl';
import { createCertificate, days, hours, type TestCert } from '../support/pki';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { describeWithTool } from '../support/tools';

const URL = 'http://127.0.0.1:9/ca.crl';

let pki: TestPki;
let leaf: TestCert;
let other: TestCert;
let issuer: ParsedCertificate;
const revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - days(2));

beforeAll(async () => {
  pki = await buildTestPki();
  const make = (): Promise<TestCert> => createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, extraExtensions: [crlDistributionPointsExtension([URL])] });
  [leaf, other] = await Promise.all([make(), make()]);
  issuer = parseCertificate(pki.intermediate.der);
});

function checked(body: Buffer, names: readonly string[] = [URL]): CheckedCrl {
  const crl = readCrl(body, issuer, names);
  if ('error' in crl) throw new Error(crl.error);
  return crl;
}

/** The verdict on `cert` of a pkijs CRL by the intermediate, listing `leaf` (keyCompromise) unless told otherwise. */
function verdict(options: Partial<CrlOptions>, cert: TestCert = leaf, at = Date.now()): CrlVerdict {
  const crl = readCrl(createCrl({ issuer: pki.intermediate, revoked: [{ cert: leaf, revokedAt, reasonCode: 1 }], ...options }), issuer, [URL]);
  return 'error' in crl ? { status: 'error', error: crl.error } : crlVerdict(crl, parseCertificate(cert.der), at);
}

describe('crlDistributionPoints', () => {
  it('reads http URLs with their point\'s names, and lists what it will not fetch', async () => {
    const ldap = 'ldap://ldap.example/cn=CA?certificateRevocationList';
    const mixed = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, extraExtensions: [crlDistributionPointsExtension([ldap, URL], ['https://127.0.0.1/ca.crl'])] });
    expect(crlDistributionPoints(parseCertificate(mixed.der))).toEqual({ http: [{ url: URL, names: [ldap, URL] }], unsupported: [ldap, 'https://127.0.0.1/ca.crl'] });
    expect(crlDistributionPoints(parseCertificate(leaf.der))).toEqual({ http: [{ url: URL, names: [URL] }], unsupported: [] });
    expect(crlDistributionPoints(parseCertificate(pki.valid.der))).toEqual({ http: [], unsupported: [] });
  });
});

describeWithTool('openssl', 'openssl', 'CRLs made by openssl ca -gencrl', () => {
  it('says revoked, with the reason and date, for a listed leaf, and good for another, until nextUpdate', async () => {
    const crl = checked(await opensslCrl(pki.intermediate, [{ cert: leaf, revokedAt, reason: 'keyCompromise' }, { cert: other }], 24));
    expect(crlVerdict(crl, parseCertificate(leaf.der), Date.now())).toMatchObject({ status: 'revoked', revokedAt: revokedAt.getTime(), revocationReason: 'keyCompromise' });
    const good = crlVerdict(crl, parseCertificate(other.der), Date.now());
    expect(good).toMatchObject({ status: 'good' });
    expect(good.status === 'good' && good.nextUpdate).toBeGreaterThan(Date.now() + hours(23));
  });

  it('reads a CRL with no entries, in PEM as well as DER', async () => {
    const der = await opensslCrl(pki.intermediate, [{ cert: other }]);
    const pem = Buffer.from(`# fetched from ${URL}\n${derToPem(der, 'X509 CRL')}`);
    expect(crlVerdict(checked(pem), parseCertificate(leaf.der), Date.now())).toMatchObject({ status: 'good' });
  });

  it('reads a CRL of 5,000 entries, beyond the 10,000 nodes asn1js parses', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ cert: { ...other, serialHex: (0x10000000 + i).toString(16).padStart(32, '1') }, revokedAt, reason: 'superseded' }));
    const crl = checked(await opensslCrl(pki.intermediate, [...many, { cert: leaf, revokedAt, reason: 'cessationOfOperation' }]));
    expect(crl.revoked.size).toBe(5001);
    expect(crlVerdict(crl, parseCertificate(leaf.der), Date.now())).toMatchObject({ status: 'revoked', revocationReason: 'cessationOfOperation' });
    expect(crlVerdict(crl, parseCertificate(other.der), Date.now())).toMatchObject({ status: 'good' });
  });

  it('rejects an OpenSSL CRL of another CA', async () => {
    expect(readCrl(await opensslCrl(pki.otherIntermediate, []), issuer, [URL])).toEqual({ error: expect.stringMatching(/^the CRL is issued by .*Other Intermediate CA, not by the leaf's issuer$/) as string });
  });
});

describe('CRLs made with pkijs', () => {
  it('agrees with OpenSSL on revoked and good', () => {
    expect(verdict({})).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise', revokedAt: revokedAt.getTime() });
    expect(verdict({}, other)).toMatchObject({ status: 'good' });
    expect(verdict({ revoked: [{ cert: leaf, revokedAt }] })).toMatchObject({ status: 'revoked', revocationReason: undefined });
  });

  it('rejects a CRL signed by a key other than the issuer\'s', async () => {
    const wrong = await createCertificate({ subjectCn: 'x', ca: true });
    expect(verdict({ signer: wrong.key })).toEqual({ status: 'error', error: "the CRL's signature does not verify with the key of the leaf's issuer" });
  });

  it('rejects a CRL when the issuer may not sign CRLs', async () => {
    const noCrlSign = await createCertificate({ subjectCn: 'certexp-test Intermediate CA', issuer: pki.root, ca: true, key: pki.intermediate.key, keyUsage: ['keyCertSign'] });
    const crl = createCrl({ issuer: pki.intermediate });
    expect(readCrl(crl, parseCertificate(noCrlSign.der), [URL])).toEqual({ error: "the leaf's issuer may not sign CRLs (its keyUsage lacks cRLSign)" });
  });

  it('calls a CRL past its nextUpdate stale for a leaf it does not list, keeps a listed revocation, but not a hold', () => {
    const stale = { thisUpdate: new Date(Date.now() - days(3)), nextUpdate: new Date(Date.now() - days(1)) };
    expect(verdict(stale, other)).toEqual({ status: 'error', error: expect.stringMatching(/^the CRL is stale: nextUpdate .* has passed$/) as string });
    expect(verdict(stale)).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise' });
    expect(verdict({ ...stale, revoked: [{ cert: leaf, revokedAt, reasonCode: 6 }] })).toMatchObject({ status: 'error' });
    expect(verdict({ revoked: [{ cert: leaf, revokedAt, reasonCode: 6 }] })).toMatchObject({ status: 'revoked', revocationReason: 'certificateHold' });
  });

  it('tolerates clock skew at both ends, and no further', () => {
    const nextUpdate = Date.now() + hours(1);
    expect(verdict({ nextUpdate: new Date(nextUpdate) }, other, nextUpdate + REVOCATION_CLOCK_SKEW_MS - 60_000)).toMatchObject({ status: 'good' });
    expect(verdict({ nextUpdate: new Date(nextUpdate) }, other, nextUpdate + REVOCATION_CLOCK_SKEW_MS + 60_000)).toMatchObject({ status: 'error' });
    const future = { thisUpdate: new Date(Date.now() + REVOCATION_CLOCK_SKEW_MS + 120_000) };
    expect(verdict(future, other)).toEqual({ status: 'error', error: expect.stringMatching(/^thisUpdate .* is in the future$/) as string });
    expect(verdict({ nextUpdate: null }, other)).toEqual({ status: 'good', thisUpdate: expect.any(Number) as number, nextUpdate: undefined });
  });

  it('reports a body that is not a CRL', () => {
    expect(readCrl(Buffer.from('<html>Not Found</html>'), issuer, [URL])).toEqual({ error: 'not a CRL (neither DER nor PEM "X509 CRL")' });
    expect(readCrl(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]), issuer, [URL])).toEqual({ error: expect.stringMatching(/^not a valid CRL: /) as string });
    expect(readCrl(Buffer.alloc(0), issuer, [URL])).toMatchObject({ error: expect.any(String) as string });
  });

  describe('scope', () => {
    it('reports delta CRLs, indirect CRLs and CRLs of CA or other certificates as unsupported', () => {
      expect(verdict({ extensions: [deltaCrlIndicatorExtension()] })).toEqual({ status: 'error', error: 'delta CRLs are not supported; the distribution point serves a delta CRL' });
      expect(verdict({ extensions: [issuingDistributionPointExtension({ indirectCRL: true })] })).toEqual({ status: 'error', error: 'indirect CRLs are not supported' });
      expect(verdict({ extensions: [issuingDistributionPointExtension({ onlyContainsCACerts: true })] }))
        .toEqual({ status: 'error', error: 'the CRL covers CA certificates only (onlyContainsCACerts), not the leaf' });
      const certificateIssuer = { oid: '2.5.29.29', critical: true, valueDer: Buffer.from([0x30, 0x00]) };
      expect(verdict({ revoked: [{ cert: other, revokedAt, entryExtensions: [certificateIssuer] }] })).toEqual({ status: 'error', error: 'an entry names another certificate issuer: indirect CRLs are not supported' });
    });

    it('uses a CRL of user certificates only, and one whose issuingDistributionPoint names the point the leaf gives', () => {
      expect(verdict({ extensions: [issuingDistributionPointExtension({ onlyContainsUserCerts: true })] })).toMatchObject({ status: 'revoked' });
      expect(verdict({ extensions: [issuingDistributionPointExtension({ urls: [URL], onlyContainsUserCerts: true })] }, other)).toMatchObject({ status: 'good' });
    });

    it('rejects a partition for another distribution point', () => {
      expect(verdict({ extensions: [issuingDistributionPointExtension({ urls: ['http://127.0.0.1:9/partition-2.crl'] })] }, other))
        .toEqual({ status: 'error', error: 'the CRL is for another distribution point (http://127.0.0.1:9/partition-2.crl)' });
    });

    it('trusts a CRL of some reasons when it lists the leaf, and cannot call an unlisted leaf good', () => {
      const someReasons = { extensions: [issuingDistributionPointExtension({ onlySomeReasons: true })] };
      expect(verdict(someReasons)).toMatchObject({ status: 'revoked' });
      expect(verdict(someReasons, other)).toMatchObject({ status: 'error', error: expect.stringMatching(/onlySomeReasons/) as string });
    });

    it('rejects a CRL or an entry with a critical extension it does not know, and ignores non-critical ones', () => {
      const unknown = (critical: boolean): { oid: string; critical: boolean; valueDer: Buffer } => ({ oid: '1.2.3.4', critical, valueDer: Buffer.from([0x05, 0x00]) });
      expect(verdict({ extensions: [unknown(true)] })).toEqual({ status: 'error', error: 'the CRL has a critical extension certexp does not process (1.2.3.4)' });
      expect(verdict({ revoked: [{ cert: other, revokedAt, entryExtensions: [unknown(true)] }] })).toEqual({ status: 'error', error: 'an entry has a critical extension certexp does not process (1.2.3.4)' });
      expect(verdict({ extensions: [unknown(false)], revoked: [{ cert: leaf, revokedAt, entryExtensions: [unknown(false)] }] })).toMatchObject({ status: 'revoked' });
    });
  });
});
