/**
 * The trust checks beyond the chain, as `certexp check` and `certexp verify` print them:
 * revocation (OCSP, CRL) and the operator's expectations (pins, allowed issuers, lifetime).
 */
import type { ChainExpectations } from '../pki/expectations';
import type { CrlVerdict } from '../pki/crl';
import type { OcspVerdict } from '../pki/ocsp';
import type { VerifyFailureReason } from '../pki/verify-reasons';

/** What one revocation check said, in plain data (ISO times), for --json and the text form alike. */
export interface RevocationRow {
  readonly check: 'ocsp' | 'crl';
  /** Where the answer came from: stapled, responder, a CRL URL, or a file. */
  readonly source: string;
  readonly status: string;
  readonly thisUpdate: string | null;
  readonly nextUpdate: string | null;
  readonly revokedAt: string | null;
  readonly revocationReason: string | null;
  readonly error: string | null;
}

export interface ExpectationsReport {
  /** The flags as given. */
  readonly expectedFingerprints: readonly string[];
  readonly allowedIssuers: readonly string[];
  readonly maxValidityDays: number | null;
  /** False when the chain failed one of them (pin_mismatch, issuer_not_allowed, validity_too_long). */
  readonly met: boolean;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function revocationRow(check: 'ocsp' | 'crl', source: string, verdict: OcspVerdict | CrlVerdict): RevocationRow {
  if (verdict.status === 'error') {
    return { check, source, status: 'error', thisUpdate: null, nextUpdate: null, revokedAt: null, revocationReason: null, error: verdict.error };
  }
  const revoked = verdict.status === 'revoked' ? verdict : undefined;
  return {
    check, source, status: verdict.status, thisUpdate: iso(verdict.thisUpdate), nextUpdate: iso(verdict.nextUpdate),
    revokedAt: iso(revoked?.revokedAt), revocationReason: revoked?.revocationReason ?? null, error: null,
  };
}

const EXPECTATION_REASONS: readonly VerifyFailureReason[] = ['pin_mismatch', 'issuer_not_allowed', 'validity_too_long'];

/** The expectations that were checked and whether the chain met them; null when none was given. */
export function expectationsReport(
  given: { readonly expectedFingerprints: readonly string[]; readonly allowedIssuers: readonly string[] },
  expectations: ChainExpectations | undefined,
  reasons: readonly VerifyFailureReason[],
): ExpectationsReport | null {
  if (expectations === undefined) return null;
  return {
    expectedFingerprints: given.expectedFingerprints,
    allowedIssuers: given.allowedIssuers,
    maxValidityDays: expectations.maxValidityMs === undefined ? null : expectations.maxValidityMs / 86_400_000,
    met: !reasons.some((reason) => EXPECTATION_REASONS.includes(reason)),
  };
}

function describeRow(row: RevocationRow): string {
  const name = `${row.check === 'ocsp' ? 'OCSP' : 'CRL'} (${row.source})`;
  if (row.error !== null) return `${name}: error: ${row.error}`;
  const revoked = row.revokedAt === null ? '' : ` at ${row.revokedAt}${row.revocationReason === null ? '' : `, ${row.revocationReason}`}`;
  return `${name}: ${row.status}${revoked}; this update ${row.thisUpdate ?? '?'}, next update ${row.nextUpdate ?? 'none given'}`;
}

/** Lines for a person: one per revocation check, then the expectations; none when nothing was checked. */
export function renderTrustChecks(revocation: readonly RevocationRow[], expectations: ExpectationsReport | null): string[] {
  const lines: string[] = [];
  if (revocation.length > 0) lines.push('Revocation:', ...revocation.map((row) => `  ${describeRow(row)}`));
  if (expectations !== null) {
    const checked = [
      ...(expectations.expectedFingerprints.length === 0 ? [] : [`pinned to ${expectations.expectedFingerprints.join(' or ')}`]),
      ...(expectations.allowedIssuers.length === 0 ? [] : [`issued under ${expectations.allowedIssuers.map((i) => JSON.stringify(i)).join(' or ')}`]),
      ...(expectations.maxValidityDays === null ? [] : [`valid for at most ${expectations.maxValidityDays} days`]),
    ];
    lines.push(`Expectations ${expectations.met ? 'met' : 'NOT met'}: ${checked.join('; ')}`);
  }
  return lines;
}
