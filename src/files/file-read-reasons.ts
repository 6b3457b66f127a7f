/**
 * The closed set of reasons certexp could not get certificates out of a file, with the fix an
 * operator should reach for. What the certificates then say is verification's business
 * (src/pki/verify-reasons.ts), exactly as for a TLS target.
 */
export const FILE_READ_REASONS = {
  not_found: 'the file does not exist, or is a link to nothing: check the path, and that the secret or volume is mounted',
  permission_denied: "the exporter's user may not read the file: grant read access (for Kubernetes secrets, defaultMode or fsGroup)",
  not_a_file: 'the path is a directory, pipe, socket or device, not a regular file: name the certificate file itself',
  too_large: 'the file is larger than a certificate bundle can sensibly be (1 MiB): check the path names a certificate',
  read_failed: 'the file could not be read (I/O error, a loop of links): check the file system and the path',
  not_a_certificate: 'the file holds no PEM CERTIFICATE block, DER certificate or PKCS#12 archive: check the path names a certificate',
  malformed_pem: 'a PEM CERTIFICATE block is cut off or is not base64: the file was written partly or edited by hand; write it again',
  pkcs12_wrong_password: "the PKCS#12 file's integrity check fails with the password of pkcs12_password_file: the password is wrong, or the file is damaged",
  pkcs12_decrypt_failed: 'the certificates in the PKCS#12 file would not decrypt: a wrong password on a file without integrity check, or a damaged file',
  pkcs12_unsupported: 'the PKCS#12 file uses an algorithm certexp does not decrypt (RC2, 3DES and SHA-1 PBEs of openssl -legacy, public-key modes): re-export it with AES (OpenSSL 3 defaults)',
} as const;

export type FileReadReason = keyof typeof FILE_READ_REASONS;

export interface FileReadFailure {
  readonly reason: FileReadReason;
  /** For logs and the status page; never contains file contents or the password. */
  readonly error: string;
}
