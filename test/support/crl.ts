/**
 * CRLs for tests, from two independent sources: `openssl ca -gencrl` over an index.txt (the
 * format ./ocsp.ts writes for `openssl ocsp`), and pkijs here, for what OpenSSL will not make
 * (expired CRLs, wrong keys, partitioned and delta CRLs). Served over HTTP on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { indexText, type IndexEntry } from './ocsp';
import { encodeTime, extension, signTbs, type KeyPair, type TestCert } from './pki';

const run = promisify(execFile);

const OID = {
  crlDistributionPoints: '2.5.29.31',
  issuingDistributionPoint: '2.5.29.28',
  deltaCrlIndicator: '2.5.29.27',
  cRLNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
} as const;

export type RawExtension = { oid: string; critical: boolean; valueDer: Buffer };

function uri(url: string): pkijs.GeneralName {
  return new pkijs.GeneralName({ type: 6, value: url });
}

/** cRLDistributionPoints with one point per list of URLs, for CertOptions.extraExtensions. */
export function crlDistributionPointsExtension(...points: string[][]): RawExtension {
  const value = new pkijs.CRLDistributionPoints({
    distributionPoints: points.map((urls) => new pkijs.DistributionPoint({ distributionPoint: urls.map(uri) })),
  });
  return { oid: OID.crlDistributionPoints, critical: false, valueDer: Buffer.from(value.toSchema().toBER(false)) };
}

const context = (tagNumber: number, value: asn1js.BaseBlock[]): asn1js.Constructed =>
  new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber }, value });
const flag = (tagNumber: number): asn1js.Primitive =>
  new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber }, valueHex: new Uint8Array([0xff]).buffer });

export interface IdpOptions {
  readonly urls?: readonly string[];
  readonly onlyContainsUserCerts?: boolean;
  readonly onlyContainsCACerts?: boolean;
  readonly onlySomeReasons?: boolean;
  readonly indirectCRL?: boolean;
}

/** issuingDistributionPoint (RFC 5280 §5.2.5, IMPLICIT tags), encoded by hand rather than by the parser under test. */
export function issuingDistributionPointExtension(options: IdpOptions): RawExtension {
  const parts: asn1js.BaseBlock[] = [];
  if (options.urls !== undefined) {
    // distributionPoint [0] { fullName [0] GeneralNames }, each URI an implicit [6] IA5String.
    const names = options.urls.map((url) => new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 6 }, valueHex: new Uint8Array(Buffer.from(url, 'ascii')).buffer }));
    parts.push(context(0, [context(0, names)]));
  }
  if (options.onlyContainsUserCerts === true) parts.push(flag(1));
  if (options.onlyContainsCACerts === true) parts.push(flag(2));
  // ReasonFlags BIT STRING with keyCompromise (bit 1) set.
  if (options.onlySomeReasons === true) parts.push(new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 3 }, valueHex: new Uint8Array([0x06, 0x40]).buffer }));
  if (options.indirectCRL === true) parts.push(flag(4));
  return { oid: OID.issuingDistributionPoint, critical: true, valueDer: Buffer.from(new asn1js.Sequence({ value: parts }).toBER(false)) };
}

/** deltaCRLIndicator naming base CRL number 1. */
export function deltaCrlIndicatorExtension(): RawExtension {
  return { oid: OID.deltaCrlIndicator, critical: true, valueDer: Buffer.from(new asn1js.Integer({ value: 1 }).toBER(false)) };
}

export interface RevokedEntry {
  readonly cert: TestCert;
  readonly revokedAt: Date;
  /** CRLReason code: 1 keyCompromise, 4 superseded, 6 certificateHold. */
  readonly reasonCode?: number;
  readonly entryExtensions?: readonly RawExtension[];
}

export interface CrlOptions {
  /** The CA whose name the CRL carries. */
  readonly issuer: TestCert;
  /** Signs the CRL; default the issuer's key. */
  readonly signer?: KeyPair;
  readonly revoked?: readonly RevokedEntry[];
  /** Default an hour ago. */
  readonly thisUpdate?: Date;
  /** Default in a day; null for none. */
  readonly nextUpdate?: Date | null;
  readonly extensions?: readonly RawExtension[];
}

/** A DER CRL made with pkijs. */
export function createCrl(options: CrlOptions): Buffer {
  const now = Date.now();
  const crl = new pkijs.CertificateRevocationList();
  crl.version = 1;
  crl.issuer = pkijs.Certificate.fromBER(options.issuer.der).subject;
  crl.thisUpdate = encodeTime(options.thisUpdate ?? new Date(now - 3_600_000));
  const nextUpdate = options.nextUpdate === undefined ? new Date(now + 86_400_000) : options.nextUpdate;
  if (nextUpdate !== null) crl.nextUpdate = encodeTime(nextUpdate);
  const revoked = options.revoked ?? [];
  if (revoked.length > 0) {
    crl.revokedCertificates = revoked.map((entry) => {
      const extensions = [
        ...(entry.reasonCode === undefined ? [] : [extension(OID.reasonCode, false, new asn1js.Enumerated({ value: entry.reasonCode }))]),
        ...(entry.entryExtensions ?? []).map((e) => extension(e.oid, e.critical, e.valueDer)),
      ];
      return new pkijs.RevokedCertificate({
        userCertificate: new asn1js.Integer({ valueHex: new Uint8Array(Buffer.from(entry.cert.serialHex, 'hex')).buffer }),
        revocationDate: encodeTime(entry.revokedAt),
        ...(extensions.length === 0 ? {} : { crlEntryExtensions: new pkijs.Extensions({ extensions }) }),
      });
    });
  }
  const extensions = [extension(OID.cRLNumber, false, new asn1js.Integer({ value: 1 })), ...(options.extensions ?? []).map((e) => extension(e.oid, e.critical, e.valueDer))];
  crl.crlExtensions = new pkijs.Extensions({ extensions });
  const signer = options.signer ?? options.issuer.key;
  const { identifier } = signTbs(signer, new Uint8Array(0));
  crl.signature = identifier;
  crl.signatureAlgorithm = identifier;
  // toSchema(true) encodes the TBS from the fields; its first element is what is signed.
  const [tbs] = (crl.toSchema(true) as asn1js.Sequence).valueBlock.value;
  if (tbs === undefined) throw new Error('pkijs encoded no TBSCertList');
  crl.tbsView = new Uint8Array(tbs.toBER(false));
  crl.signatureValue = new asn1js.BitString({ valueHex: new Uint8Array(signTbs(signer, crl.tbsView).signature).buffer });
  return Buffer.from((crl.toSchema() as asn1js.Sequence).toBER(false));
}

/** A DER CRL made by `openssl ca -gencrl` for `ca` over `entries` (revocation reasons as index.txt names them), valid for `hours`. */
export async function opensslCrl(ca: TestCert, entries: readonly IndexEntry[], hours = 24): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'certexp-crl-'));
  try {
    await writeFile(join(dir, 'ca.pem'), ca.pem);
    await writeFile(join(dir, 'ca.key'), ca.key.privateKeyPem);
    await writeFile(join(dir, 'index.txt'), indexText(entries));
    await writeFile(join(dir, 'index.txt.attr'), 'unique_subject = no\n');
    await writeFile(join(dir, 'crlnumber'), '01\n');
    await writeFile(join(dir, 'openssl.cnf'), [
      '[ ca ]', 'default_ca = test_ca', '[ test_ca ]', `database = ${join(dir, 'index.txt')}`, `crlnumber = ${join(dir, 'crlnumber')}`,
      'default_md = sha256', 'default_crl_days = 1', '',
    ].join('\n'));
    await run('openssl', ['ca', '-batch', '-gencrl', '-config', join(dir, 'openssl.cnf'), '-cert', join(dir, 'ca.pem'), '-keyfile', join(dir, 'ca.key'),
      '-crlhours', String(hours), '-out', join(dir, 'crl.pem')], { timeout: 10_000 });
    await run('openssl', ['crl', '-in', join(dir, 'crl.pem'), '-outform', 'DER', '-out', join(dir, 'crl.der')], { timeout: 10_000 });
    return await readFile(join(dir, 'crl.der'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What a path answers: a body (200), an HTTP status, or a handler for misbehaviour. */
export type CrlAnswer = Buffer | string | number | ((response: ServerResponse) => void);

export interface CrlServer {
  /** http://127.0.0.1:PORT/PATH */
  url(path: string): string;
  serve(path: string, answer: CrlAnswer): void;
  /** GET requests for `path` so far. */
  requests(path: string): number;
  close(): Promise<void>;
}

/** A CRL distribution point over HTTP on 127.0.0.1; unknown paths answer 404. */
export async function startCrlServer(): Promise<CrlServer> {
  const answers = new Map<string, CrlAnswer>();
  const counts = new Map<string, number>();
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').slice(1);
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const answer = answers.get(path) ?? 404;
    if (typeof answer === 'function') answer(response);
    else if (typeof answer === 'number') response.writeHead(answer).end();
    else response.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: (path) => `http://127.0.0.1:${address.port}/${path}`,
    serve: (path, answer) => { answers.set(path, answer); },
    requests: (path) => counts.get(path) ?? 0,
    close: () => new Promise<void>((resolve) => {
      server.close(() => { resolve(); });
      server.closeAllConnections();
    }),
  };
}
