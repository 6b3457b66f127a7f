/**
 * CRLs (RFC 5280 §5) without I/O: the distribution points a leaf names, what a CRL fetched from
 * one holds once it is checked against the leaf's issuer, and the leaf's status in it at an
 * injected time. pkijs types stay inside this module.
 *
 * Scope: complete CRLs issued by the leaf's own issuer. Delta CRLs, indirect CRLs and CRLs
 * limited to CA or attribute certificates are reported as unsupported (status error); a CRL
 * partitioned by reason (onlySomeReasons) is trusted when it lists the leaf, and is an error
 * when it does not, since it cannot say the leaf is good.
 */
import * as pkijs from 'pkijs';
import { hasKeyUsage, KEY_USAGE, type ParsedCertificate } from './certificate';
import { childrenOf, contentOf, DerError, expectElement, oidText, readElement, rfc5280Time, TAG, type DerElement } from './der';
import { readName } from './distinguished-name';
import { pemToDer } from './pem';
import { REVOCATION_CLOCK_SKEW_MS, revocationReasonName, type RevocationFacts } from './revocation';
import { signatureAlgorithmOf, verifySignedData } from './signature';

/** distribution_point: fetch the CRL of the leaf's cRLDistributionPoints; none: do not. */
export type CrlMode = 'distribution_point' | 'none';

export const CRL_STATUSES = ['good', 'revoked', 'error'] as const;
export type CrlStatus = (typeof CRL_STATUSES)[number];

/** What a CRL says about one certificate; `error` when it says nothing we can rely on. */
export type CrlVerdict =
  | { readonly status: 'good'; readonly thisUpdate: number; readonly nextUpdate: number | undefined }
  | ({ readonly status: 'revoked'; readonly thisUpdate: number; readonly nextUpdate: number | undefined } & RevocationFacts)
  | { readonly status: 'error'; readonly error: string };

/** One place to fetch the leaf's CRL from. */
export interface DistributionPoint {
  readonly url: string;
  /** Every URI of its distribution point: an issuingDistributionPoint in the CRL must name one of them. */
  readonly names: readonly string[];
}

export interface DistributionPoints {
  /** The http:// points, in the certificate's order. */
  readonly http: readonly DistributionPoint[];
  /** What the certificate names that is not fetched (ldap://, https://, points of another CRL issuer or of some reasons only). */
  readonly unsupported: readonly string[];
}

/** A CRL as read once per fetch: signed by the issuer, in a scope we handle, revoked serials by lowercase hex. */
export interface CheckedCrl {
  readonly thisUpdate: number;
  readonly nextUpdate: number | undefined;
  readonly revoked: ReadonlyMap<string, RevocationFacts>;
  /** onlySomeReasons: the CRL lists revocations for some reasons only, so a leaf it does not list may still be revoked. */
  readonly someReasonsOnly: boolean;
}

const OID = {
  crlDistributionPoints: '2.5.29.31',
  issuingDistributionPoint: '2.5.29.28',
  deltaCrlIndicator: '2.5.29.27',
  reasonCode: '2.5.29.21',
  certificateIssuer: '2.5.29.29',
} as const;

/** CRL extensions we read or may ignore (RFC 5280 §5.2); any other critical one makes the CRL unusable. */
const KNOWN_CRL_EXTENSIONS = new Set([
  '2.5.29.35', '2.5.29.18', '2.5.29.20', OID.deltaCrlIndicator, OID.issuingDistributionPoint, '2.5.29.46', '1.3.6.1.5.5.7.1.1',
]);
/** CRL entry extensions (RFC 5280 §5.3): reasonCode, holdInstructionCode, invalidityDate, certificateIssuer. */
const KNOWN_ENTRY_EXTENSIONS = new Set([OID.reasonCode, '2.5.29.23', '2.5.29.24', OID.certificateIssuer]);

const CERTIFICATE_HOLD = 'certificateHold';
const URI = 6;

class CrlError extends Error {
  override readonly name = 'CrlError';
}

function uris(names: readonly pkijs.GeneralName[] | undefined): string[] {
  return (names ?? []).flatMap((name) => (name.type === URI && typeof name.value === 'string' ? [name.value] : []));
}

const pointsOf = new WeakMap<ParsedCertificate, DistributionPoints>();

function readDistributionPoints(leaf: ParsedCertificate): DistributionPoints {
  const cert = pkijs.Certificate.fromBER(leaf.der);
  const value = cert.extensions?.find((e) => e.extnID === OID.crlDistributionPoints)?.parsedValue as unknown;
  const http: DistributionPoint[] = [];
  const unsupported: string[] = [];
  if (!(value instanceof pkijs.CRLDistributionPoints)) return { http, unsupported };
  for (const point of value.distributionPoints) {
    const names = Array.isArray(point.distributionPoint) ? uris(point.distributionPoint) : [];
    // A point with a cRLIssuer leads to an indirect CRL, one with reasons to a partial one: neither is checked.
    const usable = point.cRLIssuer === undefined && point.reasons === undefined;
    for (const url of names) {
      if (usable && url.startsWith('http://')) http.push({ url, names });
      else unsupported.push(url);
    }
  }
  return { http, unsupported };
}

/** The CRL distribution points of the leaf's cRLDistributionPoints extension; none when it has none or it does not parse. */
export function crlDistributionPoints(leaf: ParsedCertificate): DistributionPoints {
  let points = pointsOf.get(leaf);
  if (points === undefined) {
    try {
      points = readDistributionPoints(leaf);
    } catch {
      points = { http: [], unsupported: [] };
    }
    pointsOf.set(leaf, points);
  }
  return points;
}

/** DER as RFC 5280 §4.2.1.13 asks, or PEM ("X509 CRL"), which some servers send. */
function crlDer(body: Buffer): Buffer {
  if (body[0] === TAG.sequence) return body;
  const [pem] = pemToDer(body.toString('latin1'), 'X509 CRL');
  if (pem === undefined) throw new CrlError('not a CRL (neither DER nor PEM "X509 CRL")');
  return pem;
}

/** The parts of a CertificateList (RFC 5280 §5.1) checks need; entries stay as DER until read. */
interface CrlParts {
  readonly tbs: Uint8Array;
  readonly innerAlgorithm: pkijs.AlgorithmIdentifier;
  readonly algorithm: pkijs.AlgorithmIdentifier;
  readonly signature: Uint8Array;
  readonly issuer: pkijs.RelativeDistinguishedNames;
  readonly thisUpdate: number;
  readonly nextUpdate: number | undefined;
  /** The revokedCertificates SEQUENCE; undefined when the CRL lists none. */
  readonly entries: DerElement | undefined;
  readonly extensions: readonly pkijs.Extension[];
}

function readTime(der: Uint8Array, element: DerElement | undefined, field: string): number {
  const generalized = element?.tag === TAG.generalizedTime;
  if (element === undefined || (!generalized && element.tag !== TAG.utcTime)) throw new CrlError(`not a valid CRL: ${field} is not a time`);
  const text = Buffer.from(contentOf(der, element)).toString('latin1');
  const time = rfc5280Time(text, generalized);
  if (time === undefined) throw new CrlError(`not a valid CRL: ${field} ${JSON.stringify(text)} is not an RFC 5280 time`);
  return time;
}

const isTime = (element: DerElement | undefined): boolean => element?.tag === TAG.utcTime || element?.tag === TAG.generalizedTime;

/**
 * Splits a CRL with the DER reader: pkijs (asn1js) refuses more than 10,000 nodes, a CRL of a
 * couple of thousand entries, and takes a third of a second per thousand; the small parts
 * (names, algorithms, extensions) are still read by pkijs.
 */
function splitCrl(der: Uint8Array): CrlParts {
  const list = expectElement(der, 0, der.length, TAG.sequence, 'CertificateList');
  if (list.end !== der.length) throw new DerError('data after the CRL');
  const [tbsElement, algorithmElement, signatureElement, ...rest] = childrenOf(der, list);
  if (tbsElement?.tag !== TAG.sequence || algorithmElement?.tag !== TAG.sequence || signatureElement?.tag !== TAG.bitString || rest.length > 0) {
    throw new DerError('not a SEQUENCE of TBSCertList, AlgorithmIdentifier and BIT STRING');
  }
  const slice = (element: DerElement): Uint8Array => der.subarray(element.start, element.end);
  const fields = [...childrenOf(der, tbsElement)];
  let i = fields[0]?.tag === TAG.integer ? 1 : 0;
  const [innerAlgorithm, issuer] = [fields[i], fields[i + 1]];
  if (innerAlgorithm?.tag !== TAG.sequence || issuer?.tag !== TAG.sequence) throw new DerError('TBSCertList has no signature algorithm or issuer');
  const thisUpdate = readTime(der, fields[i + 2], 'thisUpdate');
  i += 3;
  const nextUpdate = isTime(fields[i]) ? readTime(der, fields[i++], 'nextUpdate') : undefined;
  const entries = fields[i]?.tag === TAG.sequence ? fields[i++] : undefined;
  const extensionsElement = fields[i]?.tag === TAG.context0 ? fields[i++] : undefined;
  if (i !== fields.length) throw new DerError('TBSCertList has unexpected fields');
  const extensionsSequence = extensionsElement === undefined ? undefined : [...childrenOf(der, extensionsElement)][0];
  const signatureBits = contentOf(der, signatureElement);
  return {
    tbs: slice(tbsElement),
    innerAlgorithm: pkijs.AlgorithmIdentifier.fromBER(slice(innerAlgorithm)),
    algorithm: pkijs.AlgorithmIdentifier.fromBER(slice(algorithmElement)),
    signature: signatureBits.subarray(1),
    issuer: pkijs.RelativeDistinguishedNames.fromBER(slice(issuer)),
    thisUpdate,
    nextUpdate,
    entries,
    extensions: extensionsSequence === undefined ? [] : pkijs.Extensions.fromBER(slice(extensionsSequence)).extensions,
  };
}

/** RFC 5280 §6.3.3 (b), (f), (g): the CRL is the leaf issuer's own, and that issuer's key signed it. */
function checkIssuer(crl: CrlParts, issuer: ParsedCertificate): void {
  const name = readName(crl.issuer);
  if (name.key !== issuer.subject.key) throw new CrlError(`the CRL is issued by ${name.text}, not by the leaf's issuer`);
  if (!hasKeyUsage(issuer, KEY_USAGE.cRLSign)) throw new CrlError("the leaf's issuer may not sign CRLs (its keyUsage lacks cRLSign)");
  const signed = { tbs: crl.tbs, signatureAlgorithm: signatureAlgorithmOf(crl.algorithm), signature: crl.signature };
  if (crl.innerAlgorithm.algorithmId !== crl.algorithm.algorithmId || !verifySignedData(issuer.spki, signed)) {
    throw new CrlError("the CRL's signature does not verify with the key of the leaf's issuer");
  }
}

/** The extensions that decide the CRL's scope; true when it covers some reasons only. */
function checkScope(crl: CrlParts, names: readonly string[]): boolean {
  let someReasonsOnly = false;
  for (const extension of crl.extensions) {
    if (extension.extnID === OID.deltaCrlIndicator) throw new CrlError('delta CRLs are not supported; the distribution point serves a delta CRL');
    if (extension.extnID === OID.issuingDistributionPoint) {
      const idp = extension.parsedValue as unknown;
      if (!(idp instanceof pkijs.IssuingDistributionPoint)) throw new CrlError('issuingDistributionPoint does not parse');
      if (idp.indirectCRL) throw new CrlError('indirect CRLs are not supported');
      if (idp.onlyContainsCACerts) throw new CrlError('the CRL covers CA certificates only (onlyContainsCACerts), not the leaf');
      if (idp.onlyContainsAttributeCerts) throw new CrlError('the CRL covers attribute certificates only (onlyContainsAttributeCerts), not the leaf');
      const scope = Array.isArray(idp.distributionPoint) ? uris(idp.distributionPoint) : [];
      // A partitioned CRL names its partition: it must be the one the leaf points at (RFC 5280 §6.3.3 (b)(2)(i)).
      if (scope.length > 0 && !scope.some((uri) => names.includes(uri))) {
        throw new CrlError(`the CRL is for another distribution point (${scope.join(', ')})`);
      }
      someReasonsOnly = idp.onlySomeReasons !== undefined;
    } else if (extension.critical && !KNOWN_CRL_EXTENSIONS.has(extension.extnID)) {
      throw new CrlError(`the CRL has a critical extension certexp does not process (${extension.extnID})`);
    }
  }
  return someReasonsOnly;
}

/** The reason of one entry's crlEntryExtensions (a SEQUENCE OF Extension). */
function entryReason(der: Uint8Array, extensions: DerElement): string | undefined {
  let reason: string | undefined;
  for (const extension of childrenOf(der, extensions)) {
    const [id, second, third] = childrenOf(der, extension);
    if (id?.tag !== TAG.oid) throw new DerError('an entry extension has no OID');
    const critical = second?.tag === TAG.boolean && der[second.contentStart] !== 0;
    const value = second?.tag === TAG.octetString ? second : third;
    const oid = oidText(contentOf(der, id));
    if (oid === OID.reasonCode && value !== undefined) {
      const code = readElement(der, value.contentStart, value.end);
      if (code.tag === TAG.enumerated && code.end - code.contentStart === 1) reason = revocationReasonName(der[code.contentStart] ?? 0);
    } else if (oid === OID.certificateIssuer) {
      throw new CrlError('an entry names another certificate issuer: indirect CRLs are not supported');
    } else if (critical && !KNOWN_ENTRY_EXTENSIONS.has(oid)) {
      throw new CrlError(`an entry has a critical extension certexp does not process (${oid})`);
    }
  }
  return reason;
}

/** revokedCertificates by serial (lowercase hex of the INTEGER's content, as ParsedCertificate.serialHex). */
function readEntries(der: Uint8Array, entries: DerElement | undefined): Map<string, RevocationFacts> {
  const revoked = new Map<string, RevocationFacts>();
  if (entries === undefined) return revoked;
  for (const entry of childrenOf(der, entries)) {
    if (entry.tag !== TAG.sequence) throw new DerError('a revokedCertificates entry is not a SEQUENCE');
    const serial = expectElement(der, entry.contentStart, entry.end, TAG.integer, 'userCertificate');
    const date = readElement(der, serial.end, entry.end);
    const extensions = date.end < entry.end ? expectElement(der, date.end, entry.end, TAG.sequence, 'crlEntryExtensions') : undefined;
    revoked.set(Buffer.from(contentOf(der, serial)).toString('hex'), {
      revokedAt: readTime(der, date, 'revocationDate'),
      revocationReason: extensions === undefined ? undefined : entryReason(der, extensions),
    });
  }
  return revoked;
}

function read(body: Buffer, issuer: ParsedCertificate, names: readonly string[]): CheckedCrl {
  const der = crlDer(body);
  const crl = splitCrl(der);
  checkIssuer(crl, issuer);
  const someReasonsOnly = checkScope(crl, names);
  return { thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, revoked: readEntries(der, crl.entries), someReasonsOnly };
}

/**
 * Reads a fetched CRL (DER or PEM) and checks what does not change until the next fetch: that it
 * is a CRL, signed by `issuer`, of a scope certexp handles. `names` are the URIs of the
 * distribution point it came from. Never throws.
 */
export function readCrl(body: Buffer, issuer: ParsedCertificate, names: readonly string[]): CheckedCrl | { readonly error: string } {
  try {
    return read(body, issuer, names);
  } catch (error) {
    if (error instanceof CrlError) return { error: error.message };
    // pkijs and asn1js throw plain errors on malformed input; all of it is the body's fault.
    return { error: `not a valid CRL: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * The leaf's status in a checked CRL at `at`. A listed leaf is revoked even in a CRL past its
 * nextUpdate, as a signed OCSP revocation stays true (revocation is final), except on hold,
 * which a newer CRL may lift; an unlisted leaf is good only while the CRL is fresh.
 */
export function crlVerdict(crl: CheckedCrl, leaf: ParsedCertificate, at: number): CrlVerdict {
  const { thisUpdate, nextUpdate } = crl;
  if (thisUpdate > at + REVOCATION_CLOCK_SKEW_MS) return { status: 'error', error: `thisUpdate ${new Date(thisUpdate).toISOString()} is in the future` };
  const stale = nextUpdate !== undefined && nextUpdate < at - REVOCATION_CLOCK_SKEW_MS;
  const entry = crl.revoked.get(leaf.serialHex);
  if (entry !== undefined && !(stale && entry.revocationReason === CERTIFICATE_HOLD)) return { status: 'revoked', thisUpdate, nextUpdate, ...entry };
  if (stale) return { status: 'error', error: `the CRL is stale: nextUpdate ${new Date(nextUpdate).toISOString()} has passed` };
  if (crl.someReasonsOnly) return { status: 'error', error: 'the CRL covers some revocation reasons only (onlySomeReasons): it cannot say the leaf is good' };
  return { status: 'good', thisUpdate, nextUpdate };
}
