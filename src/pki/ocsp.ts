/**
 * OCSP (RFC 6960) without I/O: the request for a leaf, the responder URLs it names, and the
 * verdict of a response — stapled in the handshake or fetched from the responder — checked
 * against the leaf and its issuer at an injected time. pkijs types stay inside this module.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { parseCertificate, type ParsedCertificate } from './certificate';
import { readName } from './distinguished-name';
import { REVOCATION_CLOCK_SKEW_MS, revocationReasonName, type RevocationFacts } from './revocation';
import { signatureAlgorithmOf, verifySignedData } from './signature';

/** stapled: judge a response the server staples; responder: also ask the leaf's responder when none usable is stapled; none: neither. */
export type OcspMode = 'stapled' | 'responder' | 'none';

export const OCSP_STATUSES = ['good', 'revoked', 'unknown', 'error'] as const;
export type OcspStatus = (typeof OCSP_STATUSES)[number];

/** What one response says about one certificate; `error` when it says nothing we can rely on. */
export type OcspVerdict =
  | {
      readonly status: 'good' | 'unknown';
      readonly thisUpdate: number;
      /** undefined: the responder promises no next update (newer information is always available). */
      readonly nextUpdate: number | undefined;
    }
  | ({
      readonly status: 'revoked';
      readonly thisUpdate: number;
      readonly nextUpdate: number | undefined;
    } & RevocationFacts)
  | { readonly status: 'error'; readonly error: string };

export interface OcspRequest {
  readonly der: Buffer;
  /** The nonce the request carries, for the response to echo; undefined when none was sent. */
  readonly nonce: Buffer | undefined;
}

export interface OcspResponseInput {
  /** DER OCSPResponse. */
  readonly response: Buffer;
  readonly leaf: ParsedCertificate;
  /** The leaf's issuer on the verified path. */
  readonly issuer: ParsedCertificate;
  /** Epoch milliseconds to judge thisUpdate and nextUpdate at. */
  readonly at: number;
  /** The nonce the request carried; a response that echoes a different one is rejected. */
  readonly nonce?: Buffer | undefined;
}

const OID = {
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ocspAccess: '1.3.6.1.5.5.7.48.1',
  basicResponse: '1.3.6.1.5.5.7.48.1.1',
  nonce: '1.3.6.1.5.5.7.48.1.2',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  sha1: '1.3.14.3.2.26',
} as const;

const CERT_ID_HASHES: Readonly<Record<string, string>> = {
  [OID.sha1]: 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

const RESPONSE_STATUS = ['successful', 'malformedRequest', 'internalError', 'tryLater', '(unused)', 'sigRequired', 'unauthorized'];

/** Clocks of responders and of this host disagree a little. */
export const OCSP_CLOCK_SKEW_MS = REVOCATION_CLOCK_SKEW_MS;

class OcspError extends Error {
  override readonly name = 'OcspError';
}

interface LeafFacts {
  /** DER of the leaf's issuer field: what issuerNameHash covers (RFC 6960 §4.1.1). */
  readonly issuerName: Uint8Array;
  readonly responderUrls: readonly string[];
}

const leafFacts = new WeakMap<ParsedCertificate, LeafFacts>();
const keyBits = new WeakMap<ParsedCertificate, Uint8Array>();

function factsOf(leaf: ParsedCertificate): LeafFacts {
  let facts = leafFacts.get(leaf);
  if (facts === undefined) {
    const cert = pkijs.Certificate.fromBER(leaf.der);
    const urls: string[] = [];
    const aia = cert.extensions?.find((e) => e.extnID === OID.authorityInfoAccess)?.parsedValue as unknown;
    if (aia instanceof pkijs.InfoAccess) {
      for (const access of aia.accessDescriptions) {
        const location: unknown = access.accessLocation.value;
        if (access.accessMethod === OID.ocspAccess && access.accessLocation.type === 6 && typeof location === 'string') urls.push(location);
      }
    }
    facts = { issuerName: new Uint8Array(cert.issuer.valueBeforeDecode), responderUrls: urls };
    leafFacts.set(leaf, facts);
  }
  return facts;
}

/** The subjectPublicKey BIT STRING's contents: what issuerKeyHash and a byKey responder ID cover. */
function publicKeyBits(cert: ParsedCertificate): Uint8Array {
  let bits = keyBits.get(cert);
  if (bits === undefined) {
    bits = pkijs.PublicKeyInfo.fromBER(cert.spki).subjectPublicKey.valueBlock.valueHexView;
    keyBits.set(cert, bits);
  }
  return bits;
}

function digest(algorithm: string, data: Uint8Array): Buffer {
  return createHash(algorithm).update(data).digest();
}

/** The OCSP responder URLs of the leaf's authorityInfoAccess, http ones only (RFC 5280 §4.2.2.1 wants http). */
export function ocspResponderUrls(leaf: ParsedCertificate): readonly string[] {
  try {
    return factsOf(leaf).responderUrls.filter((url) => url.startsWith('http://'));
  } catch {
    return [];
  }
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

/** An unsigned request for the leaf's status, with a fresh 16-byte nonce unless told not to send one. */
export function buildOcspRequest(leaf: ParsedCertificate, issuer: ParsedCertificate, options: { readonly nonce?: boolean } = {}): OcspRequest {
  const certId = new pkijs.CertID({
    hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha1, algorithmParams: new asn1js.Null() }),
    issuerNameHash: new asn1js.OctetString({ valueHex: toArrayBuffer(digest('sha1', factsOf(leaf).issuerName)) }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: toArrayBuffer(digest('sha1', publicKeyBits(issuer))) }),
    serialNumber: new asn1js.Integer({ valueHex: toArrayBuffer(Buffer.from(leaf.serialHex, 'hex')) }),
  });
  const request = new pkijs.OCSPRequest();
  request.tbsRequest.requestList = [new pkijs.Request({ reqCert: certId })];
  const nonce = options.nonce === false ? undefined : randomBytes(16);
  if (nonce !== undefined) {
    const value = new asn1js.OctetString({ valueHex: toArrayBuffer(nonce) }).toBER(false);
    request.tbsRequest.requestExtensions = [new pkijs.Extension({ extnID: OID.nonce, critical: false, extnValue: value })];
  }
  return { der: Buffer.from(request.toSchema(true).toBER(false)), nonce };
}

function basicResponse(der: Buffer): pkijs.BasicOCSPResponse {
  const response = pkijs.OCSPResponse.fromBER(der);
  const status = response.responseStatus.valueBlock.valueDec;
  if (status !== 0) throw new OcspError(`the responder answered ${RESPONSE_STATUS[status] ?? `status ${status}`}`);
  if (response.responseBytes?.responseType !== OID.basicResponse) throw new OcspError('not a basic OCSP response');
  return pkijs.BasicOCSPResponse.fromBER(response.responseBytes.response.valueBlock.valueHexView);
}

function namesResponder(responderId: unknown, cert: ParsedCertificate): boolean {
  if (responderId instanceof pkijs.RelativeDistinguishedNames) return readName(responderId).key === cert.subject.key;
  if (responderId instanceof asn1js.OctetString) return Buffer.from(responderId.valueBlock.valueHexView).equals(digest('sha1', publicKeyBits(cert)));
  return false;
}

/**
 * RFC 6960 §4.2.2.2: the issuer signs its own responses, or a responder certificate it issued
 * for id-kp-OCSPSigning, valid now, signs them. Nothing else is trusted, not even a trust anchor.
 */
function authorizedSigner(basic: pkijs.BasicOCSPResponse, issuer: ParsedCertificate, at: number): ParsedCertificate {
  const signed = {
    tbs: basic.tbsResponseData.tbsView,
    signatureAlgorithm: signatureAlgorithmOf(basic.signatureAlgorithm),
    signature: basic.signature.valueBlock.valueHexView,
  };
  const included = (basic.certs ?? []).map((c) => parseCertificate(Buffer.from(c.toSchema().toBER(false))));
  for (const candidate of [issuer, ...included]) {
    if (!namesResponder(basic.tbsResponseData.responderID, candidate)) continue;
    const isIssuer = candidate.subject.key === issuer.subject.key && candidate.spki.equals(issuer.spki);
    const delegated = !isIssuer && candidate.issuer.key === issuer.subject.key && verifySignedData(issuer.spki, candidate)
      && (candidate.extKeyUsage ?? []).includes(OID.ocspSigning) && candidate.notBefore <= at && at <= candidate.notAfter;
    if ((isIssuer || delegated) && verifySignedData(candidate.spki, signed)) return candidate;
  }
  throw new OcspError('the response is not signed by the issuer or by a responder certificate the issuer authorized');
}

function matchingResponse(basic: pkijs.BasicOCSPResponse, leaf: ParsedCertificate, issuer: ParsedCertificate): pkijs.SingleResponse {
  const facts = factsOf(leaf);
  const found = basic.tbsResponseData.responses.find((single) => {
    const id = single.certID;
    const hash = CERT_ID_HASHES[id.hashAlgorithm.algorithmId];
    return hash !== undefined
      && Buffer.from(id.serialNumber.valueBlock.valueHexView).toString('hex') === leaf.serialHex
      && Buffer.from(id.issuerNameHash.valueBlock.valueHexView).equals(digest(hash, facts.issuerName))
      && Buffer.from(id.issuerKeyHash.valueBlock.valueHexView).equals(digest(hash, publicKeyBits(issuer)));
  });
  if (found === undefined) throw new OcspError('the response says nothing about this certificate');
  return found;
}

function checkNonce(basic: pkijs.BasicOCSPResponse, nonce: Buffer | undefined): void {
  const echoed = basic.tbsResponseData.responseExtensions?.find((e) => e.extnID === OID.nonce);
  // RFC 8954 §2: responders may leave the nonce out (pre-signed responses); one that differs is a replay.
  if (nonce === undefined || echoed === undefined) return;
  const sent = new asn1js.OctetString({ valueHex: toArrayBuffer(nonce) }).toBER(false);
  if (!Buffer.from(echoed.extnValue.valueBlock.valueHexView).equals(Buffer.from(sent))) throw new OcspError('the response echoes another nonce');
}

function revocation(status: unknown): RevocationFacts {
  const parts = status instanceof asn1js.Constructed ? status.valueBlock.value : [];
  const [time, reason] = parts;
  if (!(time instanceof asn1js.GeneralizedTime)) throw new OcspError('revokedInfo has no revocationTime');
  const code = reason instanceof asn1js.Constructed ? reason.valueBlock.value[0] : undefined;
  return {
    revokedAt: time.toDate().getTime(),
    revocationReason: code instanceof asn1js.Enumerated ? revocationReasonName(code.valueBlock.valueDec) : undefined,
  };
}

function judge(input: OcspResponseInput): OcspVerdict {
  const basic = basicResponse(input.response);
  authorizedSigner(basic, input.issuer, input.at);
  checkNonce(basic, input.nonce);
  const single = matchingResponse(basic, input.leaf, input.issuer);
  const thisUpdate = single.thisUpdate.getTime();
  const nextUpdate = single.nextUpdate?.getTime();
  if (thisUpdate > input.at + OCSP_CLOCK_SKEW_MS) throw new OcspError(`thisUpdate ${single.thisUpdate.toISOString()} is in the future`);
  const status: unknown = single.certStatus;
  if (!(status instanceof asn1js.BaseBlock) || status.idBlock.tagClass !== 3) throw new OcspError('certStatus is not good, revoked or unknown');
  // A signed revocation stays true when the response ages: only good and unknown go stale.
  if (status.idBlock.tagNumber === 1) return { status: 'revoked', thisUpdate, nextUpdate, ...revocation(status) };
  if (nextUpdate !== undefined && nextUpdate < input.at - OCSP_CLOCK_SKEW_MS) {
    throw new OcspError(`the response is stale: nextUpdate ${new Date(nextUpdate).toISOString()} has passed`);
  }
  if (status.idBlock.tagNumber === 0) return { status: 'good', thisUpdate, nextUpdate };
  if (status.idBlock.tagNumber === 2) return { status: 'unknown', thisUpdate, nextUpdate };
  throw new OcspError('certStatus is not good, revoked or unknown');
}

/** The verdict of a DER OCSPResponse on `leaf`; never throws: anything wrong with it is an `error` verdict. */
export function checkOcspResponse(input: OcspResponseInput): OcspVerdict {
  try {
    return judge(input);
  } catch (error) {
    if (error instanceof OcspError) return { status: 'error', error: error.message };
    // pkijs and asn1js throw plain errors on malformed input; all of it is the response's fault.
    return { status: 'error', error: `not a valid OCSP response: ${error instanceof Error ? error.message : String(error)}` };
  }
}
