/**
 * The closed set of reasons a presented chain fails verification, with the fix an operator
 * should reach for. The contract's reasons come first; the rest extend it so that every rule
 * verification enforces has a reason of its own (docs/verification.md lists the rules).
 */
export const VERIFY_FAILURE_REASONS = {
  expired: 'a certificate on the chain is past its notAfter: renew it and deploy the new chain',
  not_yet_valid: 'a certificate on the chain starts in the future: check the issuing clock, or wait',
  self_signed: 'the server presents a self-signed certificate: use a CA-issued one, or trust it with ca_file',
  missing_intermediate: "the server does not send its leaf's issuer: serve the full chain file, not the leaf alone",
  untrusted_root: 'the chain ends in a CA that is not trusted: add the private root to ca_file, or use a public CA',
  hostname_mismatch: 'the certificate does not name server_name: check SNI, DNS, and CDN/WAF certificates',
  bad_signature: 'a signature on the chain does not verify: the chain is corrupt or mixes certificates of different keys',
  invalid_ca: 'an issuing certificate is not a CA (basicConstraints, keyUsage, or a v1 certificate): reissue the intermediate',
  path_length_exceeded: "the chain has more CAs below an issuer than its pathLenConstraint allows: serve the chain the CA intended",
  name_constraint_violation: "a name in the certificate is outside a CA's nameConstraints: issue it from a CA allowed to name it",
  wrong_purpose: 'the leaf (or an issuer) is not for TLS servers: extendedKeyUsage needs serverAuth, keyUsage needs digitalSignature or keyEncipherment',
  unsupported_critical_extension: 'a certificate has a critical extension no client can process: reissue it without it',
  weak_key: 'a key on the chain is too weak for the Web PKI (RSA < 2048 bits, DSA, or a curve other than P-256/384/521): reissue it',
  weak_signature: 'a certificate on the chain is signed with SHA-1 or MD5: reissue it with SHA-256 or better',
  invalid_serial: 'a serial number is zero, negative, or longer than 20 bytes: reissue the certificate',
  chain_too_long: 'no path to a trust anchor within the depth limit: serve a shorter chain',
  malformed_certificate: 'a certificate could not be parsed as X.509 DER: reissue it or fix its encoding',
  pin_mismatch: 'the leaf matches none of expected_fingerprints: if the certificate or key was replaced on purpose, update the pins; if not, find out who serves it',
  issuer_not_allowed: 'no CA on the chain is in allowed_issuers: the certificate came from a CA you did not expect; reissue from an allowed CA or update allowed_issuers',
  validity_too_long: 'the leaf is valid for longer than max_validity (398 days for the Web PKI): reissue it with a shorter lifetime',
  revoked: 'the CA has revoked the leaf (OCSP): deploy a newly issued certificate now, and find out why it was revoked',
} as const;

export type VerifyFailureReason = keyof typeof VERIFY_FAILURE_REASONS;

export const VERIFY_FAILURE_REASON_NAMES = Object.keys(VERIFY_FAILURE_REASONS) as VerifyFailureReason[];
