/** What OCSP (src/pki/ocsp.ts) and CRLs (src/pki/crl.ts) share: reason names and the clock skew tolerated. */

/** RFC 5280 §5.3.1 CRLReason, by code; 7 is unused. */
const CRL_REASONS = [
  'unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation',
  'certificateHold', '(unused)', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise',
];

/** The CRLReason name of a code, as OCSP responses and CRL entries carry it. */
export function revocationReasonName(code: number): string {
  return CRL_REASONS[code] ?? `reason ${code}`;
}

/** Clocks of CAs, responders and this host disagree a little; RFC 5019 §4 suggests tolerating it. */
export const REVOCATION_CLOCK_SKEW_MS = 5 * 60_000;

/** When and why the CA revoked a certificate. */
export interface RevocationFacts {
  readonly revokedAt: number;
  /** RFC 5280 CRLReason name (keyCompromise, superseded, ...), undefined when the CA gives none. */
  readonly revocationReason: string | undefined;
}
