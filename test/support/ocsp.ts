/**
 * OCSP for tests, answered by OpenSSL itself: `openssl ocsp -index` (its CA database format)
 * signs every response. The HTTP side is a Node server on 127.0.0.1 that hands each request to
 * `openssl ocsp -reqin`, because `openssl ocsp -port` listens on every interface, not loopback.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { TestCert } from './pki';

const run = promisify(execFile);

const OCSP_ACCESS = '1.3.6.1.5.5.7.48.1';
const AIA = '1.3.6.1.5.5.7.1.1';
const EKU = '2.5.29.37';
const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

/** authorityInfoAccess naming `url` as the OCSP responder, for CertOptions.extraExtensions. */
export function ocspUrlExtension(url: string): { oid: string; critical: boolean; valueDer: Buffer } {
  const access = new pkijs.InfoAccess({
    accessDescriptions: [new pkijs.AccessDescription({ accessMethod: OCSP_ACCESS, accessLocation: new pkijs.GeneralName({ type: 6, value: url }) })],
  });
  return { oid: AIA, critical: false, valueDer: Buffer.from(access.toSchema().toBER(false)) };
}

/** extendedKeyUsage id-kp-OCSPSigning, for a delegated responder certificate (with extKeyUsage: []). */
export function ocspSigningExtension(): { oid: string; critical: boolean; valueDer: Buffer } {
  return { oid: EKU, critical: false, valueDer: Buffer.from(new pkijs.ExtKeyUsage({ keyPurposes: [OCSP_SIGNING] }).toSchema().toBER(false)) };
}

export interface IndexEntry {
  readonly cert: TestCert;
  /** Set for a revoked certificate. */
  readonly revokedAt?: Date;
  /** An RFC 5280 CRLReason name OpenSSL knows: keyCompromise, superseded, ... */
  readonly reason?: string;
}

/** YYMMDDHHMMSSZ, the time format of OpenSSL's index.txt. */
function indexTime(date: Date): string {
  return date.toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, '$1$2$3$4$5$6Z');
}

/** index.txt lines in the format of `openssl ca`: status, expiry, revocation, serial, file, subject. */
export function indexText(entries: readonly IndexEntry[]): string {
  return entries.map(({ cert, revokedAt, reason }) => {
    const revoked = revokedAt === undefined ? '' : `${indexTime(revokedAt)}${reason === undefined ? '' : `,${reason}`}`;
    return `${revokedAt === undefined ? 'V' : 'R'}\t${indexTime(cert.notAfter)}\t${revoked}\t${cert.serialHex.toUpperCase()}\tunknown\t/O=certexp-test/CN=${cert.subjectCn}\n`;
  }).join('');
}

export interface OcspAuthority {
  /** The CA whose certificates the index describes. */
  readonly ca: TestCert;
  /** Signs the responses: the CA itself, or a delegated responder certificate. */
  readonly signer: TestCert;
  /** Minutes until nextUpdate; default 60. */
  readonly nextUpdateMinutes?: number;
}

/** Files OpenSSL's responder needs, in a temp dir of their own. */
export class OcspFiles {
  private constructor(readonly dir: string) {}

  static async create(authority: OcspAuthority, entries: readonly IndexEntry[]): Promise<OcspFiles> {
    const files = new OcspFiles(await mkdtemp(join(tmpdir(), 'certexp-ocsp-')));
    await writeFile(join(files.dir, 'ca.pem'), authority.ca.pem);
    await writeFile(join(files.dir, 'signer.pem'), authority.signer.pem);
    await writeFile(join(files.dir, 'signer.key'), authority.signer.key.privateKeyPem);
    // Several leaves share a subject here; openssl refuses such an index unless told it may.
    await writeFile(join(files.dir, 'index.txt.attr'), 'unique_subject = no\n');
    await files.setIndex(entries);
    return files;
  }

  setIndex(entries: readonly IndexEntry[]): Promise<void> {
    return writeFile(join(this.dir, 'index.txt'), indexText(entries));
  }

  /** OpenSSL's answer to a DER request, as its responder would send it. */
  async answer(request: Buffer, nextUpdateMinutes = 60, extra: readonly string[] = []): Promise<Buffer> {
    const stamp = `${process.hrtime.bigint()}`;
    const reqin = join(this.dir, `req-${stamp}.der`);
    const respout = join(this.dir, `resp-${stamp}.der`);
    await writeFile(reqin, request);
    await run('openssl', ['ocsp', '-index', join(this.dir, 'index.txt'), '-CA', join(this.dir, 'ca.pem'),
      '-rsigner', join(this.dir, 'signer.pem'), '-rkey', join(this.dir, 'signer.key'),
      '-reqin', reqin, '-respout', respout, '-nmin', String(nextUpdateMinutes), ...extra], { timeout: 10_000 });
    const response = await readFile(respout);
    await Promise.all([rm(reqin), rm(respout)]);
    return response;
  }

  /** A response for `leaf` made by OpenSSL alone (its own request, no nonce): what a server staples. */
  async stapleFor(leaf: TestCert, nextUpdateMinutes = 60): Promise<string> {
    const file = join(this.dir, `staple-${leaf.serialHex}.der`);
    await writeFile(join(this.dir, 'leaf.pem'), leaf.pem);
    await run('openssl', ['ocsp', '-index', join(this.dir, 'index.txt'), '-CA', join(this.dir, 'ca.pem'),
      '-rsigner', join(this.dir, 'signer.pem'), '-rkey', join(this.dir, 'signer.key'),
      '-issuer', join(this.dir, 'ca.pem'), '-cert', join(this.dir, 'leaf.pem'), '-no_nonce',
      '-respout', file, '-nmin', String(nextUpdateMinutes)], { timeout: 10_000 });
    return file;
  }

  remove(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}

export interface OcspResponder {
  /** http://127.0.0.1:PORT/ — put it in leaves with ocspUrlExtension(). */
  readonly url: string;
  /** Requests answered so far. */
  readonly requests: () => number;
  /** Stops answering: connections are then refused, as for a responder that is down. */
  close(): Promise<void>;
}

function body(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => { resolve(Buffer.concat(chunks)); });
    request.on('error', reject);
  });
}

/** An OCSP responder over HTTP on 127.0.0.1, each POSTed request answered by `files.answer`. */
export async function startOcspResponder(files: OcspFiles, nextUpdateMinutes = 60): Promise<OcspResponder> {
  let count = 0;
  const server: Server = createServer((request, response) => {
    body(request).then((der) => files.answer(der, nextUpdateMinutes)).then((answer) => {
      count++;
      response.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(answer);
    }, (error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    requests: () => count,
    close: () => new Promise<void>((resolve) => {
      server.close(() => { resolve(); });
      server.closeAllConnections();
    }),
  };
}

/** An OCSPResponse that carries only a status other than successful (RFC 6960 §4.2.1): tryLater is 3. */
export function unsuccessfulResponse(status: number): Buffer {
  return Buffer.from(new asn1js.Sequence({ value: [new asn1js.Enumerated({ value: status })] }).toBER(false));
}
