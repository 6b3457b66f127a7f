/**
 * The conformance table: one or more generated chains per verification rule, each with the
 * verdict certexp must give and what `openssl verify -x509_strict -purpose sslserver` says.
 * Where the two differ on purpose, `openssl` names the rule that justifies the difference.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { parseIssuerPattern, type ChainExpectations, type IssuerPattern } from '../../src/pki/expectations';
import type { VerifyPolicy } from '../../src/pki/path-checks';
import type { VerifyFailureReason } from '../../src/pki/verify-reasons';
import { createCertificate, days, generateKeyPair, ipToBytes, type TestCert } from '../support/pki';
import { buildTestPki, type TestPki } from '../support/scenarios';

export interface ConformanceCase {
  readonly name: string;
  /** The rule of docs/verification.md this case exercises. */
  readonly rule: string;
  /** Presented chain, leaf first. */
  readonly chain: readonly TestCert[];
  /** Trust anchors (no system roots). */
  readonly anchors: readonly TestCert[];
  readonly serverName: string;
  /** Milliseconds after the PKI's `now` to verify at. */
  readonly later?: number;
  readonly policy?: VerifyPolicy;
  readonly maxDepth?: number;
  /** The target's pins, allowed issuers and maximum lifetime. */
  readonly expectations?: ChainExpectations;
  /** certexp's exact reasons; [] means it verifies. */
  readonly reasons: readonly VerifyFailureReason[];
  /** OpenSSL's verdict: 'ok', the reason its first error maps to, or a deliberate difference and why. */
  readonly openssl: 'ok' | VerifyFailureReason | { readonly differs: string; readonly says: 'ok' | VerifyFailureReason | `openssl error ${number}` };
}

function nameConstraintsDer(permitted: pkijs.GeneralName[], excluded: pkijs.GeneralName[]): Buffer {
  const value = new pkijs.NameConstraints();
  if (permitted.length > 0) value.permittedSubtrees = permitted.map((base) => new pkijs.GeneralSubtree({ base }));
  if (excluded.length > 0) value.excludedSubtrees = excluded.map((base) => new pkijs.GeneralSubtree({ base }));
  return Buffer.from(value.toSchema().toBER(false));
}

const dns = (name: string): pkijs.GeneralName => new pkijs.GeneralName({ type: 2, value: name });
function ipRange(address: string, mask: string): pkijs.GeneralName {
  const bytes = Buffer.concat([ipToBytes(address), ipToBytes(mask)]);
  return new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: bytes }) });
}

export interface ConformanceSet {
  readonly pki: TestPki;
  readonly cases: readonly ConformanceCase[];
}

export async function buildConformanceCases(): Promise<ConformanceSet> {
  const pki = await buildTestPki();
  const { root, intermediate } = pki;
  const ca = (subjectCn: string, issuer: TestCert, more: Partial<Parameters<typeof createCertificate>[0]> = {}): Promise<TestCert> =>
    createCertificate({ subjectCn, issuer, ca: true, ...more });
  const leaf = (issuer: TestCert, more: Partial<Parameters<typeof createCertificate>[0]> = {}): Promise<TestCert> =>
    createCertificate({ subjectCn: 'localhost', issuer, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], ...more });
  const base = { anchors: [root], serverName: 'localhost' };

  // Signatures
  const impostor = await ca(intermediate.subjectCn, root, { subjectKeyIdentifier: false });
  const forged = await leaf(impostor, {
    extraExtensions: [{ oid: '2.5.29.35', critical: false, valueDer: authorityKeyIdDer(intermediate) }],
  });
  // basicConstraints, keyUsage and v1 on issuers
  const noBasicConstraints = await ca('No basicConstraints CA', root, { omitBasicConstraints: true });
  const notCa = await ca('cA FALSE CA', root, { ca: false, keyUsage: ['keyCertSign', 'cRLSign'], extKeyUsage: [] });
  const noCertSign = await ca('No keyCertSign CA', root, { keyUsage: ['digitalSignature', 'cRLSign'] });
  const v1Ca = await createCertificate({ subjectCn: 'Version 1 CA', issuer: root, version: 1 });
  const v1Leaf = await createCertificate({ subjectCn: 'localhost', issuer: intermediate, version: 1 });
  const digitalSignatureOnly = await leaf(intermediate, { keyUsage: ['digitalSignature'] });
  // pathLenConstraint
  const len0 = await ca('pathlen 0 CA', root, { pathLength: 0 });
  const len1 = await ca('pathlen 1 CA', root, { pathLength: 1 });
  const underLen0 = await ca('CA under pathlen 0', len0);
  const underLen1 = await ca('CA under pathlen 1', len1);
  const rollover = await ca(len0.subjectCn, len0, { pathLength: 0 }); // self-issued: same name, new key
  // Purpose
  const clientOnly = await leaf(intermediate, { extKeyUsage: ['clientAuth'] });
  const noEku = await leaf(intermediate, { extKeyUsage: [] });
  const certSignOnly = await leaf(intermediate, { keyUsage: ['keyCertSign'] });
  const clientCa = await ca('clientAuth-only CA', root, { extKeyUsage: ['clientAuth'] });
  const serverCa = await ca('serverAuth CA', root, { extKeyUsage: ['serverAuth', 'clientAuth'] });
  // Name constraints
  const constrained = await ca('Constrained CA', root, {
    extraExtensions: [{ oid: '2.5.29.30', critical: true, valueDer: nameConstraintsDer([dns('example.test'), ipRange('127.0.0.0', '255.0.0.0')], [dns('bad.example.test')]) }],
  });
  const inside = await leaf(constrained, { dnsNames: ['shop.example.test'], ipAddresses: ['127.0.0.1'] });
  const outsideDns = await leaf(constrained, { dnsNames: ['shop.example.test', 'evil.example'], ipAddresses: [] });
  const excludedDns = await leaf(constrained, { dnsNames: ['bad.example.test'], ipAddresses: [] });
  const outsideIp = await leaf(constrained, { dnsNames: ['shop.example.test'], ipAddresses: ['192.0.2.1'] });
  // Critical extensions
  const nullDer = Buffer.from([0x05, 0x00]);
  const unknownCritical = await leaf(intermediate, { extraExtensions: [{ oid: '1.3.6.1.4.1.99999.1', critical: true, valueDer: nullDer }] });
  const unknownNonCritical = await leaf(intermediate, { extraExtensions: [{ oid: '1.3.6.1.4.1.99999.1', critical: false, valueDer: nullDer }] });
  // Malformed extension: a subjectAltName that is an OCTET STRING, not GeneralNames
  const badSan = await leaf(intermediate, { omitSubjectAltName: true, extraExtensions: [{ oid: '2.5.29.17', critical: false, valueDer: Buffer.from([0x04, 0x01, 0x00]) }] });
  // Names
  const publicSuffixWildcard = await leaf(intermediate, { dnsNames: ['*.co.uk'], ipAddresses: [] });
  const upperCase = await leaf(intermediate, { dnsNames: ['Shop.Example.TEST'], ipAddresses: [] });
  const idn = await leaf(intermediate, { dnsNames: ['xn--bcher-kva.example'], ipAddresses: [] });
  const cnOnly = await leaf(intermediate, { omitSubjectAltName: true });
  const cnWithOtherSan = await createCertificate({ subjectCn: 'localhost', issuer: intermediate, dnsNames: ['other.example'] });
  const ipCnOnly = await createCertificate({ subjectCn: '127.0.0.1', issuer: intermediate, omitSubjectAltName: true });
  // Web PKI profile
  const rsa1024 = await leaf(intermediate, { key: await generateKeyPair('rsa-1024') });
  const p384 = await leaf(intermediate, { key: await generateKeyPair('ec-p384') });
  const ed25519 = await leaf(intermediate, { key: await generateKeyPair('ed25519') });
  const sha1 = await leaf(intermediate, { signatureHash: 'SHA-1' });
  const serialZero = await leaf(intermediate, { serial: Buffer.from([0]) });
  const serial21 = await leaf(intermediate, { serial: Buffer.alloc(21, 0x11) });
  const serialNegative = await leaf(intermediate, { serial: Buffer.from([0x80, 0x01]) });
  // Path building: a loop of two CAs cross-signing each other, and a long chain
  const loopA = await ca('Loop CA A', pki.otherRoot);
  const loopB = await ca('Loop CA B', loopA);
  const loopA2 = await createCertificate({ subjectCn: 'Loop CA A', issuer: loopB, ca: true, key: loopA.key });
  const inLoop = await leaf(loopB);
  const long: TestCert[] = [];
  let top = root;
  for (let i = 0; i < 12; i++) {
    top = await ca(`Long chain CA ${i}`, top);
    long.unshift(top);
  }
  const atBottom = await leaf(top);
  // Operator expectations: a leaf of 400 days, and an allow-list entry by subject
  const longLived = await leaf(intermediate, { notAfter: new Date(pki.now.getTime() + days(400)) });
  const allowed = (text: string): IssuerPattern => {
    const pattern = parseIssuerPattern(text);
    if ('error' in pattern) throw new Error(pattern.error);
    return pattern;
  };
  const noOpensslPin = { says: 'ok', differs: 'pins, allowed issuers and a maximum lifetime are the operator\'s expectations, not rules of a chain; openssl verify has none of them' } as const;

  const cases: ConformanceCase[] = [
    { ...base, rule: 'signatures', name: 'a chain whose signatures verify', chain: [pki.valid, intermediate], reasons: [], openssl: 'ok' },
    { ...base, rule: 'signatures', name: 'a leaf signed by an impostor of its issuer', chain: [forged, intermediate], reasons: ['bad_signature'], openssl: 'bad_signature' },

    { ...base, rule: 'validity', name: 'verified at the last second of notAfter', chain: [pki.valid, intermediate], later: pki.valid.notAfter.getTime() - pki.now.getTime(), reasons: [], openssl: { says: 'expired', differs: 'RFC 5280 §4.1.2.5: notAfter is inclusive; OpenSSL counts the certificate expired in its last second' } },
    { ...base, rule: 'validity', name: 'verified one second after notAfter', chain: [pki.valid, intermediate], later: pki.valid.notAfter.getTime() - pki.now.getTime() + 1000, reasons: ['expired'], openssl: 'expired' },
    { ...base, rule: 'validity', name: 'verified at the first second of notBefore', chain: [pki.notYetValid, intermediate], later: pki.notYetValid.notBefore.getTime() - pki.now.getTime(), reasons: [], openssl: 'ok' },
    { ...base, rule: 'validity', name: 'verified one second before notBefore', chain: [pki.notYetValid, intermediate], later: pki.notYetValid.notBefore.getTime() - pki.now.getTime() - 1000, reasons: ['not_yet_valid'], openssl: 'not_yet_valid' },
    { ...base, rule: 'validity', name: 'an intermediate that expires before its leaf, verified after it', chain: [pki.leafUnderShortIntermediate, pki.shortIntermediate], later: days(30), reasons: ['expired'], openssl: 'expired' },

    { ...base, rule: 'basicConstraints', name: 'an issuer with cA TRUE', chain: [pki.valid, intermediate], reasons: [], openssl: 'ok' },
    { ...base, rule: 'basicConstraints', name: 'an issuer without basicConstraints', chain: [await leaf(noBasicConstraints), noBasicConstraints], reasons: ['invalid_ca'], openssl: 'invalid_ca' },
    { ...base, rule: 'basicConstraints', name: 'an issuer with cA FALSE', chain: [await leaf(notCa), notCa], reasons: ['invalid_ca'], openssl: 'invalid_ca' },
    { ...base, rule: 'keyUsage', name: 'an issuer with keyCertSign and a leaf with digitalSignature only', chain: [digitalSignatureOnly, intermediate], reasons: [], openssl: 'ok' },
    { ...base, rule: 'keyUsage', name: 'an issuer whose keyUsage lacks keyCertSign', chain: [await leaf(noCertSign), noCertSign], reasons: ['invalid_ca'], openssl: 'invalid_ca' },
    { ...base, rule: 'v1', name: 'a version 1 leaf (no extensions, named by its CN)', chain: [v1Leaf, intermediate], reasons: [], openssl: 'ok' },
    { ...base, rule: 'v1', name: 'a version 1 certificate as an issuer', chain: [await leaf(v1Ca), v1Ca], reasons: ['invalid_ca'], openssl: { says: 'openssl error 85', differs: 'both reject; -x509_strict first reports the leaf\'s missing authorityKeyIdentifier (a v1 CA has no key identifier to name), which certexp does not require' } },

    { ...base, rule: 'pathLenConstraint', name: 'one CA below a pathlen 0 CA', chain: [await leaf(underLen0), underLen0, len0], reasons: ['path_length_exceeded'], openssl: 'path_length_exceeded' },
    { ...base, rule: 'pathLenConstraint', name: 'one CA below a pathlen 1 CA', chain: [await leaf(underLen1), underLen1, len1], reasons: [], openssl: 'ok' },
    { ...base, rule: 'pathLenConstraint', name: 'a self-issued key rollover below a pathlen 0 CA', chain: [await leaf(rollover), rollover, len0], reasons: [], openssl: 'ok' },

    { ...base, rule: 'extendedKeyUsage', name: 'a leaf for clientAuth only', chain: [clientOnly, intermediate], reasons: ['wrong_purpose'], openssl: 'wrong_purpose' },
    { ...base, rule: 'extendedKeyUsage', name: 'a leaf without extendedKeyUsage', chain: [noEku, intermediate], reasons: [], openssl: 'ok' },
    { ...base, rule: 'extendedKeyUsage', name: 'an issuer restricted to clientAuth', chain: [await leaf(clientCa), clientCa], reasons: ['wrong_purpose'], openssl: 'wrong_purpose' },
    { ...base, rule: 'extendedKeyUsage', name: 'an issuer that allows serverAuth', chain: [await leaf(serverCa), serverCa], reasons: [], openssl: 'ok' },
    { ...base, rule: 'keyUsage', name: 'a leaf whose keyUsage is keyCertSign only', chain: [certSignOnly, intermediate], reasons: ['wrong_purpose'], openssl: { says: 'openssl error 82', differs: 'both reject; OpenSSL first reports keyCertSign on a non-CA, certexp that the keyUsage allows no TLS server use' } },

    { ...base, rule: 'nameConstraints', name: 'DNS and IP names inside the permitted subtrees', chain: [inside, constrained], serverName: 'shop.example.test', reasons: [], openssl: 'ok' },
    { ...base, rule: 'nameConstraints', name: 'a DNS name outside the permitted subtree', chain: [outsideDns, constrained], serverName: 'shop.example.test', reasons: ['name_constraint_violation'], openssl: 'name_constraint_violation' },
    { ...base, rule: 'nameConstraints', name: 'a DNS name in an excluded subtree', chain: [excludedDns, constrained], serverName: 'bad.example.test', reasons: ['name_constraint_violation'], openssl: 'name_constraint_violation' },
    { ...base, rule: 'nameConstraints', name: 'an IP address outside the permitted range', chain: [outsideIp, constrained], serverName: 'shop.example.test', reasons: ['name_constraint_violation'], openssl: 'name_constraint_violation' },

    { ...base, rule: 'critical extensions', name: 'an unknown critical extension', chain: [unknownCritical, intermediate], reasons: ['unsupported_critical_extension'], openssl: 'unsupported_critical_extension' },
    { ...base, rule: 'critical extensions', name: 'an unknown non-critical extension', chain: [unknownNonCritical, intermediate], reasons: [], openssl: 'ok' },
    { ...base, rule: 'malformed extensions', name: 'a well-formed subjectAltName', chain: [pki.valid, intermediate], reasons: [], openssl: 'ok' },
    { ...base, rule: 'malformed extensions', name: 'a subjectAltName that is not GeneralNames', chain: [badSan, intermediate], reasons: ['malformed_certificate'], openssl: { says: 'missing_intermediate', differs: 'both reject; OpenSSL cannot decode the extensions, so it cannot match the issuer and reports error 20' } },

    { ...base, rule: 'names', name: 'a DNS SAN in another case', chain: [upperCase, intermediate], serverName: 'shop.example.test', reasons: [], openssl: 'ok' },
    { ...base, rule: 'names', name: 'an IDN SAN and a U-label server name', chain: [idn, intermediate], serverName: 'bücher.example', reasons: [], openssl: { says: 'hostname_mismatch', differs: 'RFC 5890/6125: the U-label is compared as its A-label; openssl -verify_hostname compares bytes' } },
    { ...base, rule: 'names', name: 'a wildcard over a public suffix (*.co.uk)', chain: [publicSuffixWildcard, intermediate], serverName: 'example.co.uk', reasons: ['hostname_mismatch'], openssl: { says: 'ok', differs: 'CA/Browser Forum BR 3.2.2.6: no wildcard directly under a public suffix; OpenSSL has no public suffix list' } },
    { ...base, rule: 'names', name: 'the CN when there is no SAN', chain: [cnOnly, intermediate], reasons: [], openssl: 'ok' },
    { ...base, rule: 'names', name: 'the CN when a SAN names something else', chain: [cnWithOtherSan, intermediate], reasons: ['hostname_mismatch'], openssl: 'hostname_mismatch' },
    { ...base, rule: 'names', name: 'an IP address in the CN only', chain: [ipCnOnly, intermediate], serverName: '127.0.0.1', reasons: ['hostname_mismatch'], openssl: 'hostname_mismatch' },
    { ...base, rule: 'names', name: 'an IP SAN and an IP server name', chain: [pki.ipOnly, intermediate], serverName: '127.0.0.1', reasons: [], openssl: 'ok' },

    { ...base, rule: 'web profile: keys', name: 'an RSA-1024 leaf', chain: [rsa1024, intermediate], reasons: ['weak_key'], openssl: { says: 'ok', differs: 'CA/Browser Forum BR 6.1.5: RSA keys of at least 2048 bits; openssl verify applies no security level' } },
    { ...base, rule: 'web profile: keys', name: 'an RSA-1024 leaf under policy rfc5280', chain: [rsa1024, intermediate], policy: 'rfc5280', reasons: [], openssl: 'ok' },
    { ...base, rule: 'web profile: keys', name: 'a P-384 leaf', chain: [p384, intermediate], reasons: [], openssl: 'ok' },
    { ...base, rule: 'web profile: keys', name: 'an Ed25519 leaf', chain: [ed25519, intermediate], reasons: [], openssl: 'ok' },
    { ...base, rule: 'web profile: signatures', name: 'a SHA-1 signed leaf', chain: [sha1, intermediate], reasons: ['weak_signature'], openssl: { says: 'ok', differs: 'CA/Browser Forum BR 7.1.3: no SHA-1 signatures; openssl verify applies no security level' } },
    { ...base, rule: 'web profile: signatures', name: 'a SHA-1 signed leaf under policy rfc5280', chain: [sha1, intermediate], policy: 'rfc5280', reasons: [], openssl: 'ok' },
    { ...base, rule: 'web profile: serials', name: 'serial number zero', chain: [serialZero, intermediate], reasons: ['invalid_serial'], openssl: { says: 'ok', differs: 'RFC 5280 §4.1.2.2 and BR 7.1: serials are positive; OpenSSL does not check' } },
    { ...base, rule: 'web profile: serials', name: 'a 21-byte serial number', chain: [serial21, intermediate], reasons: ['invalid_serial'], openssl: { says: 'ok', differs: 'RFC 5280 §4.1.2.2: at most 20 octets; OpenSSL does not check' } },
    { ...base, rule: 'web profile: serials', name: 'a negative serial number', chain: [serialNegative, intermediate], reasons: ['invalid_serial'], openssl: { says: 'ok', differs: 'RFC 5280 §4.1.2.2: serials are positive; OpenSSL does not check' } },
    { ...base, rule: 'web profile: serials', name: 'serial number zero under policy rfc5280', chain: [serialZero, intermediate], policy: 'rfc5280', reasons: [], openssl: 'ok' },

    { ...base, rule: 'path building', name: 'a chain out of order with duplicates and an unrelated root', chain: [pki.valid, pki.otherRoot, root, intermediate, intermediate], reasons: [], openssl: 'ok' },
    { ...base, rule: 'path building', name: 'an unused expired cross-signed root', chain: [pki.valid, intermediate, pki.crossSignedRoot], reasons: [], openssl: 'ok' },
    { ...base, rule: 'path building', name: 'the cross-sign when only the old root is trusted', chain: [pki.valid, intermediate, pki.crossSignedRoot], anchors: [pki.oldRoot], reasons: ['expired'], openssl: 'expired' },
    { ...base, rule: 'path building', name: 'a loop of two CAs cross-signing each other', chain: [inLoop, loopB, loopA2], reasons: ['untrusted_root'], openssl: 'untrusted_root' },
    { ...base, rule: 'path building', name: 'a chain of 12 CAs with the default depth limit', chain: [atBottom, ...long], reasons: ['chain_too_long'], openssl: { says: 'ok', differs: 'certexp stops at 10 CAs above the leaf by default (--max-depth); OpenSSL allows 100' } },
    { ...base, rule: 'path building', name: 'a chain of 12 CAs with --max-depth 13', chain: [atBottom, ...long], maxDepth: 13, reasons: [], openssl: 'ok' },

    { ...base, rule: 'expectations: pins', name: 'a leaf whose certificate fingerprint is pinned', chain: [pki.valid, intermediate], expectations: { fingerprints: ['00'.repeat(32), pki.valid.fingerprintSha256] }, reasons: [], openssl: 'ok' },
    { ...base, rule: 'expectations: pins', name: 'a leaf that matches no pin', chain: [pki.valid, intermediate], expectations: { fingerprints: [pki.expired.fingerprintSha256] }, reasons: ['pin_mismatch'], openssl: noOpensslPin },
    { ...base, rule: 'expectations: allowed issuers', name: 'an intermediate on the allow-list by subject', chain: [pki.valid, intermediate], expectations: { allowedIssuers: [allowed(`CN=${intermediate.subjectCn}, O=certexp-test`)] }, reasons: [], openssl: 'ok' },
    { ...base, rule: 'expectations: allowed issuers', name: 'no CA of the chain on the allow-list', chain: [pki.valid, intermediate], expectations: { allowedIssuers: [allowed(pki.otherRoot.fingerprintSha256)] }, reasons: ['issuer_not_allowed'], openssl: noOpensslPin },
    { ...base, rule: 'expectations: max validity', name: 'a 90-day leaf under max_validity 398d', chain: [pki.valid, intermediate], expectations: { maxValidityMs: days(398) }, reasons: [], openssl: 'ok' },
    { ...base, rule: 'expectations: max validity', name: 'a 400-day leaf under max_validity 398d', chain: [longLived, intermediate], expectations: { maxValidityMs: days(398) }, reasons: ['validity_too_long'], openssl: noOpensslPin },
  ];
  return { pki, cases };
}

/** authorityKeyIdentifier naming `issuer`'s subjectKeyIdentifier, computed as the toolkit does (SHA-1 of the key). */
function authorityKeyIdDer(issuer: TestCert): Buffer {
  const cert = pkijs.Certificate.fromBER(issuer.der);
  const ski = cert.extensions?.find((e) => e.extnID === '2.5.29.14');
  if (ski === undefined) throw new Error('issuer has no subjectKeyIdentifier');
  const keyId = Buffer.from((ski.parsedValue as asn1js.OctetString).valueBlock.valueHexView);
  return Buffer.concat([Buffer.from([0x30, keyId.length + 2, 0x80, keyId.length]), keyId]);
}
