/**
 * A certificate file's bytes to the chain it holds, in file order: a PEM bundle, a DER
 * certificate or a PKCS#12 archive, told apart by content, not by the file's name. Whether
 * those certificates parse and verify is the chain analyzer's business, as for a server's chain.
 *
 * PEM private key blocks are recognised by their label and never decoded.
 */
import { pemToDer } from '../pki/pem';
import type { Secret } from '../web/secret';
import type { FileReadFailure } from './file-read-reasons';
import { pkcs12Certificates } from './pkcs12';

export type DecodedFile =
  | { readonly kind: 'chain'; readonly chain: readonly Buffer[] }
  /** Private keys (and key parameters) alone: the key beside a certificate, matched by a broad glob such as *.pem. */
  | { readonly kind: 'keys_only' }
  | ({ readonly kind: 'failure' } & FileReadFailure);

const PEM_LABEL = /-----BEGIN ([A-Z0-9 ]+)-----/g;
const KEY_LABEL = /(PRIVATE KEY|PARAMETERS)$/;

function failure(detail: FileReadFailure): DecodedFile {
  return { kind: 'failure', ...detail };
}

function decodePem(text: string): DecodedFile {
  const labels = [...text.matchAll(PEM_LABEL)].map((m) => m[1] ?? '');
  const announced = labels.filter((label) => label === 'CERTIFICATE').length;
  if (announced === 0) {
    if (labels.length > 0 && labels.every((label) => KEY_LABEL.test(label))) return { kind: 'keys_only' };
    return failure({ reason: 'not_a_certificate', error: `PEM blocks ${[...new Set(labels)].join(', ')} but no CERTIFICATE` });
  }
  const chain = pemToDer(text);
  if (chain.length !== announced) {
    return failure({ reason: 'malformed_pem', error: `${announced - chain.length} of ${announced} CERTIFICATE blocks have no END line or are not base64` });
  }
  return { kind: 'chain', chain };
}

interface OuterSequence {
  /** Tag of the first element inside: SEQUENCE for a certificate (its TBSCertificate), INTEGER for PKCS#12 (version 3). */
  readonly innerTag: number | undefined;
  /** Where the SEQUENCE ends; undefined for BER's indefinite length. */
  readonly end: number | undefined;
}

/** The header of a leading DER/BER SEQUENCE; undefined when the bytes do not start with one. */
function outerSequence(bytes: Buffer): OuterSequence | undefined {
  if (bytes[0] !== 0x30 || bytes.length < 2) return undefined;
  const first = bytes[1] ?? 0;
  if (first === 0x80) return { innerTag: bytes[2], end: undefined };
  if (first < 0x80) return { innerTag: bytes[2], end: 2 + first };
  const octets = first & 0x7f;
  if (octets > 4 || bytes.length < 2 + octets) return undefined;
  const length = bytes.readUIntBE(2, octets);
  return { innerTag: bytes[2 + octets], end: 2 + octets + length };
}

export async function decodeCertificateFile(bytes: Buffer, password: Secret | undefined): Promise<DecodedFile> {
  // Latin-1 maps every byte to one character: binary content cannot throw, and PEM is ASCII.
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN ')) return decodePem(text);
  const outer = outerSequence(bytes);
  if (outer?.innerTag === 0x30) {
    // A DER certificate; bytes after it (a trailing newline some tools write) are not part of it.
    return { kind: 'chain', chain: [outer.end === undefined ? bytes : bytes.subarray(0, outer.end)] };
  }
  if (outer?.innerTag === 0x02) {
    const result = await pkcs12Certificates(bytes, password);
    return 'reason' in result ? failure(result) : { kind: 'chain', chain: result.certificates };
  }
  return failure({ reason: 'not_a_certificate', error: 'neither PEM, nor a DER certificate, nor a PKCS#12 archive' });
}
