import { createHash, createPublicKey } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { readName, type DistinguishedName } from './distinguished-name';
import { bytesToIp } from './ip-address';

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

function decode(der: Buffer): pkijs.Certificate {
  try {
    return pkijs.Certificate.fromBER(der);
  } catch (error) {
    throw new MalformedCertificateError('not an X.509 certificate', { cause: error });
  }
}

export function parseCertificate(der: Buffer): ParsedCertificate {
  const cert = decode(der);
  const notBefore = cert.notBefore.value.getTime();
  const notAfter = cert.notAfter.value.getTime();
  if (Number.isNaN(notBefore) || Number.isNaN(notAfter)) throw new MalformedCertificateError('validity is not a valid time');
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
  const parameters = cert.signatureAlgorithm.algorithmParams as unknown;
  const spki = Buffer.from(cert.subjectPublicKeyInfo.toSchema().toBER(false));
  return {
    der,
    fingerprintSha256: sha256Hex(der),
    version: cert.version + 1,
    serialHex: hex(cert.serialNumber.valueBlock.valueHexView),
    subject: readName(cert.subject),
    issuer: readName(cert.issuer),
    notBefore,
    notAfter,
    basicConstraints,
    keyUsage,
    extKeyUsage,
    hasSubjectAltName: altNames !== undefined,
    dnsNames: altNames?.dnsNames ?? [],
    ipAddresses: altNames?.ipAddresses ?? [],
    subjectKeyId,
    authorityKeyId,
    nameConstraints,
    criticalExtensions,
    spki,
    publicKey: readPublicKey(spki),
    tbs: cert.tbsView,
    tbsSignatureOid: cert.signature.algorithmId,
    signatureAlgorithm: parameters instanceof asn1js.BaseBlock && !(parameters instanceof asn1js.Null)
      ? { oid: cert.signatureAlgorithm.algorithmId, parameters: new Uint8Array(parameters.toBER(false)) }
      : { oid: cert.signatureAlgorithm.algorithmId },
    signature: cert.signatureValue.valueBlock.valueHexView,
  };
}

export function hasKeyUsage(cert: ParsedCertificate, bit: number): boolean {
  return cert.keyUsage === undefined || (cert.keyUsage & (1 << bit)) !== 0;
}
