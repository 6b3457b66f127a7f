import type { ChainAnalysis } from '../pki/analyze-chain';
import type { ParsedCertificate } from '../pki/certificate';
import { signatureAlgorithmName } from '../pki/signature';
import { VERIFY_FAILURE_REASONS, type VerifyFailureReason } from '../pki/verify-reasons';
import { renderTrustChecks, type ExpectationsReport, type RevocationRow } from './trust-report';

const DAY_MS = 86_400_000;

export interface ReportedCertificate {
  readonly depth: number;
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly daysLeft: number;
  readonly fingerprintSha256: string;
  readonly keyType: string;
  readonly keyBits: number | null;
  readonly signatureAlgorithm: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly anchor: boolean;
}

/** The verdict as plain data: what --json prints and what the text form is rendered from. */
export interface ChainReport {
  readonly verified: boolean;
  readonly reasons: readonly VerifyFailureReason[];
  readonly fixes: Readonly<Partial<Record<VerifyFailureReason, string>>>;
  readonly at: string;
  readonly name: string | null;
  readonly policy: string;
  readonly trusted: boolean;
  /** The path verification built, leaf first. */
  readonly path: readonly ReportedCertificate[];
  /** Earliest notAfter on the path, as days from `at`; null when no path was built. */
  readonly daysLeft: number | null;
  /** Presented certificates the path did not use (extras, unused cross-signs), and unparsable ones. */
  readonly unused: readonly { readonly depth: number; readonly subject: string | null; readonly fingerprintSha256: string; readonly error: string | null }[];
  /** The revocation checks that ran (OCSP, CRL); empty when none did. */
  readonly revocation: readonly RevocationRow[];
  /** Pins, allowed issuers and maximum lifetime, when any was given. */
  readonly expectations: ExpectationsReport | null;
}

/** The checks beyond the chain itself, when the caller ran any. */
export interface TrustChecks {
  readonly revocation: readonly RevocationRow[];
  readonly expectations: ExpectationsReport | null;
}

const NO_TRUST_CHECKS: TrustChecks = { revocation: [], expectations: null };

function describe(cert: ParsedCertificate, depth: number, at: number, anchor: boolean): ReportedCertificate {
  return {
    depth,
    subject: cert.subject.text,
    issuer: cert.issuer.text,
    serial: cert.serialHex,
    notBefore: new Date(cert.notBefore).toISOString(),
    notAfter: new Date(cert.notAfter).toISOString(),
    daysLeft: Math.round(((cert.notAfter - at) / DAY_MS) * 100) / 100,
    fingerprintSha256: cert.fingerprintSha256,
    keyType: cert.publicKey.type,
    keyBits: cert.publicKey.bits ?? null,
    signatureAlgorithm: signatureAlgorithmName(cert.signatureAlgorithm),
    dnsNames: cert.dnsNames,
    ipAddresses: cert.ipAddresses,
    anchor,
  };
}

export function buildChainReport(analysis: ChainAnalysis, at: number, name: string | undefined, policy: string, trust: TrustChecks = NO_TRUST_CHECKS): ChainReport {
  const onPath = new Set(analysis.path.map((c) => c.fingerprintSha256));
  return {
    verified: analysis.verified,
    reasons: analysis.reasons,
    fixes: Object.fromEntries(analysis.reasons.map((r) => [r, VERIFY_FAILURE_REASONS[r]])),
    at: new Date(at).toISOString(),
    name: name ?? null,
    policy,
    trusted: analysis.trusted,
    daysLeft: analysis.earliestNotAfter === undefined ? null : Math.round(((analysis.earliestNotAfter - at) / DAY_MS) * 100) / 100,
    path: analysis.path.map((cert, depth) => describe(cert, depth, at, analysis.trusted && depth === analysis.path.length - 1)),
    unused: analysis.presented
      .filter((p) => !onPath.has(p.fingerprintSha256))
      .map((p) => ({ depth: p.depth, subject: p.cert?.subject.text ?? null, fingerprintSha256: p.fingerprintSha256, error: p.error ?? null })),
    revocation: trust.revocation,
    expectations: trust.expectations,
  };
}

/** The report for a person: the path, each certificate's days left, the verdict and every fix. */
export function renderChainReport(report: ChainReport): string {
  const lines: string[] = [];
  const ending = report.trusted ? 'ends at a trust anchor' : 'does not reach a trust anchor';
  lines.push(`Path (${report.path.length} certificate${report.path.length === 1 ? '' : 's'}, ${ending}):`);
  for (const cert of report.path) {
    lines.push(`  [${cert.depth}] ${cert.subject}${cert.anchor ? '  (trust anchor)' : ''}`);
    lines.push(`      issuer      ${cert.issuer}`);
    lines.push(`      valid       ${cert.notBefore} to ${cert.notAfter} (${cert.daysLeft} days left)`);
    const names = [...cert.dnsNames, ...cert.ipAddresses];
    if (cert.depth === 0) lines.push(`      names       ${names.length === 0 ? '(no subjectAltName)' : names.join(', ')}`);
    lines.push(`      key         ${cert.keyType}${cert.keyBits === null ? '' : ` ${cert.keyBits} bits`}, signed ${cert.signatureAlgorithm}`);
    lines.push(`      serial      ${cert.serial}`);
    lines.push(`      sha256      ${cert.fingerprintSha256}`);
  }
  for (const extra of report.unused) {
    lines.push(`  not on the path: presented #${extra.depth} ${extra.subject ?? `(unparsable: ${extra.error ?? 'unknown error'})`}`);
  }
  const trust = renderTrustChecks(report.revocation, report.expectations);
  if (trust.length > 0) lines.push('', ...trust);
  lines.push('');
  const checked = `at ${report.at}, ${report.name === null ? 'no name checked' : `name ${report.name}`}, policy ${report.policy}`;
  if (report.verified) {
    lines.push(`OK: the chain verifies (${checked})`);
  } else {
    lines.push(`FAILED: ${report.reasons.join(', ')} (${checked})`);
    for (const reason of report.reasons) lines.push(`  ${reason}: ${report.fixes[reason] ?? ''}`);
  }
  return `${lines.join('\n')}\n`;
}
