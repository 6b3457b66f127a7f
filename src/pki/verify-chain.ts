import type { ParsedCertificate } from './certificate';
import { EXPECTATION_CHECKS, type ChainExpectations } from './expectations';
import { PATH_CHECKS, type VerifyPolicy } from './path-checks';
import { certificateMatchesName } from './server-name';
import type { SignatureVerifier } from './signature';
import type { TrustStore } from './trust-store';
import type { VerifyFailureReason } from './verify-reasons';

export interface VerifyInput {
  /** Presented certificates, leaf first, in the order the server sent them. */
  readonly presented: readonly ParsedCertificate[];
  readonly trust: TrustStore;
  /** The name the leaf must carry; undefined checks no name (verifying a file before deployment). */
  readonly serverName: string | undefined;
  /** Epoch milliseconds: the clock is an input, so a verdict can be asked for any day. */
  readonly at: number;
  readonly signatures: SignatureVerifier;
  readonly policy?: VerifyPolicy;
  /** Certificates above the leaf a path may have; deeper paths end in chain_too_long. */
  readonly maxDepth?: number;
  /** The operator's pins, allowed issuers and maximum lifetime; each path is held to them. */
  readonly expectations?: ChainExpectations;
}

export interface VerifyResult {
  readonly verified: boolean;
  /** Sorted, without repeats; empty exactly when verified. */
  readonly reasons: readonly VerifyFailureReason[];
  /** The path verification chose, leaf first; it ends at an anchor when `trusted`. */
  readonly path: readonly ParsedCertificate[];
  readonly trusted: boolean;
  /** Earliest notAfter on `path`: the moment this chain stops verifying. */
  readonly earliestNotAfter: number;
  /** The times between which this verdict holds: no certificate it weighed starts or stops being valid in between. */
  readonly stable: TimeWindow;
}

/** [from, until) in epoch milliseconds. */
export interface TimeWindow {
  readonly from: number;
  readonly until: number;
}

/**
 * The window around `at` in which none of these certificates starts or stops being valid. Dates
 * are the only way time enters a verdict, so inside it the same question has the same answer.
 */
function stableWindow(certs: Iterable<ParsedCertificate>, at: number): TimeWindow {
  let from = -Infinity;
  let until = Infinity;
  for (const cert of certs) {
    // Valid while notBefore <= at <= notAfter: the verdict can change at notBefore and just after notAfter.
    for (const edge of [cert.notBefore, cert.notAfter + 1]) {
      if (edge <= at) from = Math.max(from, edge);
      else until = Math.min(until, edge);
    }
  }
  return { from, until };
}

type PathEnd = 'anchor' | 'self_signed' | 'no_issuer' | 'too_long';

interface Candidate {
  readonly path: readonly ParsedCertificate[];
  readonly reasons: ReadonlySet<VerifyFailureReason>;
  readonly trusted: boolean;
}

const DEFAULT_MAX_DEPTH = 10;
/** Cross-signed meshes can multiply paths; past this many, the best one found so far stands. */
const MAX_PATHS = 32;
/** The rules, then the operator's expectations: both score a path, so the one chosen meets both if any does. */
const CHECKS = [...PATH_CHECKS, ...EXPECTATION_CHECKS];

function isSelfIssued(cert: ParsedCertificate): boolean {
  return cert.subject.key === cert.issuer.key;
}

/** Key identifiers narrow candidates only when both sides carry one (RFC 5280 §4.2.1.1). */
function couldIssue(issuer: ParsedCertificate, subject: ParsedCertificate): boolean {
  return subject.authorityKeyId === undefined || issuer.subjectKeyId === undefined
    || subject.authorityKeyId === issuer.subjectKeyId;
}

function issuerCandidates(input: VerifyInput, cert: ParsedCertificate, path: readonly ParsedCertificate[]): ParsedCertificate[] {
  const onPath = new Set(path.map((c) => c.fingerprintSha256));
  const seen = new Set<string>();
  const out: ParsedCertificate[] = [];
  // Anchors first: a path that reaches the trust store beats one through a presented cross-sign.
  for (const candidate of [...input.trust.issuersOf(cert), ...input.presented]) {
    if (candidate.subject.key !== cert.issuer.key || onPath.has(candidate.fingerprintSha256)) continue;
    if (seen.has(candidate.fingerprintSha256) || !couldIssue(candidate, cert)) continue;
    seen.add(candidate.fingerprintSha256);
    out.push(candidate);
  }
  return out;
}

function endReasons(end: PathEnd, length: number): VerifyFailureReason[] {
  if (end === 'anchor') return [];
  if (end === 'too_long') return ['chain_too_long'];
  if (length > 1) return ['untrusted_root'];
  return end === 'self_signed' ? ['self_signed'] : ['missing_intermediate'];
}

function evaluate(input: VerifyInput, path: readonly ParsedCertificate[], end: PathEnd): Candidate {
  const reasons = new Set<VerifyFailureReason>(endReasons(end, path.length));
  const context = {
    path, trusted: end === 'anchor', at: input.at, policy: input.policy ?? 'web', signatures: input.signatures,
    ...(input.expectations === undefined ? {} : { expectations: input.expectations }),
  };
  for (const check of CHECKS) check(context, (reason) => reasons.add(reason));
  return { path, reasons, trusted: end === 'anchor' };
}

function rank(candidate: Candidate): number[] {
  return [candidate.reasons.size === 0 ? 0 : 1, candidate.trusted ? 0 : 1, candidate.reasons.size, candidate.path.length];
}

function better(a: Candidate, b: Candidate): boolean {
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < ra.length; i++) {
    const x = ra[i] ?? 0;
    const y = rb[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

/**
 * Builds every issuer path from the leaf through the presented certificates and the trust store
 * (not just the presented order), scores each, and keeps the best: a verifying path if there is
 * one, else the most trusted with the fewest problems. Its problems are the verdict's reasons.
 */
export function verifyChain(input: VerifyInput): VerifyResult {
  const leaf = input.presented[0];
  if (leaf === undefined) throw new RangeError('verifyChain needs at least the leaf certificate');
  const maxDepth = input.maxDepth ?? DEFAULT_MAX_DEPTH;
  let best: Candidate | undefined;
  let explored = 0;
  // Every certificate on a scored path: their dates decided the scores, and so which path won.
  const weighed = new Set<ParsedCertificate>();

  const visit = (path: ParsedCertificate[]): void => {
    if (explored >= MAX_PATHS || (best !== undefined && best.reasons.size === 0)) return;
    const last = path[path.length - 1] ?? leaf;
    let end: PathEnd | undefined;
    if (path.length === 1 ? input.trust.isAnchorCertificate(last) : input.trust.isAnchor(last)) end = 'anchor';
    const next = end === undefined ? issuerCandidates(input, last, path) : [];
    if (end === undefined && next.length === 0) end = isSelfIssued(last) ? 'self_signed' : 'no_issuer';
    if (end === undefined && path.length > maxDepth) end = 'too_long';
    if (end !== undefined) {
      explored++;
      for (const cert of path) weighed.add(cert);
      const candidate = evaluate(input, path, end);
      if (best === undefined || better(candidate, best)) best = candidate;
      return;
    }
    for (const issuer of next) visit([...path, issuer]);
  };
  visit([leaf]);

  const chosen = best ?? evaluate(input, [leaf], 'no_issuer');
  weighed.add(leaf);
  const reasons = new Set(chosen.reasons);
  if (input.serverName !== undefined && !certificateMatchesName(leaf, input.serverName)) reasons.add('hostname_mismatch');
  return {
    verified: reasons.size === 0,
    reasons: [...reasons].sort(),
    path: chosen.path,
    trusted: chosen.trusted,
    earliestNotAfter: Math.min(...chosen.path.map((c) => c.notAfter)),
    stable: stableWindow(weighed, input.at),
  };
}
