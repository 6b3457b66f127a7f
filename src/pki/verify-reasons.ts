/**
 * The closed set of reasons a presented chain fails verification, with the fix an operator
 * should reach for. The contract's reasons come first; `invalid_ca` and `malformed_certificate`
 * extend it so that every failure has a reason.
 */
export const VERIFY_FAILURE_REASONS = {
  expired: 'a certificate on the chain is past its notAfter: renew it and deploy the new chain',
  not_yet_valid: 'a certificate on the chain starts in the future: check the issuing clock, or wait',
  self_signed: 'the server presents a self-signed certificate: use a CA-issued one, or trust it with ca_file',
  missing_intermediate: "the server does not send its leaf's issuer: serve the full chain file, not the leaf alone",
  untrusted_root: 'the chain ends in a CA that is not trusted: add the private root to ca_file, or use a public CA',
  hostname_mismatch: 'the certificate does not name server_name: check SNI, DNS, and CDN/WAF certificates',
  bad_signature: 'a signature on the chain does not verify: the chain is corrupt or mixes certificates of different keys',
  invalid_ca: 'an issuing certificate is not a CA (basicConstraints or keyUsage): reissue the intermediate',
  malformed_certificate: 'a certificate could not be parsed as X.509 DER: reissue it or fix its encoding',
} as const;

export type VerifyFailureReason = keyof typeof VERIFY_FAILURE_REASONS;

export const VERIFY_FAILURE_REASON_NAMES = Object.keys(VERIFY_FAILURE_REASONS) as VerifyFailureReason[];
