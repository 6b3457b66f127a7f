/**
 * The standard test PKI: a private root and intermediate, an unrelated root, and leaves covering the
 * cases the exporter must tell apart. All EC P-256, so building the whole set takes milliseconds.
 *
 * Unless said otherwise, leaves are issued by `intermediate` for CN=localhost with SANs
 * DNS:localhost, IP:127.0.0.1, IP:::1.
 */
import { createCertificate, days, hours, type TestCert } from './pki';

export interface TestPki {
  /** The `now` everything was generated relative to. */
  readonly now: Date;
  /** Self-signed CA, valid now-1h .. now+10y. */
  readonly root: TestCert;
  /** CA under root, valid now-1h .. now+5y. */
  readonly intermediate: TestCert;
  /** An unrelated private root (self-signed CA, 10y). */
  readonly otherRoot: TestCert;
  /** CA under otherRoot (5y). */
  readonly otherIntermediate: TestCert;

  /** 90 days left. */
  readonly valid: TestCert;
  /** notBefore 95 days ago, notAfter 5 days ago. */
  readonly expired: TestCert;
  /** notBefore in 3 days, notAfter in 93 days. */
  readonly notYetValid: TestCert;
  /** CN and SAN only `other.example`. */
  readonly wrongName: TestCert;
  /** CN and SAN only `*.example.test`. */
  readonly wildcard: TestCert;
  /** CN 127.0.0.1; SAN only IP 127.0.0.1 and ::1, no dNSName. */
  readonly ipOnly: TestCert;
  /** notBefore 80 days ago, 10 days left. */
  readonly expiringSoon: TestCert;

  /** Self-signed leaf (not a CA), CN=localhost, usual SANs, 90 days left. */
  readonly selfSigned: TestCert;
  /** Leaf under otherIntermediate (chains to otherRoot, not to root). */
  readonly untrustedLeaf: TestCert;

  /** CA under root that expires in 20 days. */
  readonly shortIntermediate: TestCert;
  /** Leaf under shortIntermediate that expires in 60 days (outlives its issuer). */
  readonly leafUnderShortIntermediate: TestCert;

  /** Self-signed CA (valid now-15y .. now+5y) that cross-signed root. */
  readonly oldRoot: TestCert;
  /**
   * Same subject and same key as `root` (so the same subjectKeyIdentifier), issued by oldRoot,
   * EXPIRED (notBefore 3 years ago, notAfter 10 days ago): the unused expired cross-sign a server may present.
   */
  readonly crossSignedRoot: TestCert;
}

export const ROOT_CN = 'certexp-test Root CA';
export const INTERMEDIATE_CN = 'certexp-test Intermediate CA';
export const LEAF_DNS_NAMES: readonly string[] = ['localhost'];
export const LEAF_IP_ADDRESSES: readonly string[] = ['127.0.0.1', '::1'];

export async function buildTestPki(now = new Date()): Promise<TestPki> {
  const t = now.getTime();
  const at = (offsetMs: number): Date => new Date(t + offsetMs);
  const sans = { dnsNames: [...LEAF_DNS_NAMES], ipAddresses: [...LEAF_IP_ADDRESSES] };

  const [root, otherRoot, oldRoot] = await Promise.all([
    createCertificate({ subjectCn: ROOT_CN, ca: true, notBefore: at(-hours(1)), notAfter: at(days(3650)) }),
    createCertificate({ subjectCn: 'certexp-test Other Root CA', ca: true, notBefore: at(-hours(1)), notAfter: at(days(3650)) }),
    createCertificate({ subjectCn: 'certexp-test Old Root CA', ca: true, notBefore: at(-days(15 * 365)), notAfter: at(days(5 * 365)) }),
  ]);

  const [intermediate, otherIntermediate, shortIntermediate, crossSignedRoot] = await Promise.all([
    createCertificate({ subjectCn: INTERMEDIATE_CN, issuer: root, ca: true, pathLength: 0, notBefore: at(-hours(1)), notAfter: at(days(5 * 365)) }),
    createCertificate({
      subjectCn: 'certexp-test Other Intermediate CA',
      issuer: otherRoot,
      ca: true,
      pathLength: 0,
      notBefore: at(-hours(1)),
      notAfter: at(days(5 * 365)),
    }),
    createCertificate({
      subjectCn: 'certexp-test Short Intermediate CA',
      issuer: root,
      ca: true,
      pathLength: 0,
      notBefore: at(-days(300)),
      notAfter: at(days(20)),
    }),
    createCertificate({
      subjectCn: ROOT_CN,
      key: root.key,
      issuer: oldRoot,
      ca: true,
      notBefore: at(-days(3 * 365)),
      notAfter: at(-days(10)),
    }),
  ]);

  const leaf = (subjectCn: string, notBefore: Date, notAfter: Date, extra: { dnsNames?: string[]; ipAddresses?: string[] } = sans) =>
    createCertificate({ subjectCn, issuer: intermediate, notBefore, notAfter, dnsNames: extra.dnsNames ?? [], ipAddresses: extra.ipAddresses ?? [] });

  const [valid, expired, notYetValid, wrongName, wildcard, ipOnly, expiringSoon, selfSigned, untrustedLeaf, leafUnderShortIntermediate] =
    await Promise.all([
      leaf('localhost', at(-hours(1)), at(days(90))),
      leaf('localhost', at(-days(95)), at(-days(5))),
      leaf('localhost', at(days(3)), at(days(93))),
      leaf('other.example', at(-hours(1)), at(days(90)), { dnsNames: ['other.example'] }),
      leaf('*.example.test', at(-hours(1)), at(days(90)), { dnsNames: ['*.example.test'] }),
      leaf('127.0.0.1', at(-hours(1)), at(days(90)), { ipAddresses: [...LEAF_IP_ADDRESSES] }),
      leaf('localhost', at(-days(80)), at(days(10))),
      createCertificate({ subjectCn: 'localhost', notBefore: at(-hours(1)), notAfter: at(days(90)), ...sans }),
      createCertificate({ subjectCn: 'localhost', issuer: otherIntermediate, notBefore: at(-hours(1)), notAfter: at(days(90)), ...sans }),
      createCertificate({ subjectCn: 'localhost', issuer: shortIntermediate, notBefore: at(-days(30)), notAfter: at(days(60)), ...sans }),
    ]);

  return {
    now,
    root,
    intermediate,
    otherRoot,
    otherIntermediate,
    valid,
    expired,
    notYetValid,
    wrongName,
    wildcard,
    ipOnly,
    expiringSoon,
    selfSigned,
    untrustedLeaf,
    shortIntermediate,
    leafUnderShortIntermediate,
    oldRoot,
    crossSignedRoot,
  };
}

/** The certificates' PEMs concatenated, in the order given. */
export function chainPem(...certs: TestCert[]): string {
  return certs.map((cert) => cert.pem).join('');
}
