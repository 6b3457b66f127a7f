/**
 * The certificates in a PKCS#12 (.p12, .pfx) archive, in the archive's order. Each step maps
 * to a reason of its own, so a wrong password is never mistaken for a damaged file.
 *
 * Private keys are never decrypted: shrouded key bags stay ciphertext, and a plain key bag
 * is passed over as an opaque bag, as every bag but certificates is.
 */
import { webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { Secret } from '../web/secret';
import type { FileReadFailure } from './file-read-reasons';

const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto });

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  pbes2: '1.2.840.113549.1.5.13',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
} as const;

/** MAC digests pkijs verifies: SHA-1 (openssl -legacy and older), SHA-256 (OpenSSL 3), SHA-384, SHA-512. */
const MAC_DIGESTS: ReadonlySet<string> = new Set(['1.3.14.3.2.26', '2.16.840.1.101.3.4.2.1', '2.16.840.1.101.3.4.2.2', '2.16.840.1.101.3.4.2.3']);

/** AES-128/192/256-CBC: the PBES2 ciphers WebCrypto has (OpenSSL 3 uses AES-256-CBC). */
const PBES2_CIPHERS: ReadonlySet<string> = new Set(['2.16.840.1.101.3.4.1.2', '2.16.840.1.101.3.4.1.22', '2.16.840.1.101.3.4.1.42']);

/** SafeContents bags nest; real archives nest once at most. */
const MAX_NESTING = 4;

export type Pkcs12Result = { readonly certificates: readonly Buffer[] } | FileReadFailure;

/** A copy that owns its whole buffer, as pkijs and WebCrypto want. */
const toArrayBuffer = (bytes: Uint8Array): ArrayBuffer => new Uint8Array(bytes).buffer;

function oidOf(block: unknown): string | undefined {
  return block instanceof asn1js.ObjectIdentifier ? block.valueBlock.toString() : undefined;
}

/** The single element inside an EXPLICIT [0] wrapper. */
function explicit(block: unknown): unknown {
  return block instanceof asn1js.Constructed && block.idBlock.tagClass === 3 && block.idBlock.tagNumber === 0 ? block.valueBlock.value[0] : undefined;
}

/** The DER of every X.509 certificate bag in a SafeContents; undefined when it is not one. */
function certificateBags(safeContents: unknown, depth: number): Buffer[] | undefined {
  if (!(safeContents instanceof asn1js.Sequence)) return undefined;
  const certificates: Buffer[] = [];
  for (const bag of safeContents.valueBlock.value) {
    if (!(bag instanceof asn1js.Sequence)) return undefined;
    const [id, value] = bag.valueBlock.value;
    const bagId = oidOf(id);
    if (bagId === undefined) return undefined;
    if (bagId === OID.certBag) {
      const certBag = explicit(value);
      if (!(certBag instanceof asn1js.Sequence)) return undefined;
      const [certId, certValue] = certBag.valueBlock.value;
      const der = explicit(certValue);
      // Other certificate types (SDSI) are not X.509: nothing to report about them.
      if (oidOf(certId) !== OID.x509Certificate) continue;
      if (!(der instanceof asn1js.OctetString)) return undefined;
      certificates.push(Buffer.from(der.getValue()));
    } else if (bagId === OID.safeContentsBag && depth < MAX_NESTING) {
      const nested = certificateBags(explicit(value), depth + 1);
      if (nested === undefined) return undefined;
      certificates.push(...nested);
    }
  }
  return certificates;
}

function parseSafeContents(bytes: ArrayBuffer): Buffer[] | undefined {
  const asn1 = asn1js.fromBER(bytes);
  return asn1.offset === -1 ? undefined : certificateBags(asn1.result, 0);
}

/** The PBES2 cipher of an EncryptedData, when it is one WebCrypto can run. */
function supportedCipher(encrypted: pkijs.EncryptedData): boolean {
  const algorithm = encrypted.encryptedContentInfo.contentEncryptionAlgorithm;
  if (algorithm.algorithmId !== OID.pbes2) return false;
  try {
    return PBES2_CIPHERS.has(new pkijs.PBES2Params({ schema: algorithm.algorithmParams }).encryptionScheme.algorithmId);
  } catch {
    return false;
  }
}

async function decrypted(content: unknown, password: ArrayBuffer): Promise<ArrayBuffer | FileReadFailure> {
  let encrypted: pkijs.EncryptedData;
  try {
    encrypted = new pkijs.EncryptedData({ schema: content });
  } catch {
    return { reason: 'not_a_certificate', error: 'a PKCS#12 EncryptedData does not parse' };
  }
  if (!supportedCipher(encrypted)) {
    return { reason: 'pkcs12_unsupported', error: `certificates encrypted with ${encrypted.encryptedContentInfo.contentEncryptionAlgorithm.algorithmId}, not PBES2 with AES-CBC` };
  }
  try {
    return await engine.decryptEncryptedContentInfo({ encryptedContentInfo: encrypted.encryptedContentInfo, password });
  } catch {
    return { reason: 'pkcs12_decrypt_failed', error: 'the certificates do not decrypt with the password' };
  }
}

/** The AuthenticatedSafe's ContentInfos, read without the password; a failure when the archive is not one. */
async function structure(der: Buffer, password: ArrayBuffer): Promise<{ pfx: pkijs.PFX; safe: pkijs.AuthenticatedSafe } | FileReadFailure> {
  const notPkcs12: FileReadFailure = { reason: 'not_a_certificate', error: 'not a certificate and not a PKCS#12 archive' };
  const asn1 = asn1js.fromBER(toArrayBuffer(der));
  if (asn1.offset === -1) return notPkcs12;
  let pfx: pkijs.PFX;
  try {
    pfx = new pkijs.PFX({ schema: asn1.result });
  } catch {
    return notPkcs12;
  }
  if (pfx.authSafe.contentType !== OID.data) {
    return { reason: 'pkcs12_unsupported', error: 'the archive uses public-key integrity (SignedData), not a password' };
  }
  try {
    await pfx.parseInternalValues({ password, checkIntegrity: false }, engine);
  } catch {
    return notPkcs12;
  }
  const safe = pfx.parsedValue?.authenticatedSafe;
  return safe === undefined ? notPkcs12 : { pfx, safe };
}

/** Checks the archive's MAC, when it has one (openssl pkcs12 -nomac writes none). */
async function integrity(pfx: pkijs.PFX, password: ArrayBuffer): Promise<FileReadFailure | undefined> {
  if (pfx.macData === undefined) return undefined;
  const digest = pfx.macData.mac.digestAlgorithm.algorithmId;
  if (!MAC_DIGESTS.has(digest)) return { reason: 'pkcs12_unsupported', error: `integrity MAC with digest ${digest}` };
  try {
    // The structure parsed without the password, so a failure here is the MAC alone.
    await pfx.parseInternalValues({ password, checkIntegrity: true }, engine);
    return undefined;
  } catch {
    return { reason: 'pkcs12_wrong_password', error: 'the integrity MAC does not verify with the password' };
  }
}

/** The certificates of a PKCS#12 archive, leaf first where the archive puts it first (OpenSSL does). */
export async function pkcs12Certificates(der: Buffer, password: Secret | undefined): Promise<Pkcs12Result> {
  // No password file means the empty password, as for openssl pkcs12 -passin pass:.
  const secret = toArrayBuffer(new TextEncoder().encode(password?.reveal() ?? ''));
  const parsed = await structure(der, secret);
  if ('reason' in parsed) return parsed;
  const bad = await integrity(parsed.pfx, secret);
  if (bad !== undefined) return bad;
  const certificates: Buffer[] = [];
  for (const info of parsed.safe.safeContents) {
    let bytes: ArrayBuffer;
    if (info.contentType === OID.data && info.content instanceof asn1js.OctetString) {
      bytes = info.content.getValue();
    } else if (info.contentType === OID.encryptedData) {
      const plain = await decrypted(info.content, secret);
      if (!(plain instanceof ArrayBuffer)) return plain;
      bytes = plain;
    } else {
      return { reason: 'pkcs12_unsupported', error: `a part of the archive is ${info.contentType}, not data or password-encrypted data` };
    }
    const found = parseSafeContents(bytes);
    if (found === undefined) {
      // Garbage out of a decryption is a wrong password that no MAC caught.
      return info.contentType === OID.data
        ? { reason: 'not_a_certificate', error: 'a PKCS#12 SafeContents does not parse' }
        : { reason: 'pkcs12_decrypt_failed', error: 'the decrypted certificates do not parse' };
    }
    certificates.push(...found);
  }
  if (certificates.length === 0) return { reason: 'not_a_certificate', error: 'the PKCS#12 archive holds no certificate' };
  return { certificates };
}
