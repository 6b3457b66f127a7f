import { hasKeyUsage, KEY_USAGE, type NameConstraints, type NameSubtree, type ParsedCertificate } from './certificate';
import type { ChainExpectations } from './expectations';
import { ipToBytes } from './ip-address';
import { signatureDigest, type SignatureVerifier } from './signature';
import type { VerifyFailureReason } from './verify-reasons';

/** `web` (default) adds the CA/Browser Forum profile to RFC 5280; `rfc5280` is for private PKIs that predate it. */
export type VerifyPolicy = 'web' | 'rfc5280';

export interface PathContext {
  /** Leaf first; the last certificate is a trust anchor when `trusted`. */
  readonly path: readonly ParsedCertificate[];
  readonly trusted: boolean;
  readonly at: number;
  readonly policy: VerifyPolicy;
  readonly signatures: SignatureVerifier;
  /** What the operator expects of this target's chain beyond the rules: pins, issuers, lifetime. */
  readonly expectations?: ChainExpectations;
}

export type Report = (reason: VerifyFailureReason) => void;
export type PathCheck = (ctx: PathContext, report: Report) => void;

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
/** Extensions whose meaning we enforce or that carry no constraint we could get wrong; OpenSSL's list. */
const UNDERSTOOD_CRITICAL = new Set([
  '2.5.29.15', '2.5.29.17', '2.5.29.19', '2.5.29.30', '2.5.29.32', '2.5.29.33', '2.5.29.36', '2.5.29.37', '2.5.29.54',
  '1.3.6.1.5.5.7.1.24', // TLS feature (OCSP must-staple)
]);
const WEB_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
const WEAK_DIGESTS = new Set(['md5', 'sha1']);

/** A trust anchor is configured, not validated: checks of a certificate's own content skip it (RFC 5280 §6.1). */
function isAnchor(ctx: PathContext, index: number): boolean {
  return ctx.trusted && index === ctx.path.length - 1;
}

function isSelfIssued(cert: ParsedCertificate): boolean {
  return cert.subject.key === cert.issuer.key;
}

const validity: PathCheck = (ctx, report) => {
  for (const cert of ctx.path) {
    if (ctx.at < cert.notBefore) report('not_yet_valid');
    if (ctx.at > cert.notAfter) report('expired');
  }
};

const signatures: PathCheck = (ctx, report) => {
  for (let i = 1; i < ctx.path.length; i++) {
    if (!ctx.signatures.verify(ctx.path[i - 1] as ParsedCertificate, ctx.path[i] as ParsedCertificate)) report('bad_signature');
  }
};

const issuersAreCas: PathCheck = (ctx, report) => {
  ctx.path.forEach((cert, i) => {
    if (i === 0 || isAnchor(ctx, i)) return;
    if (cert.version < 3 || cert.basicConstraints?.ca !== true || !hasKeyUsage(cert, KEY_USAGE.keyCertSign)) report('invalid_ca');
  });
};

/** pathLenConstraint counts the non-self-issued intermediates below a CA (RFC 5280 §4.2.1.9). */
const pathLength: PathCheck = (ctx, report) => {
  let below = 0;
  ctx.path.forEach((cert, i) => {
    if (i === 0) return;
    const limit = cert.basicConstraints?.pathLength;
    if (limit !== undefined && below > limit) report('path_length_exceeded');
    if (!isSelfIssued(cert)) below++;
  });
};

const purpose: PathCheck = (ctx, report) => {
  ctx.path.forEach((cert, i) => {
    if (isAnchor(ctx, i)) return;
    if (cert.extKeyUsage !== undefined && !cert.extKeyUsage.includes(SERVER_AUTH)) report('wrong_purpose');
    const forTls = hasKeyUsage(cert, KEY_USAGE.digitalSignature) || hasKeyUsage(cert, KEY_USAGE.keyEncipherment) || hasKeyUsage(cert, KEY_USAGE.keyAgreement);
    if (i === 0 && !forTls) report('wrong_purpose');
  });
};

function dnsWithin(name: string, base: string): boolean {
  if (base === '') return true;
  if (base.startsWith('.')) return name.endsWith(base);
  return name === base || name.endsWith(`.${base}`);
}

function ipWithin(address: string, subtree: Extract<NameSubtree, { kind: 'ip' }>): boolean {
  const bytes = ipToBytes(address);
  if (bytes?.length !== subtree.address.length) return false;
  return bytes.every((b, k) => (b & (subtree.mask[k] ?? 0)) === ((subtree.address[k] ?? 0) & (subtree.mask[k] ?? 0)));
}

/** Does a name fall inside the subtree? A wildcard name is excluded when it could cover an excluded name. */
function within(kind: 'dns' | 'ip', name: string, subtree: NameSubtree, excluding: boolean): boolean {
  if (subtree.kind !== kind) return false;
  if (subtree.kind === 'ip') return ipWithin(name, subtree);
  if (dnsWithin(name, subtree.name)) return true;
  return excluding && name.startsWith('*.') && subtree.name.endsWith(`.${name.slice(2)}`);
}

function violates(constraints: NameConstraints, kind: 'dns' | 'ip', name: string): boolean {
  const permitted = constraints.permitted.filter((s) => s.kind === kind);
  if (permitted.length > 0 && !permitted.some((s) => within(kind, name, s, false))) return true;
  return constraints.excluded.some((s) => within(kind, name, s, true));
}

/** The DNS names a certificate claims: its SANs, or a leaf's CN when it has no SAN at all (as clients would match it). */
function dnsNamesOf(cert: ParsedCertificate, isLeaf: boolean): readonly string[] {
  if (cert.hasSubjectAltName || !isLeaf || cert.subject.commonName === '') return cert.dnsNames.map((n) => n.toLowerCase());
  return [cert.subject.commonName.toLowerCase()];
}

/** Each CA's nameConstraints bind every certificate below it, self-issued intermediates excepted (RFC 5280 §4.2.1.10). */
const nameConstraints: PathCheck = (ctx, report) => {
  ctx.path.forEach((ca, i) => {
    const constraints = ca.nameConstraints;
    if (constraints === undefined) return;
    for (let j = 0; j < i; j++) {
      const cert = ctx.path[j] as ParsedCertificate;
      if (j > 0 && isSelfIssued(cert)) continue;
      const bad = dnsNamesOf(cert, j === 0).some((n) => violates(constraints, 'dns', n))
        || cert.ipAddresses.some((a) => violates(constraints, 'ip', a));
      if (bad) report('name_constraint_violation');
    }
  });
};

const criticalExtensions: PathCheck = (ctx, report) => {
  for (const cert of ctx.path) {
    if (cert.criticalExtensions.some((oid) => !UNDERSTOOD_CRITICAL.has(oid))) report('unsupported_critical_extension');
  }
};

function weakKey(cert: ParsedCertificate): boolean {
  const { type, bits, curve } = cert.publicKey;
  if (type === 'rsa' || type === 'rsa-pss') return bits === undefined || bits < 2048 || bits % 8 !== 0;
  if (type === 'ec') return curve === undefined || !WEB_CURVES.has(curve);
  return type !== 'ed25519' && type !== 'ed448';
}

function badSerial(cert: ParsedCertificate): boolean {
  const bytes = Buffer.from(cert.serialHex, 'hex');
  return bytes.length === 0 || bytes.length > 20 || (bytes[0] ?? 0) >= 0x80 || bytes.every((b) => b === 0);
}

/** The CA/Browser Forum's key, signature and serial rules, on top of RFC 5280. */
const webProfile: PathCheck = (ctx, report) => {
  if (ctx.policy !== 'web') return;
  ctx.path.forEach((cert, i) => {
    if (weakKey(cert)) report('weak_key');
    if (isAnchor(ctx, i)) return;
    // Only signatures someone on the path checks: the last certificate's own signature is not.
    const digest = signatureDigest(cert.signatureAlgorithm);
    if (i < ctx.path.length - 1 && digest !== undefined && WEAK_DIGESTS.has(digest)) report('weak_signature');
    if (badSerial(cert)) report('invalid_serial');
  });
};

/** Every rule a path must pass, each reporting its own reasons; the order does not matter. */
export const PATH_CHECKS: readonly PathCheck[] = [
  validity, signatures, issuersAreCas, pathLength, purpose, nameConstraints, criticalExtensions, webProfile,
];
