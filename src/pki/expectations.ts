import type { ParsedCertificate } from './certificate';
import { sha256Hex } from './certificate';
import { parseDistinguishedName } from './distinguished-name';
import type { PathCheck } from './path-checks';

/** One entry of `allowed_issuers`: a CA named by its subject, or by the SHA-256 of its certificate or key. */
export type IssuerPattern =
  | { readonly kind: 'fingerprint'; readonly sha256: string }
  | { readonly kind: 'subject'; readonly attributes: readonly string[] };

/**
 * What an operator expects of one target's chain on top of the verification rules: facts about
 * their own deployment (which certificate, which CA, how long-lived) that no rule can know.
 * An absent or empty field checks nothing.
 */
export interface ChainExpectations {
  /** Lowercase hex SHA-256 of the leaf certificate (DER) or of its SubjectPublicKeyInfo; the leaf must match one. */
  readonly fingerprints?: readonly string[];
  /** A CA on the built path must match one. */
  readonly allowedIssuers?: readonly IssuerPattern[];
  /** The leaf's validity period, both ends inclusive, may be at most this long. */
  readonly maxValidityMs?: number;
}

const HEX_FINGERPRINT = /^[0-9a-f]{64}$/;
const COLON_FINGERPRINT = /^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/;

/** A SHA-256 fingerprint as OpenSSL prints it (`AB:CD:...`) or as plain hex, in lowercase hex; undefined when it is not one. */
export function parseFingerprint(text: string): string | undefined {
  const lower = text.trim().toLowerCase();
  if (HEX_FINGERPRINT.test(lower)) return lower;
  return COLON_FINGERPRINT.test(lower) ? lower.replace(/:/g, '') : undefined;
}

/** An `allowed_issuers` entry: a fingerprint when it looks like one, else a distinguished name (it has an `=`). */
export function parseIssuerPattern(text: string): IssuerPattern | { readonly error: string } {
  const sha256 = parseFingerprint(text);
  if (sha256 !== undefined) return { kind: 'fingerprint', sha256 };
  if (!text.includes('=')) {
    return { error: `${JSON.stringify(text)} is neither a subject (CN=..., O=...) nor a SHA-256 fingerprint (64 hex digits, colons allowed)` };
  }
  const name = parseDistinguishedName(text);
  return 'error' in name ? { error: `subject ${JSON.stringify(text)}: ${name.error}` } : { kind: 'subject', attributes: name.attributes };
}

const spkiFingerprints = new WeakMap<ParsedCertificate, string>();

/** SHA-256 of the SubjectPublicKeyInfo: what stays the same when a certificate is renewed with the same key. */
export function spkiSha256(cert: ParsedCertificate): string {
  let fingerprint = spkiFingerprints.get(cert);
  if (fingerprint === undefined) {
    fingerprint = sha256Hex(cert.spki);
    spkiFingerprints.set(cert, fingerprint);
  }
  return fingerprint;
}

function fingerprintMatches(cert: ParsedCertificate, sha256: string): boolean {
  return cert.fingerprintSha256 === sha256 || spkiSha256(cert) === sha256;
}

function sameAttributes(name: readonly string[], pattern: readonly string[]): boolean {
  if (name.length !== pattern.length) return false;
  const sorted = [...name].sort();
  return sorted.every((attribute, i) => attribute === pattern[i]);
}

const pinned: PathCheck = (ctx, report) => {
  const pins = ctx.expectations?.fingerprints ?? [];
  const leaf = ctx.path[0];
  if (pins.length > 0 && leaf !== undefined && !pins.some((pin) => fingerprintMatches(leaf, pin))) report('pin_mismatch');
};

/**
 * The CAs a path names: every certificate above the leaf, by subject or fingerprint, and the
 * issuer name of the last one (the leaf's own issuer when the server sent no intermediate), by
 * subject only, since that certificate is not at hand.
 */
const allowedIssuers: PathCheck = (ctx, report) => {
  const allowed = ctx.expectations?.allowedIssuers ?? [];
  const top = ctx.path[ctx.path.length - 1];
  if (allowed.length === 0 || top === undefined) return;
  const cas = ctx.path.slice(1);
  const matches = (pattern: IssuerPattern): boolean => (pattern.kind === 'fingerprint'
    ? cas.some((ca) => fingerprintMatches(ca, pattern.sha256))
    : [...cas.map((ca) => ca.subject), top.issuer].some((name) => sameAttributes(name.attributes, pattern.attributes)));
  if (!allowed.some(matches)) report('issuer_not_allowed');
};

/** CA/Browser Forum BR 6.3.2 counts the validity period with both ends inclusive: notAfter − notBefore + 1 s. */
const maxValidity: PathCheck = (ctx, report) => {
  const limit = ctx.expectations?.maxValidityMs;
  const leaf = ctx.path[0];
  if (limit !== undefined && leaf !== undefined && leaf.notAfter - leaf.notBefore + 1000 > limit) report('validity_too_long');
};

/** The operator's expectations, run on every candidate path so that path building prefers one that meets them. */
export const EXPECTATION_CHECKS: readonly PathCheck[] = [pinned, allowedIssuers, maxValidity];
