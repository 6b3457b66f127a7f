import { createDecipheriv, createHmac, type DecipherChaCha20Poly1305, type DecipherGCM } from 'node:crypto';

/**
 * The certificate list of the Certificate message in a recording of what a server sent during a
 * handshake, read from the TLS records themselves: exactly as sent, in its order, without asking
 * Node, whose only API for it (getPeerX509Certificate) leaks the issuers in Node 20 (see
 * peer-chain.ts). TLS 1.3 sends the message encrypted under the server's handshake traffic
 * secret, which the client's keylog hands out; TLS 1.2 and older send it in the clear.
 */

/** How a TLS 1.3 server's handshake records are decrypted: the negotiated suite and its secret. */
export interface HandshakeKeys {
  /** IANA name of the cipher suite, as TLSSocket.getCipher().standardName gives it. */
  readonly cipher: string;
  /** SERVER_HANDSHAKE_TRAFFIC_SECRET from the keylog. */
  readonly serverSecret: Buffer;
}

const RECORD_HEADER = 5;
const AEAD_TAG = 16;

interface Suite {
  readonly decipher: (key: Buffer, nonce: Buffer) => DecipherGCM | DecipherChaCha20Poly1305;
  readonly keyLength: number;
  readonly hash: 'sha256' | 'sha384';
}

const gcm = (algorithm: 'aes-128-gcm' | 'aes-256-gcm') => (key: Buffer, nonce: Buffer): DecipherGCM => createDecipheriv(algorithm, key, nonce, { authTagLength: AEAD_TAG });

/** The TLS 1.3 suites a Node client offers (CCM is not among them, so no server can pick it). */
const SUITES: Readonly<Record<string, Suite>> = {
  TLS_AES_128_GCM_SHA256: { decipher: gcm('aes-128-gcm'), keyLength: 16, hash: 'sha256' },
  TLS_AES_256_GCM_SHA384: { decipher: gcm('aes-256-gcm'), keyLength: 32, hash: 'sha384' },
  TLS_CHACHA20_POLY1305_SHA256: {
    decipher: (key, nonce) => createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: AEAD_TAG }),
    keyLength: 32,
    hash: 'sha256',
  },
};

const IV_LENGTH = 12;
const CONTENT = { handshake: 22, applicationData: 23 } as const;
const CERTIFICATE_MESSAGE = 11;

/** HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, for outputs no longer than the hash. */
function expandLabel(hash: Suite['hash'], secret: Buffer, label: string, length: number): Buffer {
  const name = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, name.length]), name, Buffer.from([0, 1])]);
  return createHmac(hash, secret).update(info).digest().subarray(0, length);
}

/** Opens TLS 1.3 records in sequence; undefined from the first that does not open (one under the next keys). */
function recordOpener(keys: HandshakeKeys): ((header: Buffer, body: Buffer) => Buffer | undefined) | undefined {
  const suite = SUITES[keys.cipher];
  if (suite === undefined) return undefined;
  const key = expandLabel(suite.hash, keys.serverSecret, 'key', suite.keyLength);
  const iv = expandLabel(suite.hash, keys.serverSecret, 'iv', IV_LENGTH);
  let sequence = 0;
  return (header, body) => {
    if (body.length < AEAD_TAG) return undefined;
    const nonce = Buffer.from(iv);
    // The sequence number, XORed into the IV's last bytes; a handshake has far fewer than 2^32 records.
    nonce.writeUInt32BE((nonce.readUInt32BE(IV_LENGTH - 4) ^ sequence) >>> 0, IV_LENGTH - 4);
    sequence++;
    try {
      const decipher = suite.decipher(key, nonce);
      decipher.setAAD(header, { plaintextLength: body.length - AEAD_TAG });
      decipher.setAuthTag(body.subarray(body.length - AEAD_TAG));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - AEAD_TAG)), decipher.final()]);
    } catch {
      return undefined;
    }
  };
}

/** TLSInnerPlaintext: the content, its real type, then zero padding. */
function innerHandshake(plaintext: Buffer): Buffer | undefined {
  let end = plaintext.length;
  while (end > 0 && plaintext[end - 1] === 0) end--;
  return end > 0 && plaintext[end - 1] === CONTENT.handshake ? plaintext.subarray(0, end - 1) : undefined;
}

/**
 * The handshake messages' bytes in the recording, in order: plain records, and with `keys` the
 * encrypted ones up to the first that does not open under them. Stops at anything that is not
 * a well-formed record.
 */
function handshakeBytes(recording: Buffer, keys: HandshakeKeys | undefined): Buffer {
  const open = keys === undefined ? undefined : recordOpener(keys);
  const fragments: Buffer[] = [];
  for (let offset = 0; offset + RECORD_HEADER <= recording.length;) {
    const type = recording[offset];
    const end = offset + RECORD_HEADER + recording.readUInt16BE(offset + 3);
    if (end > recording.length) break;
    const header = recording.subarray(offset, offset + RECORD_HEADER);
    const body = recording.subarray(offset + RECORD_HEADER, end);
    offset = end;
    if (type === CONTENT.handshake) fragments.push(body);
    else if (type === CONTENT.applicationData && open !== undefined) {
      const plaintext = open(header, body);
      if (plaintext === undefined) break;
      const handshake = innerHandshake(plaintext);
      if (handshake !== undefined) fragments.push(handshake);
    }
  }
  return Buffer.concat(fragments);
}

function uint24(bytes: Buffer, offset: number): number {
  return bytes.readUIntBE(offset, 3);
}

/** The certificate_list of a Certificate message body; TLS 1.3 adds a request context before it and extensions after each entry. */
function certificateList(body: Buffer, tls13: boolean, max: number): Buffer[] | undefined {
  let offset = tls13 ? 1 + (body[0] ?? 0) : 0;
  if (offset + 3 > body.length) return undefined;
  const end = offset + 3 + uint24(body, offset);
  if (end > body.length) return undefined;
  offset += 3;
  const certificates: Buffer[] = [];
  while (offset + 3 <= end && certificates.length < max) {
    const start = offset + 3;
    offset = start + uint24(body, offset);
    if (offset > end) return undefined;
    certificates.push(body.subarray(start, offset));
    if (tls13) {
      if (offset + 2 > end) return undefined;
      offset += 2 + body.readUInt16BE(offset);
    }
  }
  return certificates;
}

/**
 * The certificates of the first Certificate message the server sent, at most `max`, as views
 * into the recording; undefined when the recording holds none that is whole (TLS 1.3 without
 * `keys`, a suite we cannot open, or bytes that are not TLS).
 */
export function certificatesInRecording(recording: Buffer, keys: HandshakeKeys | undefined, max: number): Buffer[] | undefined {
  const messages = handshakeBytes(recording, keys);
  for (let offset = 0; offset + 4 <= messages.length;) {
    const type = messages[offset];
    const end = offset + 4 + uint24(messages, offset + 1);
    if (end > messages.length) return undefined;
    if (type === CERTIFICATE_MESSAGE) return certificateList(messages.subarray(offset + 4, end), keys !== undefined, max);
    offset = end;
  }
  return undefined;
}
