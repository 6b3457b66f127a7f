/**
 * Test-side PKI toolkit: generates keys and X.509 certificates (pkijs + asn1js, Node's WebCrypto)
 * so tests can build arbitrary chains — expired, not-yet-valid, wrong-name, cross-signed, v1, weak —
 * and serve them from real TLS servers (see ./tls-server.ts).
 *
 * Everything here is for tests only; nothing is hardened.
 */
import { createHash, KeyObject, randomBytes, sign as nodeSign, webcrypto } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

export type CryptoKey = webcrypto.CryptoKey;

pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto }));

export type KeyAlgorithm = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-1024' | 'ed25519';

export interface KeyPair {
  readonly algorithm: KeyAlgorithm;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** PKCS#8, "-----BEGIN PRIVATE KEY-----". */
  readonly privateKeyPem: string;
}

export interface TestCert {
  readonly der: Buffer;
  readonly pem: string;
  /** The subject's key pair (the key certified by this certificate). */
  readonly key: KeyPair;
  readonly subjectCn: string;
  /** Lowercase hex of sha256(der). */
  readonly fingerprintSha256: string;
  /** Lowercase hex of the serialNumber INTEGER content octets. */
  readonly serialHex: string;
  /** Validity as encoded (whole seconds). */
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export type KeyUsageName = 'digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign';
export type ExtKeyUsageName = 'serverAuth' | 'clientAuth' | 'codeSigning';
export type SignatureHash = 'SHA-256' | 'SHA-384' | 'SHA-1';

export interface CertOptions {
  subjectCn: string;
  /** Omitted: self-signed with `key`. */
  issuer?: TestCert;
  /** The subject's key; default a fresh ec-p256 key. See also cachedKeyPair(). */
  key?: KeyPair;
  /** Default now - 1h. */
  notBefore?: Date;
  /** Default now + 90 days. */
  notAfter?: Date;
  /** basicConstraints cA; default false. basicConstraints is always critical. */
  ca?: boolean;
  pathLength?: number;
  omitBasicConstraints?: boolean;
  /**
   * subjectAltName dNSName entries. If neither dnsNames nor ipAddresses is given, a non-CA certificate
   * gets one SAN derived from subjectCn (dNSName, or iPAddress if the CN is an IP literal) and a CA gets none.
   * If either is given, the SAN holds exactly those entries (and is absent if both are empty).
   */
  dnsNames?: string[];
  /** subjectAltName iPAddress entries (IPv4 as 4 bytes, IPv6 as 16 bytes). */
  ipAddresses?: string[];
  omitSubjectAltName?: boolean;
  /** Default: CA -> keyCertSign+cRLSign, leaf -> digitalSignature (+keyEncipherment for RSA). [] omits the extension. */
  keyUsage?: KeyUsageName[];
  /** Default: leaf -> serverAuth, CA -> none. [] omits the extension. */
  extKeyUsage?: ExtKeyUsageName[];
  /** serialNumber INTEGER content octets, encoded as given. Default 16 random bytes, top bit cleared, first byte non-zero. */
  serial?: Buffer;
  /** Default SHA-256. Ignored for ed25519 issuers (pure EdDSA). */
  signatureHash?: SignatureHash;
  /** Default true; authorityKeyIdentifier is added when the issuer (or, self-signed, the certificate itself) has one. */
  subjectKeyIdentifier?: boolean;
  extraExtensions?: { oid: string; critical: boolean; valueDer: Buffer }[];
  /** Default 3; v1 means no extensions at all. */
  version?: 1 | 3;
}

/** n days in milliseconds. */
export function days(n: number): number {
  return n * 24 * 60 * 60 * 1000;
}

/** n hours in milliseconds. */
export function hours(n: number): number {
  return n * 60 * 60 * 1000;
}

// ---------------------------------------------------------------------------------------------
// Keys

const KEY_PARAMS: Record<KeyAlgorithm, webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams | webcrypto.Algorithm> = {
  'ec-p256': { name: 'ECDSA', namedCurve: 'P-256' },
  'ec-p384': { name: 'ECDSA', namedCurve: 'P-384' },
  'rsa-2048': { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
  'rsa-1024': { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
  ed25519: { name: 'Ed25519' },
};

/** A fresh key pair (extractable, so its PKCS#8 PEM can be handed to TLS servers). */
export async function generateKeyPair(algorithm: KeyAlgorithm): Promise<KeyPair> {
  const pair = (await webcrypto.subtle.generateKey(KEY_PARAMS[algorithm], true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', pair.privateKey);
  return {
    algorithm,
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    privateKeyPem: derToPem(Buffer.from(pkcs8), 'PRIVATE KEY'),
  };
}

const keyCache = new Map<string, Promise<KeyPair>>();

/**
 * A pre-generated key pair, memoized per (algorithm, slot) for the lifetime of the test worker —
 * use it where key generation is slow (RSA). Distinct certificates in one chain should use distinct
 * slots: certificates sharing a key share a subjectKeyIdentifier.
 */
export function cachedKeyPair(algorithm: KeyAlgorithm, slot: number | string = 0): Promise<KeyPair> {
  const cacheKey = `${algorithm}/${String(slot)}`;
  let pending = keyCache.get(cacheKey);
  if (pending === undefined) {
    pending = generateKeyPair(algorithm);
    keyCache.set(cacheKey, pending);
  }
  return pending;
}

// ---------------------------------------------------------------------------------------------
// Encoding helpers

export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const body = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

/** IPv4 -> 4 bytes, IPv6 (including "::" compression and a trailing dotted quad) -> 16 bytes. */
export function ipToBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map((part) => Number(part)));
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  const text = ip.replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted === null) return groupsToBuffer(expandIpv6Groups(text));
  // Replace the dotted quad with two placeholder groups, expand, then write the IPv4 bytes in.
  const groups = expandIpv6Groups(`${text.slice(0, -dotted[0].length)}0:0`);
  const out = groupsToBuffer(groups);
  Buffer.from(dotted.slice(1, 5).map((part) => Number(part))).copy(out, 12);
  return out;
}

function expandIpv6Groups(text: string): number[] {
  const [head = '', rest] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  if (rest === undefined) return left;
  const right = parse(rest);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function groupsToBuffer(groups: number[]): Buffer {
  if (groups.length !== 8) throw new Error('bad IPv6 address');
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => out.writeUInt16BE(group, i * 2));
  return out;
}

function truncateToSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050 (and before 1950). */
export function encodeTime(date: Date): pkijs.Time {
  const year = date.getUTCFullYear();
  const type = year >= 1950 && year < 2050 ? pkijs.TimeType.UTCTime : pkijs.TimeType.GeneralizedTime;
  return new pkijs.Time({ type, value: date });
}

const OID = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
} as const;

const EKU_OID: Record<ExtKeyUsageName, string> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
};

const KEY_USAGE_BIT: Record<KeyUsageName, number> = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
};

/** Name ::= SEQUENCE OF RDN, one attribute per RDN: O=certexp-test, CN=<cn>. */
function buildName(cn: string): pkijs.RelativeDistinguishedNames {
  const rdn = (oid: string, value: string): asn1js.Set =>
    new asn1js.Set({
      value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), new asn1js.Utf8String({ value })] })],
    });
  const der = new asn1js.Sequence({ value: [rdn(OID.organizationName, 'certexp-test'), rdn(OID.commonName, cn)] }).toBER();
  // Parsed back so pkijs keeps the exact bytes (its own encoder would merge the attributes into one multi-valued RDN).
  return pkijs.RelativeDistinguishedNames.fromBER(der);
}

/** DER-encoded KeyUsage BIT STRING (named bit list: trailing zero bits dropped). */
function keyUsageBitString(names: KeyUsageName[]): asn1js.BitString {
  let highest = -1;
  let bits = 0;
  for (const name of names) {
    const bit = KEY_USAGE_BIT[name];
    bits |= 0x8000 >> bit;
    highest = Math.max(highest, bit);
  }
  const byteCount = highest < 8 ? 1 : 2;
  const bytes = byteCount === 1 ? new Uint8Array([bits >> 8]) : new Uint8Array([bits >> 8, bits & 0xff]);
  return new asn1js.BitString({ valueHex: toArrayBuffer(bytes), unusedBits: byteCount * 8 - (highest + 1) });
}

interface Encodable {
  toSchema(): asn1js.BaseBlock;
}

export function extension(extnID: string, critical: boolean, value: asn1js.BaseBlock | Encodable | Buffer): pkijs.Extension {
  let der: ArrayBuffer;
  if (Buffer.isBuffer(value)) der = toArrayBuffer(value);
  else if (value instanceof asn1js.BaseBlock) der = value.toBER();
  else der = value.toSchema().toBER();
  return new pkijs.Extension({ extnID, critical, extnValue: der });
}

function subjectKeyIdentifierOf(certificate: pkijs.Certificate): ArrayBuffer | undefined {
  const ext = certificate.extensions?.find((e) => e.extnID === OID.subjectKeyIdentifier);
  if (ext === undefined) return undefined;
  const parsed = asn1js.fromBER(ext.extnValue.valueBlock.valueHexView);
  if (!(parsed.result instanceof asn1js.OctetString)) throw new Error('malformed subjectKeyIdentifier');
  return toArrayBuffer(parsed.result.valueBlock.valueHexView);
}

interface SignatureAlgorithm {
  readonly identifier: pkijs.AlgorithmIdentifier;
  /** Node digest name, or null for pure EdDSA. */
  readonly digest: string | null;
}

function signatureAlgorithmFor(algorithm: KeyAlgorithm, hash: SignatureHash): SignatureAlgorithm {
  const digest = hash.replace('-', '').toLowerCase();
  if (algorithm === 'ed25519') {
    return { identifier: new pkijs.AlgorithmIdentifier({ algorithmId: '1.3.101.112' }), digest: null };
  }
  if (algorithm === 'ec-p256' || algorithm === 'ec-p384') {
    const oid = { 'SHA-1': '1.2.840.10045.4.1', 'SHA-256': '1.2.840.10045.4.3.2', 'SHA-384': '1.2.840.10045.4.3.3' }[hash];
    return { identifier: new pkijs.AlgorithmIdentifier({ algorithmId: oid }), digest };
  }
  const oid = { 'SHA-1': '1.2.840.113549.1.1.5', 'SHA-256': '1.2.840.113549.1.1.11', 'SHA-384': '1.2.840.113549.1.1.12' }[hash];
  return { identifier: new pkijs.AlgorithmIdentifier({ algorithmId: oid, algorithmParams: new asn1js.Null() }), digest };
}

/** Signs DER `tbs` with `signer` the way certificates here are signed: the AlgorithmIdentifier to embed and the signature. */
export function signTbs(signer: KeyPair, tbs: Uint8Array, hash: SignatureHash = 'SHA-256'): { identifier: pkijs.AlgorithmIdentifier; signature: Buffer } {
  const { identifier, digest } = signatureAlgorithmFor(signer.algorithm, hash);
  return { identifier, signature: nodeSign(digest, tbs, KeyObject.from(signer.privateKey)) };
}

function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  if (serial[0] === 0) serial[0] = 1; // keep the INTEGER minimally encoded (DER)
  return serial;
}

// ---------------------------------------------------------------------------------------------
// Certificates

export async function createCertificate(opts: CertOptions): Promise<TestCert> {
  const key = opts.key ?? (await generateKeyPair('ec-p256'));
  const now = Date.now();
  const notBefore = truncateToSeconds(opts.notBefore ?? new Date(now - hours(1)));
  const notAfter = truncateToSeconds(opts.notAfter ?? new Date(now + days(90)));
  const isCa = opts.ca ?? false;
  const serial = opts.serial ?? randomSerial();
  const version = opts.version ?? 3;

  const subject = buildName(opts.subjectCn);
  const issuerParsed = opts.issuer === undefined ? undefined : pkijs.Certificate.fromBER(opts.issuer.der);
  const signerKey = opts.issuer === undefined ? key : opts.issuer.key;

  const spkiDer = new Uint8Array(await webcrypto.subtle.exportKey('spki', key.publicKey));
  const subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(spkiDer);

  const certificate = new pkijs.Certificate();
  certificate.version = version === 1 ? 0 : 2;
  certificate.serialNumber = new asn1js.Integer({ valueHex: toArrayBuffer(serial) });
  certificate.issuer = issuerParsed === undefined ? subject : issuerParsed.subject;
  certificate.subject = subject;
  certificate.notBefore = encodeTime(notBefore);
  certificate.notAfter = encodeTime(notAfter);
  certificate.subjectPublicKeyInfo = subjectPublicKeyInfo;

  if (version === 3) {
    const extensions: pkijs.Extension[] = [];
    if (opts.omitBasicConstraints !== true) {
      const basicConstraints = new pkijs.BasicConstraints({
        cA: isCa,
        ...(opts.pathLength === undefined ? {} : { pathLenConstraint: opts.pathLength }),
      });
      extensions.push(extension(OID.basicConstraints, true, basicConstraints));
    }

    const isRsa = key.algorithm === 'rsa-2048' || key.algorithm === 'rsa-1024';
    const keyUsage: KeyUsageName[] =
      opts.keyUsage ?? (isCa ? ['keyCertSign', 'cRLSign'] : isRsa ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']);
    if (keyUsage.length > 0) extensions.push(extension(OID.keyUsage, true, keyUsageBitString(keyUsage)));

    const extKeyUsage: ExtKeyUsageName[] = opts.extKeyUsage ?? (isCa ? [] : ['serverAuth']);
    if (extKeyUsage.length > 0) {
      extensions.push(
        extension(OID.extKeyUsage, false, new pkijs.ExtKeyUsage({ keyPurposes: extKeyUsage.map((name) => EKU_OID[name]) })),
      );
    }

    let ownSki: ArrayBuffer | undefined;
    if (opts.subjectKeyIdentifier ?? true) {
      const bitString = subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
      ownSki = toArrayBuffer(createHash('sha1').update(bitString).digest());
      extensions.push(extension(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: ownSki })));
    }
    const authorityKeyId = issuerParsed === undefined ? ownSki : subjectKeyIdentifierOf(issuerParsed);
    if (authorityKeyId !== undefined) {
      const aki = new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: authorityKeyId }) });
      extensions.push(extension(OID.authorityKeyIdentifier, false, aki));
    }

    if (opts.omitSubjectAltName !== true) {
      let dnsNames = opts.dnsNames;
      let ipAddresses = opts.ipAddresses;
      if (dnsNames === undefined && ipAddresses === undefined && !isCa) {
        if (isIPv4(opts.subjectCn) || isIPv6(opts.subjectCn)) ipAddresses = [opts.subjectCn];
        else dnsNames = [opts.subjectCn];
      }
      const names = [
        ...(dnsNames ?? []).map((value) => new pkijs.GeneralName({ type: 2, value })),
        ...(ipAddresses ?? []).map(
          (ip) => new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: toArrayBuffer(ipToBytes(ip)) }) }),
        ),
      ];
      if (names.length > 0) extensions.push(extension(OID.subjectAltName, false, new pkijs.GeneralNames({ names })));
    }

    for (const extra of opts.extraExtensions ?? []) extensions.push(extension(extra.oid, extra.critical, extra.valueDer));
    if (extensions.length > 0) certificate.extensions = extensions;
  }

  const hash = opts.signatureHash ?? 'SHA-256';
  const { identifier } = signatureAlgorithmFor(signerKey.algorithm, hash);
  certificate.signature = identifier;
  certificate.signatureAlgorithm = identifier;
  certificate.tbsView = new Uint8Array(certificate.encodeTBS().toBER());
  const { signature } = signTbs(signerKey, certificate.tbsView, hash);
  certificate.signatureValue = new asn1js.BitString({ valueHex: toArrayBuffer(signature) });

  const der = Buffer.from(certificate.toSchema().toBER());
  return {
    der,
    pem: derToPem(der),
    key,
    subjectCn: opts.subjectCn,
    fingerprintSha256: createHash('sha256').update(der).digest('hex'),
    serialHex: serial.toString('hex'),
    notBefore,
    notAfter,
  };
}
