import { createHash, createPublicKey } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { childrenOf, DerError, readElement, rfc5280Time, TAG } from './der';
import { readName, readSharedName, type DistinguishedName } from './distinguished-name';
import { bytesToIp } from './ip-address';
import { InternPool } from '../intern-pool';

/** keyUsage bits (RFC 5280 §4.2.1.3) that verification looks at. */
export const KEY_USAGE = { digitalSignature: 0, keyEncipherment: 2, keyAgreement: 4, keyCertSign: 5, cRLSign: 6 } as const;

export interface PublicKeyInfo {
  /** Node's asymmetricKeyType: rsa, rsa-pss, ec, dsa, ed25519, ed448; 'unknown' when OpenSSL cannot load it. */
  readonly type: string;
  /** Modulus (RSA, DSA) or curve size in bits. */
  readonly bits: number | undefined;
  /** Named curve of an EC key: prime256v1, secp384r1, ... */
  readonly curve: string | undefined;
}

/** One permitted or excluded subtree of a nameConstraints extension (RFC 5280 §4.2.1.10). */
export type NameSubtree =
  | { readonly kind: 'dns'; readonly name: string }
  | { readonly kind: 'ip'; readonly address: Buffer; readonly mask: Buffer }
  | { readonly kind: 'other'; readonly type: number };

export interface NameConstraints {
  readonly permitted: readonly NameSubtree[];
  readonly excluded: readonly NameSubtree[];
}

export interface SignatureAlgorithm {
  readonly oid: string;
  /** DER of the AlgorithmIdentifier parameters; RSASSA-PSS needs them. */
  readonly parameters?: Uint8Array;
}

/**
 * One certificate, decoded once. Plain values only: pkijs types do not leave this module, so
 * the rest of the program (and its tests) can reason about certificates without ASN.1.
 */
export interface ParsedCertificate {
  readonly der: Buffer;
  readonly fingerprintSha256: string;
  readonly version: number;
  readonly serialHex: string;
  readonly subject: DistinguishedName;
  readonly issuer: DistinguishedName;
  readonly notBefore: number;
  readonly notAfter: number;
  /** undefined when the extension is absent. */
  readonly basicConstraints: { readonly ca: boolean; readonly pathLength: number | undefined } | undefined;
  /** Bit mask over KEY_USAGE positions; undefined when the extension is absent. */
  readonly keyUsage: number | undefined;
  readonly extKeyUsage: readonly string[] | undefined;
  readonly hasSubjectAltName: boolean;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly subjectKeyId: string | undefined;
  readonly authorityKeyId: string | undefined;
  readonly nameConstraints: NameConstraints | undefined;
  readonly criticalExtensions: readonly string[];
  readonly spki: Buffer;
  readonly publicKey: PublicKeyInfo;
  readonly tbs: Uint8Array;
  readonly tbsSignatureOid: string;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly signature: Uint8Array;
}

export class MalformedCertificateError extends Error {
  override readonly name = 'MalformedCertificateError';
}

const EXT = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  nameConstraints: '2.5.29.30',
} as const;

export function sha256Hex(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

function hex(view: Uint8Array): string {
  return Buffer.from(view).toString('hex');
}

/** The extension's decoded value, or a MalformedCertificateError: a broken extension is never ignored. */
function parsedValue<T extends object>(extension: pkijs.Extension, type: abstract new (...args: never[]) => T): T {
  const value: unknown = extension.parsedValue;
  if (value instanceof type && !('parsingError' in value && value.parsingError)) return value;
  throw new MalformedCertificateError(`extension ${extension.extnID} is not well-formed`);
}

function readKeyUsage(extension: pkijs.Extension): number {
  const value: unknown = extension.parsedValue;
  if (!(value instanceof asn1js.BitString)) throw new MalformedCertificateError('keyUsage is not a BIT STRING');
  const bytes = value.valueBlock.valueHexView;
  let mask = 0;
  for (let bit = 0; bit < Math.min(bytes.length * 8, 9); bit++) {
    if (((bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) mask |= 1 << bit;
  }
  return mask;
}

function readPathLength(value: pkijs.BasicConstraints['pathLenConstraint']): number | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'number' ? value : value.valueBlock.valueDec;
}

interface AltNames { dnsNames: string[]; ipAddresses: string[] }

function readAltNames(extension: pkijs.Extension): AltNames {
  const names: AltNames = { dnsNames: [], ipAddresses: [] };
  for (const general of parsedValue(extension, pkijs.AltName).altNames) {
    if (general.type === 2 && typeof general.value === 'string') names.dnsNames.push(general.value);
    if (general.type === 7 && general.value instanceof asn1js.OctetString) {
      names.ipAddresses.push(bytesToIp(general.value.valueBlock.valueHexView));
    }
  }
  return names;
}

const CURVE_BITS: Readonly<Record<string, number>> = { prime192v1: 192, secp224r1: 224, prime256v1: 256, secp384r1: 384, secp521r1: 521 };

function readPublicKey(spki: Buffer): PublicKeyInfo {
  try {
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    const details = key.asymmetricKeyDetails ?? {};
    const curve = details.namedCurve;
    const bits = details.modulusLength ?? (curve === undefined ? undefined : CURVE_BITS[curve]);
    return { type: key.asymmetricKeyType ?? 'unknown', bits, curve };
  } catch {
    return { type: 'unknown', bits: undefined, curve: undefined };
  }
}

function readSubtree(subtree: pkijs.GeneralSubtree): NameSubtree {
  const { type } = subtree.base;
  const value: unknown = subtree.base.value;
  if (type === 2 && typeof value === 'string') return { kind: 'dns', name: value.toLowerCase() };
  if (type === 7 && value instanceof asn1js.OctetString) {
    const bytes = Buffer.from(value.valueBlock.valueHexView);
    if (bytes.length !== 8 && bytes.length !== 32) throw new MalformedCertificateError('nameConstraints iPAddress is not an address and mask');
    return { kind: 'ip', address: bytes.subarray(0, bytes.length / 2), mask: bytes.subarray(bytes.length / 2) };
  }
  return { kind: 'other', type };
}

function readNameConstraints(extension: pkijs.Extension): NameConstraints {
  const value = parsedValue(extension, pkijs.NameConstraints);
  return {
    permitted: (value.permittedSubtrees ?? []).map(readSubtree),
    excluded: (value.excludedSubtrees ?? []).map(readSubtree),
  };
}

/** Octets needed for `value` in base 2^bits: the shortest, and so the only DER, spelling of a tag or length. */
function minimalOctets(value: number, bits: number): number {
  let octets = 1;
  for (let rest = value; rest >= 2 ** bits; rest = Math.floor(rest / 2 ** bits)) octets++;
  return octets;
}

/**
 * DER, not merely BER (X.690 §10): tags and definite lengths in their shortest form, strings
 * primitive. asn1js accepts BER (and its own "needlessly long" warning misfires on lengths like
 * 0x0200); the signature covers the bytes as sent, so a BER re-spelling of a signed certificate
 * would otherwise verify under a new fingerprint.
 */
function assertDer(root: asn1js.AsnType): void {
  const pending: asn1js.AsnType[] = [root];
  for (let block = pending.pop(); block !== undefined; block = pending.pop()) {
    const { idBlock, lenBlock } = block;
    const tagOctets = idBlock.tagNumber < 31 ? 1 : 1 + minimalOctets(idBlock.tagNumber, 7);
    const lengthOctets = lenBlock.length < 128 ? 1 : 1 + minimalOctets(lenBlock.length, 8);
    if (lenBlock.isIndefiniteForm || idBlock.blockLength !== tagOctets || lenBlock.blockLength !== lengthOctets) {
      throw new MalformedCertificateError('not DER: an indefinite or needlessly long tag or length');
    }
    // asn1js lets a child run past its parent's length when the buffer goes on: the lengths must agree.
    if (block.valueBlock.blockLength !== lenBlock.length) throw new MalformedCertificateError('a length disagrees with its content');
    if (idBlock.tagClass === 1 && idBlock.isConstructed && idBlock.tagNumber !== 16 && idBlock.tagNumber !== 17) {
      throw new MalformedCertificateError('not DER: a constructed string');
    }
    if (idBlock.tagClass === 1 && !idBlock.isConstructed) {
      assertPrimitiveContent(idBlock.tagNumber, block.valueBeforeDecodeView.subarray(idBlock.blockLength + lenBlock.blockLength));
    }
    if (block instanceof asn1js.Constructed) pending.push(...block.valueBlock.value);
  }
}

/**
 * X.690 content rules asn1js does not enforce: a BOOLEAN is one octet, 00 or FF (DER §11.1); an
 * INTEGER has at least one octet (§8.3.1); a BIT STRING starts with its unused-bits octet (§8.6.2).
 * asn1js reads "01 03 6c 6f 63" as TRUE and "02 00" or "03 00" as empty values.
 */
function assertPrimitiveContent(tagNumber: number, content: Uint8Array): void {
  if (tagNumber === 1 && !(content.length === 1 && (content[0] === 0x00 || content[0] === 0xff))) {
    throw new MalformedCertificateError('not DER: a BOOLEAN other than 00 or FF');
  }
  if ((tagNumber === 2 || tagNumber === 3) && content.length === 0) throw new MalformedCertificateError('an INTEGER or BIT STRING has no content');
}

function decode(der: Buffer): { cert: pkijs.Certificate; tbs: asn1js.AsnType | undefined } {
  const asn1 = asn1js.fromBER(der);
  if (asn1.offset === -1) throw new MalformedCertificateError(`not an X.509 certificate: ${asn1.result.error}`);
  // A TLS Certificate entry is exactly one certificate (RFC 8446 §4.4.2): bytes after it are not ignored.
  if (asn1.offset !== der.length) throw new MalformedCertificateError(`${der.length - asn1.offset} bytes after the certificate`);
  assertDer(asn1.result);
  let cert: pkijs.Certificate;
  try {
    cert = new pkijs.Certificate({ schema: asn1.result });
  } catch (error) {
    throw new MalformedCertificateError('not an X.509 certificate', { cause: error });
  }
  const tbs = asn1.result instanceof asn1js.Sequence ? asn1.result.valueBlock.value[0] : undefined;
  return { cert, tbs };
}

/** A validity time, read by rfc5280Time: asn1js does not get to decide when a certificate expires. */
function readTime(block: asn1js.AsnType | undefined, field: string): number {
  const generalized = block instanceof asn1js.GeneralizedTime;
  if (!generalized && !(block instanceof asn1js.UTCTime)) throw new MalformedCertificateError(`${field} is not a time`);
  const text = Buffer.from(block.valueBlock.valueHexView).toString('latin1');
  const time = rfc5280Time(text, generalized);
  if (time === undefined) throw new MalformedCertificateError(`${field} ${JSON.stringify(text)} is not an RFC 5280 time`);
  return time;
}

function readValidity(tbs: asn1js.AsnType | undefined): { notBefore: number; notAfter: number } {
  const fields = tbs instanceof asn1js.Sequence ? tbs.valueBlock.value : [];
  const first = fields[0]?.idBlock;
  const versioned = first?.tagClass === 3 && first.tagNumber === 0;
  const validity = fields[versioned ? 4 : 3];
  const times = validity instanceof asn1js.Sequence ? validity.valueBlock.value : [];
  return { notBefore: readTime(times[0], 'notBefore'), notAfter: readTime(times[1], 'notAfter') };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** asn1js falls back to Latin-1 for a UTF8String that is not UTF-8, so two different names could compare equal. */
function assertNameStrings(name: pkijs.RelativeDistinguishedNames, field: string): void {
  for (const attribute of name.typesAndValues) {
    const value: unknown = attribute.value;
    if (!(value instanceof asn1js.Utf8String)) continue;
    try {
      utf8.decode(value.valueBlock.valueHexView);
    } catch {
      throw new MalformedCertificateError(`${field} has a UTF8String that is not UTF-8`);
    }
  }
}

const RSASSA_PSS = '1.2.840.113549.1.1.10';

/** RSASSA-PSS parameters that do not decode would throw wherever the signature is looked at later. */
function assertPssParameters(parameters: Uint8Array): void {
  const asn1 = asn1js.fromBER(parameters);
  try {
    if (asn1.offset === -1) throw new Error(asn1.result.error);
    new pkijs.RSASSAPSSParams({ schema: asn1.result });
  } catch (error) {
    throw new MalformedCertificateError('RSASSA-PSS parameters are not well-formed', { cause: error });
  }
}

function readSignatureAlgorithm(cert: pkijs.Certificate): SignatureAlgorithm {
  const oid = cert.signatureAlgorithm.algorithmId;
  const parameters = cert.signatureAlgorithm.algorithmParams as unknown;
  if (!(parameters instanceof asn1js.BaseBlock) || parameters instanceof asn1js.Null) return { oid };
  const bytes = new Uint8Array(parameters.toBER(false));
  if (oid === RSASSA_PSS) assertPssParameters(bytes);
  return { oid, parameters: bytes };
}

/**
 * The signed bytes, the key and the signature as views of the DER, not copies: at 10,000 targets
 * a copy of each is megabytes, and the DER is kept anyway. Called once asn1js has vouched for the
 * structure, so a surprise here is still malformed input.
 */
function signedParts(der: Buffer): { tbs: Buffer; spki: Buffer; signature: Buffer } {
  try {
    const [tbs, , signature] = childrenOf(der, readElement(der, 0, der.length));
    const fields = tbs === undefined ? [] : [...childrenOf(der, tbs)];
    const spki = fields[fields[0]?.tag === TAG.context0 ? 6 : 5];
    if (tbs === undefined || spki === undefined || signature === undefined) throw new DerError('a certificate is TBS, algorithm and signature');
    // The BIT STRING's first content octet counts unused bits (0, checked in parseDecoded).
    return { tbs: der.subarray(tbs.start, tbs.end), spki: der.subarray(spki.start, spki.end), signature: der.subarray(signature.contentStart + 1, signature.end) };
  } catch (error) {
    throw new MalformedCertificateError('not an X.509 certificate', { cause: error });
  }
}

/**
 * Every way a certificate can be malformed ends in MalformedCertificateError, whatever pkijs or
 * asn1js throw on the way: callers classify by that type.
 */
export function parseCertificate(der: Buffer): ParsedCertificate {
  try {
    return parseDecoded(der);
  } catch (error) {
    if (error instanceof MalformedCertificateError) throw error;
    throw new MalformedCertificateError(`not an X.509 certificate: ${String(error)}`, { cause: error });
  }
}

function parseDecoded(der: Buffer): ParsedCertificate {
  const { cert, tbs } = decode(der);
  if (cert.version < 0 || cert.version > 2) throw new MalformedCertificateError(`version ${cert.version + 1} is not 1, 2 or 3`);
  const { notBefore, notAfter } = readValidity(tbs);
  // The signature is a whole number of octets; OpenSSL rejects unused bits too.
  if (cert.signatureValue.valueBlock.unusedBits !== 0) throw new MalformedCertificateError('signature BIT STRING has unused bits');
  assertNameStrings(cert.subject, 'subject');
  assertNameStrings(cert.issuer, 'issuer');
  const signatureAlgorithm = readSignatureAlgorithm(cert);
  let basicConstraints: ParsedCertificate['basicConstraints'];
  let keyUsage: number | undefined;
  let extKeyUsage: string[] | undefined;
  let altNames: AltNames | undefined;
  let subjectKeyId: string | undefined;
  let authorityKeyId: string | undefined;
  let nameConstraints: NameConstraints | undefined;
  const criticalExtensions: string[] = [];
  const seen = new Set<string>();
  for (const extension of cert.extensions ?? []) {
    if (seen.has(extension.extnID)) throw new MalformedCertificateError(`extension ${extension.extnID} appears twice`);
    seen.add(extension.extnID);
    if (extension.critical) criticalExtensions.push(extension.extnID);
    switch (extension.extnID) {
      case EXT.basicConstraints: {
        const value = parsedValue(extension, pkijs.BasicConstraints);
        basicConstraints = { ca: value.cA, pathLength: readPathLength(value.pathLenConstraint) };
        break;
      }
      case EXT.keyUsage:
        keyUsage = readKeyUsage(extension);
        break;
      case EXT.extKeyUsage:
        extKeyUsage = parsedValue(extension, pkijs.ExtKeyUsage).keyPurposes;
        break;
      case EXT.subjectAltName:
        altNames = readAltNames(extension);
        break;
      case EXT.subjectKeyId: {
        const value: unknown = extension.parsedValue;
        if (!(value instanceof asn1js.OctetString)) throw new MalformedCertificateError('subjectKeyIdentifier is not an OCTET STRING');
        subjectKeyId = hex(value.valueBlock.valueHexView);
        break;
      }
      case EXT.nameConstraints:
        nameConstraints = readNameConstraints(extension);
        break;
      case EXT.authorityKeyId: {
        const keyId = parsedValue(extension, pkijs.AuthorityKeyIdentifier).keyIdentifier;
        authorityKeyId = keyId === undefined ? undefined : hex(keyId.valueBlock.valueHexView);
        break;
      }
    }
  }
  const { tbs: tbsBytes, spki, signature } = signedParts(der);
  return {
    der,
    fingerprintSha256: sha256Hex(der),
    version: cert.version + 1,
    serialHex: hex(cert.serialNumber.valueBlock.valueHexView),
    subject: readName(cert.subject),
    issuer: readSharedName(cert.issuer),
    notBefore,
    notAfter,
    basicConstraints,
    keyUsage,
    extKeyUsage: extKeyUsage === undefined ? undefined : sharedList(extKeyUsage),
    hasSubjectAltName: altNames !== undefined,
    // A leaf's names are its own: only the empty list is shared.
    dnsNames: ownOrNone(altNames?.dnsNames),
    ipAddresses: ownOrNone(altNames?.ipAddresses),
    subjectKeyId,
    authorityKeyId,
    nameConstraints,
    criticalExtensions: sharedList(criticalExtensions),
    spki,
    publicKey: readPublicKey(spki),
    tbs: tbsBytes,
    tbsSignatureOid: cert.signature.algorithmId,
    signatureAlgorithm,
    signature,
  };
}

/**
 * Lists that most certificates hold alike (EKU purposes, critical extensions, no IP addresses, no
 * names): one frozen array for each, not one per certificate of 10,000.
 */
const sharedLists = new InternPool<readonly string[]>(1024);

function sharedList(list: readonly string[]): readonly string[] {
  return sharedLists.get(list.join('\n'), () => Object.freeze([...list]));
}

const NO_STRINGS: readonly string[] = Object.freeze([]);

function ownOrNone(list: readonly string[] | undefined): readonly string[] {
  return list === undefined || list.length === 0 ? NO_STRINGS : list;
}

export function hasKeyUsage(cert: ParsedCertificate, bit: number): boolean {
  return cert.keyUsage === undefined || (cert.keyUsage & (1 << bit)) !== 0;
}
