import { createPublicKey, constants, verify, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { ParsedCertificate, SignatureAlgorithm } from './certificate';

const HASH_BY_OID: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

type Scheme =
  | { readonly kind: 'pkcs1' | 'ecdsa' | 'dsa'; readonly hash: string }
  | { readonly kind: 'eddsa' }
  | { readonly kind: 'pss' };

const SCHEMES: Readonly<Record<string, Scheme>> = {
  '1.2.840.113549.1.1.4': { kind: 'pkcs1', hash: 'md5' },
  '1.2.840.113549.1.1.5': { kind: 'pkcs1', hash: 'sha1' },
  '1.2.840.113549.1.1.14': { kind: 'pkcs1', hash: 'sha224' },
  '1.2.840.113549.1.1.11': { kind: 'pkcs1', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { kind: 'pkcs1', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { kind: 'pkcs1', hash: 'sha512' },
  '1.2.840.113549.1.1.10': { kind: 'pss' },
  '1.2.840.10045.4.1': { kind: 'ecdsa', hash: 'sha1' },
  '1.2.840.10045.4.3.1': { kind: 'ecdsa', hash: 'sha224' },
  '1.2.840.10045.4.3.2': { kind: 'ecdsa', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { kind: 'ecdsa', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { kind: 'ecdsa', hash: 'sha512' },
  '1.2.840.10040.4.3': { kind: 'dsa', hash: 'sha1' },
  '2.16.840.1.101.3.4.3.2': { kind: 'dsa', hash: 'sha256' },
  '1.3.101.112': { kind: 'eddsa' },
  '1.3.101.113': { kind: 'eddsa' },
};

function pssOptions(algorithm: SignatureAlgorithm): { hash: string; saltLength: number } | undefined {
  if (algorithm.parameters === undefined) return undefined;
  const asn1 = asn1js.fromBER(algorithm.parameters);
  if (asn1.offset === -1) return undefined;
  const params = new pkijs.RSASSAPSSParams({ schema: asn1.result });
  const hash = HASH_BY_OID[params.hashAlgorithm.algorithmId];
  return hash === undefined ? undefined : { hash, saltLength: params.saltLength };
}

/** A readable name for the algorithm, in OpenSSL's spelling where it has one; the OID otherwise. */
export function signatureAlgorithmName(algorithm: SignatureAlgorithm): string {
  const scheme = SCHEMES[algorithm.oid];
  if (scheme === undefined) return algorithm.oid;
  switch (scheme.kind) {
    case 'pkcs1': return `${scheme.hash}WithRSAEncryption`;
    case 'ecdsa': return `ecdsa-with-${scheme.hash.toUpperCase()}`;
    case 'dsa': return `dsa-with-${scheme.hash.toUpperCase()}`;
    case 'pss': return `rsassaPss-${pssOptions(algorithm)?.hash ?? 'unknown'}`;
    case 'eddsa': return algorithm.oid === '1.3.101.112' ? 'Ed25519' : 'Ed448';
  }
}

/** The digest a signature algorithm uses ('sha256', 'sha1', ...), undefined for EdDSA or an unknown algorithm. */
export function signatureDigest(algorithm: SignatureAlgorithm): string | undefined {
  const scheme = SCHEMES[algorithm.oid];
  if (scheme === undefined || scheme.kind === 'eddsa') return undefined;
  return scheme.kind === 'pss' ? pssOptions(algorithm)?.hash : scheme.hash;
}

/** What a signature covers and how it was made: a certificate, or an OCSP response's tbsResponseData. */
export interface SignedData {
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly signature: Uint8Array;
}

function checkSignature(key: KeyObject, subject: SignedData): boolean {
  const algorithm = subject.signatureAlgorithm;
  const scheme = SCHEMES[algorithm.oid];
  if (scheme === undefined) return false;
  switch (scheme.kind) {
    case 'eddsa':
      return verify(null, subject.tbs, key, subject.signature);
    case 'pss': {
      const pss = pssOptions(algorithm);
      return pss !== undefined && verify(pss.hash, subject.tbs,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pss.saltLength }, subject.signature);
    }
    case 'pkcs1':
      return verify(scheme.hash, subject.tbs, { key, padding: constants.RSA_PKCS1_PADDING }, subject.signature);
    case 'ecdsa':
    case 'dsa':
      return verify(scheme.hash, subject.tbs, { key, dsaEncoding: 'der' }, subject.signature);
  }
}

/**
 * Signature checks by (subject, issuer) fingerprint pair: the result of a pure computation over
 * two immutable inputs, and the costliest step of verification, so every repeat is a lookup.
 */
export class SignatureVerifier {
  private readonly results = new Map<string, boolean>();
  private readonly keys = new Map<string, KeyObject | null>();

  constructor(private readonly capacity = 50_000) {}

  verify(subject: ParsedCertificate, issuer: ParsedCertificate): boolean {
    const pair = `${subject.fingerprintSha256}:${issuer.fingerprintSha256}`;
    let result = this.results.get(pair);
    if (result === undefined) {
      const key = this.publicKey(issuer);
      result = key !== null && subject.tbsSignatureOid === subject.signatureAlgorithm.oid && attempt(() => checkSignature(key, subject), false);
      this.remember(this.results, pair, result);
    }
    return result;
  }

  private publicKey(cert: ParsedCertificate): KeyObject | null {
    let key = this.keys.get(cert.fingerprintSha256);
    if (key === undefined) {
      key = attempt<KeyObject | null>(() => createPublicKey({ key: cert.spki, format: 'der', type: 'spki' }), null);
      this.remember(this.keys, cert.fingerprintSha256, key);
    }
    return key;
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= this.capacity) map.clear();
    map.set(key, value);
  }
}

/** The algorithm of a signature as pkijs reads it (OCSP responses, CRLs), in the form the checks here take. */
export function signatureAlgorithmOf(identifier: pkijs.AlgorithmIdentifier): SignatureAlgorithm {
  const parameters = identifier.algorithmParams as unknown;
  return parameters instanceof asn1js.BaseBlock && !(parameters instanceof asn1js.Null)
    ? { oid: identifier.algorithmId, parameters: new Uint8Array(parameters.toBER(false)) }
    : { oid: identifier.algorithmId };
}

/** Whether `signed` verifies with the key of `spki` (DER SubjectPublicKeyInfo); an unusable key or encoding does not. */
export function verifySignedData(spki: Buffer, signed: SignedData): boolean {
  return attempt(() => checkSignature(createPublicKey({ key: spki, format: 'der', type: 'spki' }), signed), false);
}

/** OpenSSL rejects some keys and signature encodings by throwing; for us that is a failed check. */
function attempt<T>(run: () => T, fallback: T): T {
  try {
    return run();
  } catch {
    return fallback;
  }
}
