/**
 * What must hold for every input, however hostile: the fuzz properties, the fuzz script and the
 * regression fixtures all judge a case here, so they agree on what a bug is.
 *
 * - the pipeline never throws and answers within ANALYZE_BUDGET_MS;
 * - the verdict is coherent: reasons from the closed set, sorted, unique, verified exactly when
 *   there are none, malformed_certificate whenever a presented certificate did not parse;
 * - what the parser accepts is what docs/verification.md promises: one DER TLV with nothing after
 *   it, version 1 to 3, RFC 5280 times decoded to the right instant, a signature BIT STRING without
 *   unused bits, name strings that decode in their declared encoding.
 */
import { ChainAnalyzer, type ChainAnalysis } from '../../src/pki/analyze-chain';
import { MalformedCertificateError, parseCertificate, sha256Hex, type ParsedCertificate } from '../../src/pki/certificate';
import { CertificateCache } from '../../src/pki/certificate-cache';
import { SignatureVerifier } from '../../src/pki/signature';
import { TrustStore } from '../../src/pki/trust-store';
import { VERIFY_FAILURE_REASON_NAMES } from '../../src/pki/verify-reasons';
import { childrenOf, contentOf, isSingleDerTlv, readTbs, readTlv, splitCertificate, strictTime, TAG, validityTimes } from '../support/der';
import type { FuzzCase } from './mutations';

/**
 * One analyze call on a few certificates takes milliseconds of CPU; a second means work is not
 * bounded. CPU time, so a loaded machine does not fail a case that merely waited for a core.
 */
export const ANALYZE_BUDGET_MS = 1000;

export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export interface CaseOutcome {
  readonly analysis: ChainAnalysis | undefined;
  readonly violations: readonly string[];
  /** CPU time of the analyze call. */
  readonly elapsedMs: number;
}

function explain(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Do the string values of a Name decode in the encoding their tag declares? */
function nameStringsDecode(nameDer: Buffer): boolean {
  for (const rdn of childrenOf(nameDer, readTlv(nameDer))) {
    for (const attribute of childrenOf(nameDer, rdn)) {
      const value = childrenOf(nameDer, attribute)[1];
      if (value === undefined) continue;
      const bytes = contentOf(nameDer, value);
      if (value.tag === TAG.bmpString && bytes.length % 2 !== 0) return false;
      if (value.tag === TAG.universalString && bytes.length % 4 !== 0) return false;
      if (value.tag === TAG.utf8String) {
        try {
          utf8.decode(bytes);
        } catch {
          return false;
        }
      }
    }
  }
  return true;
}

/** What an accepted certificate's bytes must satisfy; the checks read the DER themselves, not through asn1js. */
function acceptedCertificateViolations(der: Buffer, cert: ParsedCertificate): string[] {
  if (!isSingleDerTlv(der)) return ['parser accepted bytes that are not exactly one DER TLV (trailing data, BER lengths)'];
  const out: string[] = [];
  if (cert.fingerprintSha256 !== sha256Hex(der)) out.push('fingerprint is not the SHA-256 of the DER');
  if (![1, 2, 3].includes(cert.version)) out.push(`parser accepted version ${cert.version}`);
  const times = validityTimes(der);
  const notBefore = strictTime(times.notBefore);
  const notAfter = strictTime(times.notAfter);
  const show = (t: Buffer): string => JSON.stringify(t.subarray(2).toString('latin1'));
  if (notBefore !== cert.notBefore) out.push(`notBefore ${show(times.notBefore)} read as ${new Date(cert.notBefore).toISOString()}, RFC 5280 says ${notBefore === undefined ? 'malformed' : new Date(notBefore).toISOString()}`);
  if (notAfter !== cert.notAfter) out.push(`notAfter ${show(times.notAfter)} read as ${new Date(cert.notAfter).toISOString()}, RFC 5280 says ${notAfter === undefined ? 'malformed' : new Date(notAfter).toISOString()}`);
  const { signatureValue, tbs } = splitCertificate(der);
  if (signatureValue[0] === TAG.bitString && contentOf(signatureValue, readTlv(signatureValue))[0] !== 0) out.push('signature BIT STRING has unused bits, or not even the octet that counts them');
  const fields = readTbs(tbs);
  if (!nameStringsDecode(fields.subject)) out.push('subject has a string that does not decode in its declared encoding');
  if (!nameStringsDecode(fields.issuer)) out.push('issuer has a string that does not decode in its declared encoding');
  return out;
}

function soundness(der: Buffer, cert: ParsedCertificate): string[] {
  try {
    return acceptedCertificateViolations(der, cert);
  } catch (error) {
    return [`oracle could not read accepted certificate: ${explain(error)}`];
  }
}

/** parseCertificate either returns or throws MalformedCertificateError, and what it returns is sound. */
export function parseViolations(der: Buffer): string[] {
  let cert: ParsedCertificate;
  try {
    cert = parseCertificate(der);
  } catch (error) {
    return error instanceof MalformedCertificateError ? [] : [`parseCertificate threw ${explain(error)}`];
  }
  return soundness(der, cert);
}

/**
 * The caches a long-running daemon would share. Their entries are pure functions of the bytes, so
 * sharing them across cases changes no verdict; it only spares re-parsing the unmutated seeds.
 */
const shared = { cache: new CertificateCache(20_000), signatures: new SignatureVerifier(20_000) };

export function analysisViolations(input: FuzzCase, analysis: ChainAnalysis): string[] {
  const out: string[] = [];
  const known = new Set<string>(VERIFY_FAILURE_REASON_NAMES);
  const unknown = analysis.reasons.filter((r) => !known.has(r));
  if (unknown.length > 0) out.push(`reasons outside the closed set: ${unknown.join(',')}`);
  if (analysis.reasons.join() !== [...new Set(analysis.reasons)].sort().join()) out.push(`reasons not sorted and unique: ${analysis.reasons.join(',')}`);
  if (analysis.verified !== (analysis.reasons.length === 0)) out.push(`verified=${analysis.verified} with reasons [${analysis.reasons.join(',')}]`);
  if (analysis.presented.length !== input.chain.length) out.push('presented does not list every certificate');
  const unparsed = analysis.presented.filter((p) => p.cert === undefined);
  if (unparsed.some((p) => p.error === undefined)) out.push('a certificate that did not parse has no error');
  if ((unparsed.length > 0 || input.chain.length === 0) && !analysis.reasons.includes('malformed_certificate')) {
    out.push('a certificate did not parse but malformed_certificate is not a reason');
  }
  const leaf = analysis.presented[0]?.cert;
  if (leaf !== undefined && analysis.path[0] !== leaf) out.push('the path does not start at the leaf');
  if (analysis.path.length > 0) {
    const earliest = Math.min(...analysis.path.map((c) => c.notAfter));
    if (analysis.earliestNotAfter !== earliest) out.push('earliestNotAfter is not the earliest notAfter on the path');
  }
  if (analysis.trusted && analysis.path.length === 0) out.push('trusted without a path');
  if (input.mustNotVerify === true && analysis.verified) out.push('a leaf changed without being re-signed verified');
  if (analysis.verified) {
    if (!analysis.trusted) out.push('verified without reaching a trust anchor');
    const unsigned = analysis.path.slice(0, -1).findIndex((cert, i) => {
      const issuer = analysis.path[i + 1];
      return issuer === undefined || !shared.signatures.verify(cert, issuer);
    });
    if (unsigned >= 0) out.push(`verified, but path[${unsigned}] is not signed by path[${unsigned + 1}]`);
  }
  return out;
}

/** Runs one case through ChainAnalyzer and judges the outcome, including every certificate the parser accepted. */
export function judgeCase(input: FuzzCase): CaseOutcome {
  const { cache } = shared;
  const anchors = input.anchors.flatMap((der) => {
    const parsed = cache.parse(der);
    return parsed.ok ? [parsed.cert] : [];
  });
  const analyzer = new ChainAnalyzer(cache, shared.signatures);
  const violations: string[] = [];
  let analysis: ChainAnalysis | undefined;
  const start = cpuMs();
  try {
    analysis = analyzer.analyze({
      chain: input.chain,
      trust: new TrustStore(anchors),
      serverName: input.serverName,
      at: input.at,
      ...(input.policy === undefined ? {} : { policy: input.policy }),
      ...(input.maxDepth === undefined ? {} : { maxDepth: input.maxDepth }),
    });
  } catch (error) {
    violations.push(`ChainAnalyzer.analyze threw ${explain(error)}`);
  }
  const elapsedMs = cpuMs() - start;
  if (elapsedMs > ANALYZE_BUDGET_MS) violations.push(`analyze took ${elapsedMs.toFixed(0)} ms of CPU (budget ${ANALYZE_BUDGET_MS} ms)`);
  if (analysis !== undefined) violations.push(...analysisViolations(input, analysis));
  const accepted = new Map<Buffer, ParsedCertificate>();
  for (const der of [...input.chain, ...input.anchors]) {
    const parsed = cache.parse(der);
    if (parsed.ok) accepted.set(der, parsed.cert);
  }
  for (const [der, cert] of accepted) violations.push(...soundness(der, cert));
  return { analysis, violations, elapsedMs };
}

// ---------------------------------------------------------------------------------------------
// Saving and replaying cases

interface StoredCase {
  readonly chain: readonly string[];
  readonly anchors: readonly string[];
  readonly serverName?: string;
  readonly at: number;
  readonly policy?: FuzzCase['policy'];
  readonly maxDepth?: number;
  readonly mustNotVerify?: boolean;
}

export function caseToJson(input: FuzzCase): string {
  const stored: StoredCase = {
    chain: input.chain.map((d) => d.toString('base64')),
    anchors: input.anchors.map((d) => d.toString('base64')),
    ...(input.serverName === undefined ? {} : { serverName: input.serverName }),
    at: input.at,
    ...(input.policy === undefined ? {} : { policy: input.policy }),
    ...(input.maxDepth === undefined ? {} : { maxDepth: input.maxDepth }),
    ...(input.mustNotVerify === true ? { mustNotVerify: true } : {}),
  };
  return `${JSON.stringify(stored, null, 2)}\n`;
}

export function caseFromJson(text: string): FuzzCase {
  const stored = JSON.parse(text) as StoredCase;
  return {
    chain: stored.chain.map((b) => Buffer.from(b, 'base64')),
    anchors: stored.anchors.map((b) => Buffer.from(b, 'base64')),
    serverName: stored.serverName,
    at: stored.at,
    policy: stored.policy,
    maxDepth: stored.maxDepth,
    ...(stored.mustNotVerify === true ? { mustNotVerify: true } : {}),
  };
}

/** A fixed date for replaying a lone certificate: the fixtures were cut in 2026. */
export const REPLAY_AT = Date.parse('2026-06-01T00:00:00Z');

/**
 * The cases a lone certificate fixture (`<sha256>.der`) is replayed in: alone, served twice, as
 * its own trust anchor, under both policies, with and without a name. Most parser and classifier
 * bugs live in one certificate's bytes, so these reproduce them without the PKI that made it.
 */
export function loneCertificateCases(der: Buffer): FuzzCase[] {
  const base = { anchors: [] as Buffer[], serverName: 'localhost', at: REPLAY_AT, policy: undefined, maxDepth: undefined };
  return [
    { ...base, chain: [der] },
    { ...base, chain: [der, der], serverName: undefined },
    { ...base, chain: [der], anchors: [der], policy: 'rfc5280' },
    { ...base, chain: [der], anchors: [der], serverName: '127.0.0.1', policy: 'web' },
  ];
}

/** Which lone certificate of a failing case fails on its own, if one does: the smallest fixture. */
export function loneCulprit(input: FuzzCase): Buffer | undefined {
  return [...input.chain, ...input.anchors].find((der) => loneCertificateCases(der).some((c) => judgeCase(c).violations.length > 0));
}
