/**
 * Test-side DER surgery: read TLVs, rebuild certificates field by field and re-sign them, so
 * hostile tests produce exactly the bytes they mean (a UTCTime of "500101000000Z", an empty
 * subject, a 40-byte serial) instead of whatever an encoder would emit.
 *
 * Also a strict RFC 5280 §4.1.2.5 time decoder, independent of asn1js, that the fuzz oracle holds
 * parseCertificate to. Nothing here is hardened: it throws on input it cannot read.
 */
import { KeyObject, sign as nodeSign } from 'node:crypto';
import type { KeyPair } from './pki';

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  universalString: 0x1c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
  /** [0] EXPLICIT, constructed: the TBS version. */
  context0: 0xa0,
  /** [3] EXPLICIT, constructed: the TBS extensions. */
  context3: 0xa3,
} as const;

/** One TLV inside a buffer. */
export interface Tlv {
  /** The first identifier octet: class, constructed bit, and the tag number when below 31. */
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Identifier octets: 1, or more for a high tag number. */
  readonly tagLength: number;
  /** Identifier and length octets. */
  readonly headerLength: number;
  /** Content length in octets. */
  readonly length: number;
  /** Offset just past the content. */
  readonly end: number;
}

/** Reads the TLV at `start`; throws when its header is not DER or its content overruns the buffer. */
export function readTlv(buf: Uint8Array, start = 0): Tlv {
  const tag = buf[start];
  if (tag === undefined) throw new RangeError(`no TLV at ${start}`);
  let offset = start + 1;
  if ((tag & 0x1f) === 0x1f) {
    // High tag number: base-128 octets, the first not 0x80, the number at least 31 (X.690 §8.1.2.4).
    let number = 0;
    if (buf[offset] === 0x80) throw new RangeError(`non-minimal tag at ${start}`);
    for (let octet = buf[offset]; ; octet = buf[offset]) {
      if (octet === undefined || offset - start > 4) throw new RangeError(`bad tag at ${start}`);
      number = number * 128 + (octet & 0x7f);
      offset++;
      if ((octet & 0x80) === 0) break;
    }
    if (number < 31) throw new RangeError(`non-minimal tag at ${start}`);
  }
  const first = buf[offset];
  if (first === undefined) throw new RangeError(`no length at ${start}`);
  let length = first;
  let headerLength = offset - start + 1;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new RangeError(`indefinite or oversized length at ${start}`);
    length = 0;
    for (let i = 0; i < count; i++) {
      const octet = buf[offset + 1 + i];
      if (octet === undefined) throw new RangeError(`length runs past the end at ${start}`);
      length = length * 256 + octet;
    }
    if (length < 0x80 || buf[offset + 1] === 0) throw new RangeError(`non-minimal length at ${start}`);
    headerLength += count;
  }
  const end = start + headerLength + length;
  if (end > buf.length) throw new RangeError(`content runs past the end at ${start}`);
  return { tag, start, tagLength: offset - start, headerLength, length, end };
}

export function isConstructed(tlv: Tlv): boolean {
  return (tlv.tag & 0x20) !== 0;
}

/** The content octets of a TLV. */
export function contentOf(buf: Uint8Array, tlv: Tlv): Buffer {
  return Buffer.from(buf.subarray(tlv.start + tlv.headerLength, tlv.end));
}

/** The whole TLV (header and content). */
export function bytesOf(buf: Uint8Array, tlv: Tlv): Buffer {
  return Buffer.from(buf.subarray(tlv.start, tlv.end));
}

/** The TLVs directly inside a constructed TLV, in order. */
export function childrenOf(buf: Uint8Array, tlv: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let offset = tlv.start + tlv.headerLength;
  while (offset < tlv.end) {
    const child = readTlv(buf.subarray(0, tlv.end), offset);
    out.push(child);
    offset = child.end;
  }
  return out;
}

/** X.690 §8.2, §8.3, §8.6 and DER §11.1: content every BOOLEAN, INTEGER and BIT STRING must have. */
function primitiveIsDer(buf: Uint8Array, tlv: Tlv): boolean {
  const first = buf[tlv.start + tlv.headerLength];
  if (tlv.tag === TAG.boolean) return tlv.length === 1 && (first === 0x00 || first === 0xff);
  if (tlv.tag === TAG.integer || tlv.tag === TAG.bitString) return tlv.length > 0;
  return true;
}

/**
 * Is the buffer exactly one well-formed DER TLV? Every constructed level is walked (strings are
 * not: their content is opaque here), lengths must be minimal, BOOLEANs 00 or FF, INTEGERs and
 * BIT STRINGs non-empty, and universal strings primitive.
 */
export function isSingleDerTlv(buf: Uint8Array): boolean {
  try {
    const walk = (tlv: Tlv): void => {
      if (!isConstructed(tlv)) {
        if (!primitiveIsDer(buf, tlv)) throw new RangeError(`not DER content at ${tlv.start}`);
        return;
      }
      const universal = (tlv.tag & 0xc0) === 0;
      if (universal && tlv.tag !== TAG.sequence && tlv.tag !== TAG.set) throw new RangeError(`constructed string at ${tlv.start}`);
      childrenOf(buf, tlv).forEach(walk);
    };
    const top = readTlv(buf, 0);
    walk(top);
    return top.end === buf.length;
  } catch {
    return false;
  }
}

/** Every TLV in the buffer, depth first, for mutators that edit a length or a whole field. */
export function allTlvs(buf: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  const walk = (tlv: Tlv): void => {
    out.push(tlv);
    if (!isConstructed(tlv)) return;
    try {
      childrenOf(buf, tlv).forEach(walk);
    } catch {
      // A mutated buffer may hold a constructed TLV whose content is not TLVs: stop there.
    }
  };
  try {
    walk(readTlv(buf, 0));
  } catch {
    return out;
  }
  return out;
}

export function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

/** DER of one TLV from its tag and content parts. */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

export function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const octets: number[] = [];
  for (const arc of [a * 40 + b, ...rest]) {
    const base128: number[] = [];
    for (let v = arc; ; v = Math.floor(v / 128)) {
      base128.unshift((v % 128) | (base128.length === 0 ? 0 : 0x80));
      if (v < 128) break;
    }
    octets.push(...base128);
  }
  return tlv(TAG.oid, Buffer.from(octets));
}

export function utcTime(text: string): Buffer {
  return tlv(TAG.utcTime, Buffer.from(text, 'latin1'));
}

export function generalizedTime(text: string): Buffer {
  return tlv(TAG.generalizedTime, Buffer.from(text, 'latin1'));
}

/** Name ::= SEQUENCE OF RDN, one attribute per RDN, each given as (type OID, value TLV). */
export function name(...attributes: readonly (readonly [string, Buffer])[]): Buffer {
  return tlv(TAG.sequence, ...attributes.map(([type, value]) => tlv(TAG.set, tlv(TAG.sequence, oid(type), value))));
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
export function extension(extnId: string, critical: boolean, valueDer: Uint8Array): Buffer {
  return tlv(TAG.sequence, oid(extnId), ...(critical ? [tlv(TAG.boolean, Buffer.from([0xff]))] : []), tlv(TAG.octetString, valueDer));
}

// ---------------------------------------------------------------------------------------------
// Certificates

export interface CertificateParts {
  readonly tbs: Buffer;
  readonly signatureAlgorithm: Buffer;
  readonly signatureValue: Buffer;
}

export function splitCertificate(der: Uint8Array): CertificateParts {
  const [tbs, signatureAlgorithm, signatureValue] = childrenOf(der, readTlv(der));
  if (tbs === undefined || signatureAlgorithm === undefined || signatureValue === undefined) throw new RangeError('not a Certificate');
  return { tbs: bytesOf(der, tbs), signatureAlgorithm: bytesOf(der, signatureAlgorithm), signatureValue: bytesOf(der, signatureValue) };
}

/** The TBSCertificate's fields as whole TLVs (RFC 5280 §4.1). Unique IDs are kept in `rest`, untouched. */
export interface TbsFields {
  version: Buffer | undefined;
  serialNumber: Buffer;
  signature: Buffer;
  issuer: Buffer;
  validity: Buffer;
  subject: Buffer;
  subjectPublicKeyInfo: Buffer;
  /** issuerUniqueID, subjectUniqueID: whatever sits between the key and the extensions. */
  rest: Buffer[];
  /** The [3] wrapper's content: SEQUENCE OF Extension; undefined when absent. */
  extensions: Buffer[] | undefined;
}

export function readTbs(tbs: Uint8Array): TbsFields {
  const fields = childrenOf(tbs, readTlv(tbs));
  const take = (): Buffer => {
    const next = fields.shift();
    if (next === undefined) throw new RangeError('TBSCertificate is short of fields');
    return bytesOf(tbs, next);
  };
  const version = fields[0]?.tag === TAG.context0 ? take() : undefined;
  const [serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo] = [take(), take(), take(), take(), take(), take()];
  const last = fields[fields.length - 1];
  let extensions: Buffer[] | undefined;
  if (last?.tag === TAG.context3) {
    fields.pop();
    const [list] = childrenOf(tbs, last);
    extensions = list === undefined ? [] : childrenOf(tbs, list).map((e) => bytesOf(tbs, e));
  }
  return { version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, rest: fields.map((f) => bytesOf(tbs, f)), extensions };
}

export function writeTbs(fields: TbsFields): Buffer {
  return tlv(
    TAG.sequence,
    ...(fields.version === undefined ? [] : [fields.version]),
    fields.serialNumber,
    fields.signature,
    fields.issuer,
    fields.validity,
    fields.subject,
    fields.subjectPublicKeyInfo,
    ...fields.rest,
    ...(fields.extensions === undefined ? [] : [tlv(TAG.context3, tlv(TAG.sequence, ...fields.extensions))]),
  );
}

/** The OID of an Extension TLV, as a comparable hex string of its encoding. */
export function extensionOidHex(extensionDer: Uint8Array): string {
  const [id] = childrenOf(extensionDer, readTlv(extensionDer));
  return id === undefined ? '' : bytesOf(extensionDer, id).toString('hex');
}

/** Signs `tbs` with `signer` (the issuer's key) and assembles the Certificate around it. */
export function signTbs(tbs: Buffer, signatureAlgorithm: Buffer, signer: KeyPair): Buffer {
  const digest = signer.algorithm === 'ed25519' ? null : 'sha256';
  const signature = nodeSign(digest, tbs, KeyObject.from(signer.privateKey));
  return tlv(TAG.sequence, tbs, signatureAlgorithm, tlv(TAG.bitString, Buffer.from([0]), signature));
}

/**
 * A copy of `der` with its TBS fields edited and re-signed by `signer`, so the only thing wrong
 * with the result is the edit. The signature algorithm stays as it was: the signer must be the
 * key that signed the original (its issuer's, or its own when self-signed), with SHA-256.
 */
export function rebuildCertificate(der: Uint8Array, signer: KeyPair, edit: (fields: TbsFields) => void): Buffer {
  const parts = splitCertificate(der);
  const fields = readTbs(parts.tbs);
  edit(fields);
  return signTbs(writeTbs(fields), parts.signatureAlgorithm, signer);
}

/** The raw notBefore and notAfter TLVs of a certificate. */
export function validityTimes(der: Uint8Array): { notBefore: Buffer; notAfter: Buffer } {
  const { validity } = readTbs(splitCertificate(der).tbs);
  const [notBefore, notAfter] = childrenOf(validity, readTlv(validity));
  if (notBefore === undefined || notAfter === undefined) throw new RangeError('Validity is short of times');
  return { notBefore: bytesOf(validity, notBefore), notAfter: bytesOf(validity, notAfter) };
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/**
 * Epoch milliseconds of a Time TLV as RFC 5280 §4.1.2.5 defines it, or undefined when it is not
 * one: UTCTime is YYMMDDHHMMSSZ with YY >= 50 meaning 19YY and YY < 50 meaning 20YY;
 * GeneralizedTime is YYYYMMDDHHMMSSZ without fractional seconds; every field in its range.
 */
export function strictTime(timeTlv: Uint8Array): number | undefined {
  let header: Tlv;
  try {
    header = readTlv(timeTlv);
  } catch {
    return undefined;
  }
  if (header.end !== timeTlv.length) return undefined;
  const text = contentOf(timeTlv, header).toString('latin1');
  const match = header.tag === TAG.utcTime ? UTC_TIME.exec(text) : header.tag === TAG.generalizedTime ? GENERALIZED_TIME.exec(text) : null;
  if (match === null) return undefined;
  const [y, mo, d, h, mi, s] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const year = header.tag === TAG.generalizedTime ? y : y >= 50 ? 1900 + y : 2000 + y;
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const at = new Date(0);
  at.setUTCFullYear(year, mo - 1, d);
  at.setUTCHours(h, mi, s, 0);
  // A day past the month's end (31 April) rolls over in Date: it is not a date.
  return at.getUTCDate() === d ? at.getTime() : undefined;
}
