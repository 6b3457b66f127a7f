/**
 * Self-tests for the test PKI toolkit: everything it claims is checked by an independent party —
 * the openssl CLI, Node's X509Certificate and TLS stack, and a minimal DER walker written here.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { promisify } from 'node:util';
import { cachedKeyPair, createCertificate, days, generateKeyPair, ipToBytes, type TestCert } from '../support/pki';
import { buildTestPki, chainPem, type TestPki } from '../support/scenarios';
import { startRawServer, startTlsServer, type TlsTestServer } from '../support/tls-server';

const execFileAsync = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';

interface RunResult {
  readonly ok: boolean;
  readonly output: string;
}

/** Runs openssl without a shell; never throws on a non-zero exit, the output says why. */
async function openssl(...args: string[]): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(OPENSSL, args, { encoding: 'utf8' });
    return { ok: true, output: stdout + stderr };
  } catch (err: unknown) {
    const e = err as { stdout?: string; stderr?: string; code?: unknown };
    if (typeof e.code !== 'number') throw err;
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

let dir: string;
let pki: TestPki;
const files = new Map<string, string>();

/** Writes the PEM once and returns its path. */
async function pemFile(name: string, pem: string): Promise<string> {
  const path = join(dir, `${name}.pem`);
  if (!files.has(name)) {
    await writeFile(path, pem);
    files.set(name, path);
  }
  return path;
}

async function certFile(cert: TestCert): Promise<string> {
  return pemFile(`cert-${cert.fingerprintSha256}`, cert.pem);
}

async function verify(leaf: TestCert, opts: { ca: TestCert[]; untrusted?: TestCert[]; args?: string[] }): Promise<RunResult> {
  const args = ['verify', '-CAfile', await pemFile(`ca-${opts.ca.map((c) => c.fingerprintSha256).join('-')}`, chainPem(...opts.ca))];
  if (opts.untrusted !== undefined && opts.untrusted.length > 0) {
    args.push('-untrusted', await pemFile(`untrusted-${opts.untrusted.map((c) => c.fingerprintSha256).join('-')}`, chainPem(...opts.untrusted)));
  }
  args.push(...(opts.args ?? []), await certFile(leaf));
  return openssl(...args);
}

async function x509(cert: TestCert, ...args: string[]): Promise<string> {
  const result = await openssl('x509', '-in', await certFile(cert), '-noout', ...args);
  if (!result.ok) throw new Error(`openssl x509 failed: ${result.output}`);
  return result.output;
}

const epochSeconds = (date: Date): string => String(Math.floor(date.getTime() / 1000));

// --- minimal DER walker, independent of asn1js/pkijs ------------------------------------------

interface Tlv {
  readonly tag: number;
  /** The whole TLV. */
  readonly raw: Buffer;
  readonly content: Buffer;
}

function readTlv(buf: Buffer, offset = 0): Tlv {
  const tag = buf[offset] ?? -1;
  let len = buf[offset + 1] ?? 0;
  let header = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[offset + 2 + i] ?? 0);
    header += n;
  }
  return { tag, raw: buf.subarray(offset, offset + header + len), content: buf.subarray(offset + header, offset + header + len) };
}

function children(tlv: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let offset = 0; offset < tlv.content.length; ) {
    const child = readTlv(tlv.content, offset);
    out.push(child);
    offset += child.raw.length;
  }
  return out;
}

/** The raw issuer and subject Name TLVs of a certificate. */
function names(der: Buffer): { issuer: Buffer; subject: Buffer } {
  const tbs = children(readTlv(der))[0];
  if (tbs === undefined) throw new Error('no tbsCertificate');
  const fields = children(tbs);
  const skip = fields[0]?.tag === 0xa0 ? 1 : 0; // explicit [0] version
  const issuer = fields[skip + 2];
  const subject = fields[skip + 4];
  if (issuer === undefined || subject === undefined) throw new Error('truncated tbsCertificate');
  return { issuer: issuer.raw, subject: subject.raw };
}

// --- TLS client helper --------------------------------------------------------------------------

interface Handshake {
  /** Fingerprints (lowercase hex) of the presented certificates, following issuerCertificate from the peer's leaf. */
  readonly chain: string[];
  readonly authorized: boolean;
  readonly authorizationError: string | undefined;
  readonly protocol: string | null;
}

const fingerprintOf = (cert: X509Certificate): string => cert.fingerprint256.replace(/:/g, '').toLowerCase();

function handshake(server: TlsTestServer, options: tls.ConnectionOptions = {}): Promise<Handshake> {
  return new Promise<Handshake>((resolve, reject) => {
    const socket = tls.connect({ host: server.host, port: server.port, rejectUnauthorized: false, ...options }, () => {
      const chain: string[] = [];
      let cert = socket.getPeerX509Certificate();
      while (cert !== undefined && chain.length < 20) {
        chain.push(fingerprintOf(cert));
        cert = cert.issuerCertificate;
      }
      const error: unknown = socket.authorizationError;
      resolve({
        chain,
        authorized: socket.authorized,
        authorizationError: error instanceof Error ? error.message : typeof error === 'string' ? error : undefined,
        protocol: socket.getProtocol(),
      });
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

// ------------------------------------------------------------------------------------------------

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certexp-pki-selftest-'));
  pki = await buildTestPki();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('buildTestPki, verified by openssl verify', () => {
  it('valid: verifies to root through intermediate for localhost, 127.0.0.1 and ::1 as an SSL server', async () => {
    for (const args of [
      [],
      ['-purpose', 'sslserver', '-verify_hostname', 'localhost'],
      ['-verify_ip', '127.0.0.1'],
      ['-verify_ip', '::1'],
    ]) {
      const result = await verify(pki.valid, { ca: [pki.root], untrusted: [pki.intermediate], args });
      expect(result.output).toContain(': OK');
      expect(result.ok).toBe(true);
    }
  });

  it('valid: does not verify without the intermediate or against the other root', async () => {
    const noIntermediate = await verify(pki.valid, { ca: [pki.root] });
    expect(noIntermediate.ok).toBe(false);
    expect(noIntermediate.output).toContain('unable to get local issuer certificate');
    const otherRoot = await verify(pki.valid, { ca: [pki.otherRoot], untrusted: [pki.intermediate] });
    expect(otherRoot.ok).toBe(false);
    expect(otherRoot.output).toContain('unable to get local issuer certificate');
  });

  it('expired fails with "certificate has expired"', async () => {
    const result = await verify(pki.expired, { ca: [pki.root], untrusted: [pki.intermediate] });
    expect(result.ok).toBe(false);
    expect(result.output).toContain('certificate has expired');
  });

  it('notYetValid fails with "certificate is not yet valid", and verifies 4 days later', async () => {
    const now = await verify(pki.notYetValid, { ca: [pki.root], untrusted: [pki.intermediate] });
    expect(now.ok).toBe(false);
    expect(now.output).toContain('certificate is not yet valid');
    const later = await verify(pki.notYetValid, {
      ca: [pki.root],
      untrusted: [pki.intermediate],
      args: ['-attime', epochSeconds(new Date(pki.now.getTime() + days(4)))],
    });
    expect(later.ok).toBe(true);
  });

  it('wrongName verifies for other.example only', async () => {
    const ok = await verify(pki.wrongName, { ca: [pki.root], untrusted: [pki.intermediate], args: ['-verify_hostname', 'other.example'] });
    expect(ok.ok).toBe(true);
    const mismatch = await verify(pki.wrongName, { ca: [pki.root], untrusted: [pki.intermediate], args: ['-verify_hostname', 'localhost'] });
    expect(mismatch.ok).toBe(false);
    expect(mismatch.output).toContain('hostname mismatch');
    const ip = await verify(pki.wrongName, { ca: [pki.root], untrusted: [pki.intermediate], args: ['-verify_ip', '127.0.0.1'] });
    expect(ip.ok).toBe(false);
    expect(ip.output).toContain('IP address mismatch');
  });

  it('wildcard matches one label under example.test only', async () => {
    const ok = await verify(pki.wildcard, { ca: [pki.root], untrusted: [pki.intermediate], args: ['-verify_hostname', 'a.example.test'] });
    expect(ok.ok).toBe(true);
    for (const host of ['localhost', 'example.test', 'a.b.example.test']) {
      const mismatch = await verify(pki.wildcard, { ca: [pki.root], untrusted: [pki.intermediate], args: ['-verify_hostname', host] });
      expect(mismatch.ok).toBe(false);
      expect(mismatch.output).toContain('hostname mismatch');
    }
  });

  it('ipOnly verifies for 127.0.0.1 and ::1 but not for localhost', async () => {
    for (const ip of ['127.0.0.1', '::1']) {
      const ok = await verify(pki.ipOnly, { ca: [pki.root], untrusted: [pki.intermediate], args: ['-verify_ip', ip] });
      expect(ok.ok).toBe(true);
    }
    const byName = await verify(pki.ipOnly, { ca: [pki.root], untrusted: [pki.intermediate], args: ['-verify_hostname', 'localhost'] });
    expect(byName.ok).toBe(false);
    expect(byName.output).toContain('hostname mismatch');
  });

  it('expiringSoon verifies now and has expired 11 days from now', async () => {
    const now = await verify(pki.expiringSoon, { ca: [pki.root], untrusted: [pki.intermediate] });
    expect(now.ok).toBe(true);
    const later = await verify(pki.expiringSoon, {
      ca: [pki.root],
      untrusted: [pki.intermediate],
      args: ['-attime', epochSeconds(new Date(pki.now.getTime() + days(11)))],
    });
    expect(later.ok).toBe(false);
    expect(later.output).toContain('certificate has expired');
  });

  it('selfSigned is rejected against root as a self-signed certificate, and is not a CA', async () => {
    const result = await verify(pki.selfSigned, { ca: [pki.root] });
    expect(result.ok).toBe(false);
    expect(result.output).toContain('self-signed certificate');
    expect(await x509(pki.selfSigned, '-ext', 'basicConstraints')).toContain('CA:FALSE');
    const { issuer, subject } = names(pki.selfSigned.der);
    expect(issuer.equals(subject)).toBe(true);
  });

  it('untrustedLeaf chains to otherRoot, not to root', async () => {
    const againstRoot = await verify(pki.untrustedLeaf, { ca: [pki.root], untrusted: [pki.otherIntermediate] });
    expect(againstRoot.ok).toBe(false);
    expect(againstRoot.output).toContain('unable to get local issuer certificate');
    const againstOtherRoot = await verify(pki.untrustedLeaf, { ca: [pki.otherRoot], untrusted: [pki.otherIntermediate] });
    expect(againstOtherRoot.ok).toBe(true);
  });

  it('shortIntermediate expires before leafUnderShortIntermediate: OK now, intermediate expired in 30 days', async () => {
    const now = await verify(pki.leafUnderShortIntermediate, { ca: [pki.root], untrusted: [pki.shortIntermediate] });
    expect(now.ok).toBe(true);
    const later = await verify(pki.leafUnderShortIntermediate, {
      ca: [pki.root],
      untrusted: [pki.shortIntermediate],
      args: ['-attime', epochSeconds(new Date(pki.now.getTime() + days(30)))],
    });
    expect(later.ok).toBe(false);
    expect(later.output).toMatch(/error 10 at 1 depth lookup: certificate has expired/);
    expect(pki.shortIntermediate.notAfter.getTime()).toBeLessThan(pki.leafUnderShortIntermediate.notAfter.getTime());
  });

  it('crossSignedRoot has root’s subject and public key, is issued by oldRoot and has expired', async () => {
    expect(await x509(pki.crossSignedRoot, '-subject')).toBe(await x509(pki.root, '-subject'));
    expect(await x509(pki.crossSignedRoot, '-pubkey')).toBe(await x509(pki.root, '-pubkey'));
    expect(await x509(pki.crossSignedRoot, '-ext', 'subjectKeyIdentifier')).toBe(await x509(pki.root, '-ext', 'subjectKeyIdentifier'));
    expect(await x509(pki.crossSignedRoot, '-issuer')).toBe((await x509(pki.oldRoot, '-subject')).replace(/^subject=/, 'issuer='));
    expect(names(pki.crossSignedRoot.der).subject.equals(names(pki.root.der).subject)).toBe(true);
    expect(pki.crossSignedRoot.fingerprintSha256).not.toBe(pki.root.fingerprintSha256);

    const crossNode = new X509Certificate(pki.crossSignedRoot.der);
    const rootNode = new X509Certificate(pki.root.der);
    expect(crossNode.subject).toBe(rootNode.subject);
    const spki = (c: X509Certificate): Buffer => c.publicKey.export({ type: 'spki', format: 'der' });
    expect(spki(crossNode).equals(spki(rootNode))).toBe(true);
    expect(crossNode.verify(new X509Certificate(pki.oldRoot.der).publicKey)).toBe(true);

    const alone = await verify(pki.crossSignedRoot, { ca: [pki.oldRoot] });
    expect(alone.ok).toBe(false);
    expect(alone.output).toContain('certificate has expired');
    // A server presenting the stale cross-sign still verifies when the client trusts root.
    const served = await verify(pki.valid, { ca: [pki.root], untrusted: [pki.intermediate, pki.crossSignedRoot] });
    expect(served.ok).toBe(true);
  });

  it('every issuer field is byte-identical to its issuer’s subject', () => {
    const pairs: [TestCert, TestCert][] = [
      [pki.intermediate, pki.root],
      [pki.otherIntermediate, pki.otherRoot],
      [pki.valid, pki.intermediate],
      [pki.expired, pki.intermediate],
      [pki.untrustedLeaf, pki.otherIntermediate],
      [pki.leafUnderShortIntermediate, pki.shortIntermediate],
      [pki.crossSignedRoot, pki.oldRoot],
      [pki.root, pki.root],
    ];
    for (const [child, issuer] of pairs) {
      expect(names(child.der).issuer.toString('hex')).toBe(names(issuer.der).subject.toString('hex'));
    }
  });

  it('CA and leaf extensions are what the scenarios promise', async () => {
    const root = await x509(pki.root, '-ext', 'basicConstraints,keyUsage,extendedKeyUsage');
    expect(root).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(root).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(root).not.toContain('Extended Key Usage');
    expect(await x509(pki.intermediate, '-ext', 'basicConstraints')).toMatch(/CA:TRUE, pathlen:0/);
    const leaf = await x509(pki.valid, '-ext', 'basicConstraints,keyUsage,extendedKeyUsage');
    expect(leaf).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(leaf).toMatch(/Key Usage: critical\s+Digital Signature\n/);
    expect(leaf).toMatch(/Extended Key Usage:\s+TLS Web Server Authentication/);
    expect(await x509(pki.valid, '-ext', 'authorityKeyIdentifier')).toContain(
      (await x509(pki.intermediate, '-ext', 'subjectKeyIdentifier')).split('\n')[1]?.trim(),
    );
  });

  it('subjectAltName holds the promised DNS and IP entries', async () => {
    const san = (cert: TestCert): Promise<string> => x509(cert, '-ext', 'subjectAltName');
    expect(await san(pki.valid)).toContain('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(await san(pki.selfSigned)).toContain('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    const wrongName = await san(pki.wrongName);
    expect(wrongName).toContain('DNS:other.example');
    expect(wrongName).not.toContain('IP Address');
    expect(wrongName).not.toContain('localhost');
    expect(await san(pki.wildcard)).toMatch(/\n\s+DNS:\*\.example\.test\n/);
    const ipOnly = await san(pki.ipOnly);
    expect(ipOnly).toContain('IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(ipOnly).not.toContain('DNS:');
    expect(await san(pki.root)).not.toContain('Subject Alternative Name');
  });

  it('fingerprint, serial and validity dates agree with openssl', async () => {
    for (const cert of [pki.root, pki.valid, pki.expired, pki.crossSignedRoot]) {
      const out = await x509(cert, '-fingerprint', '-sha256', '-serial', '-startdate', '-enddate', '-dateopt', 'iso_8601');
      const fingerprint = /sha256 Fingerprint=([0-9A-F:]+)/i.exec(out)?.[1];
      expect(fingerprint?.replace(/:/g, '').toLowerCase()).toBe(cert.fingerprintSha256);
      expect(cert.fingerprintSha256).toBe(createHash('sha256').update(cert.der).digest('hex'));
      expect(/serial=([0-9A-F]+)/.exec(out)?.[1]?.toLowerCase()).toBe(cert.serialHex);
      const iso = (d: Date): string => d.toISOString().replace('T', ' ').replace('.000Z', 'Z');
      expect(out).toContain(`notBefore=${iso(cert.notBefore)}`);
      expect(out).toContain(`notAfter=${iso(cert.notAfter)}`);
    }
    expect(pki.expired.notAfter.getTime()).toBe(Math.floor((pki.now.getTime() - days(5)) / 1000) * 1000);
    expect(pki.valid.notAfter.getTime()).toBe(Math.floor((pki.now.getTime() + days(90)) / 1000) * 1000);
  });

  it('default serials are 16 bytes, positive and minimally encoded', () => {
    for (const cert of [pki.root, pki.intermediate, pki.valid, pki.selfSigned]) {
      expect(cert.serialHex).toMatch(/^[0-7][0-9a-f]{31}$/);
      expect(cert.serialHex.startsWith('00')).toBe(false);
    }
  });
});

describe('createCertificate options, checked by openssl', () => {
  it('default subject is O=certexp-test, CN=<cn>; default leaf SAN follows the CN', async () => {
    const byName = await createCertificate({ subjectCn: 'svc.example.test' });
    expect(await x509(byName, '-subject', '-nameopt', 'RFC2253')).toContain('subject=CN=svc.example.test,O=certexp-test');
    expect(await x509(byName, '-ext', 'subjectAltName')).toContain('DNS:svc.example.test');
    const byIp = await createCertificate({ subjectCn: '::1' });
    expect(await x509(byIp, '-ext', 'subjectAltName')).toContain('IP Address:0:0:0:0:0:0:0:1');
    const none = await createCertificate({ subjectCn: 'cn-only.example.test', omitSubjectAltName: true });
    expect(await x509(none, '-ext', 'subjectAltName')).not.toContain('Subject Alternative Name');
  });

  it('IP literals become 4 or 16 bytes', () => {
    expect(ipToBytes('127.0.0.1').toString('hex')).toBe('7f000001');
    expect(ipToBytes('::1').toString('hex')).toBe('00000000000000000000000000000001');
    expect(ipToBytes('2001:db8::1:0').toString('hex')).toBe('20010db8000000000000000000010000');
    expect(ipToBytes('::ffff:192.0.2.1').toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(ipToBytes('fe80::1%lo').toString('hex')).toBe('fe800000000000000000000000000001');
    expect(() => ipToBytes('localhost')).toThrow('not an IP address');
  });

  it('version 1 has no extensions at all', async () => {
    const root = await createCertificate({ subjectCn: 'v1 root', ca: true });
    const v1 = await createCertificate({ subjectCn: 'v1.example.test', issuer: root, version: 1 });
    const text = await x509(v1, '-text');
    expect(text).toContain('Version: 1 (0x0)');
    expect(text).not.toContain('X509v3');
    expect((await verify(v1, { ca: [root] })).ok).toBe(true);
  });

  it('RSA keys, SHA-1 and SHA-384 signatures, ed25519 and P-384', async () => {
    const rsaKey = await cachedKeyPair('rsa-2048');
    expect(await cachedKeyPair('rsa-2048')).toBe(rsaKey);
    const rsaRoot = await createCertificate({ subjectCn: 'rsa root', ca: true, key: rsaKey, signatureHash: 'SHA-384' });
    const rsaRootText = await x509(rsaRoot, '-text');
    expect(rsaRootText).toContain('Signature Algorithm: sha384WithRSAEncryption');
    expect(rsaRootText).toContain('Public-Key: (2048 bit)');

    const rsaLeaf = await createCertificate({ subjectCn: 'localhost', issuer: rsaRoot, key: await generateKeyPair('rsa-1024'), signatureHash: 'SHA-1' });
    const rsaLeafText = await x509(rsaLeaf, '-text');
    expect(rsaLeafText).toContain('Signature Algorithm: sha1WithRSAEncryption');
    expect(rsaLeafText).toContain('Public-Key: (1024 bit)');
    expect(rsaLeafText).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect((await verify(rsaLeaf, { ca: [rsaRoot], args: ['-auth_level', '0'] })).ok).toBe(true);

    const edRoot = await createCertificate({ subjectCn: 'ed root', ca: true, key: await generateKeyPair('ed25519') });
    const p384Leaf = await createCertificate({ subjectCn: 'localhost', issuer: edRoot, key: await generateKeyPair('ec-p384') });
    expect(await x509(edRoot, '-text')).toContain('Signature Algorithm: ED25519');
    const p384Text = await x509(p384Leaf, '-text');
    expect(p384Text).toContain('Signature Algorithm: ED25519');
    expect(p384Text).toContain('NIST CURVE: P-384');
    expect((await verify(p384Leaf, { ca: [edRoot] })).ok).toBe(true);

    const ecSha1 = await createCertificate({ subjectCn: 'ec sha1', signatureHash: 'SHA-1' });
    expect(await x509(ecSha1, '-text')).toContain('Signature Algorithm: ecdsa-with-SHA1');
  });

  it('the PKCS#8 PEM is the private half of the certified key', async () => {
    for (const algorithm of ['ec-p256', 'ed25519'] as const) {
      const cert = await createCertificate({ subjectCn: `pkcs8 ${algorithm}`, key: await generateKeyPair(algorithm) });
      expect(cert.key.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      const pub = await openssl('pkey', '-in', await pemFile(`key-${cert.fingerprintSha256}`, cert.key.privateKeyPem), '-pubout');
      expect(pub.ok).toBe(true);
      expect(pub.output).toBe(await x509(cert, '-pubkey'));
    }
  });

  it('explicit serial, key usages, no basicConstraints, no key identifiers, extra extensions, far-future dates', async () => {
    const cert = await createCertificate({
      subjectCn: 'custom.example.test',
      serial: Buffer.from('0102030405', 'hex'),
      keyUsage: ['digitalSignature', 'keyCertSign'],
      extKeyUsage: ['clientAuth', 'codeSigning'],
      omitBasicConstraints: true,
      subjectKeyIdentifier: false,
      extraExtensions: [{ oid: '1.3.6.1.4.1.55555.1', critical: true, valueDer: Buffer.from('0500', 'hex') }],
      notBefore: new Date('2049-12-31T00:00:00.750Z'),
      notAfter: new Date('2051-06-01T12:00:00Z'),
    });
    expect(cert.serialHex).toBe('0102030405');
    const text = await x509(cert, '-text');
    expect(text).toContain('Serial Number: 4328719365 (0x102030405)');
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Certificate Sign\n/);
    expect(text).toMatch(/Extended Key Usage:\s+TLS Web Client Authentication, Code Signing/);
    expect(text).not.toContain('Basic Constraints');
    expect(text).not.toContain('Key Identifier');
    expect(text).toContain('1.3.6.1.4.1.55555.1: critical');
    expect(text).toContain('Not Before: Dec 31 00:00:00 2049 GMT'); // milliseconds dropped
    expect(text).toContain('Not After : Jun  1 12:00:00 2051 GMT');
    // UTCTime through 2049, GeneralizedTime from 2050.
    const asn1 = await openssl('asn1parse', '-in', await certFile(cert));
    expect(asn1.output).toMatch(/UTCTIME\s+:491231000000Z[\s\S]*GENERALIZEDTIME\s+:20510601120000Z/);
  });

  it('an issuer without a subjectKeyIdentifier yields no authorityKeyIdentifier', async () => {
    const root = await createCertificate({ subjectCn: 'no-ski root', ca: true, subjectKeyIdentifier: false });
    const leaf = await createCertificate({ subjectCn: 'localhost', issuer: root });
    const text = await x509(leaf, '-text');
    expect(text).toContain('Subject Key Identifier');
    expect(text).not.toContain('Authority Key Identifier');
    expect((await verify(leaf, { ca: [root] })).ok).toBe(true);
  });
});

describe('startTlsServer / startRawServer', () => {
  const servers: TlsTestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  const start = async (...args: Parameters<typeof startTlsServer>): Promise<TlsTestServer> => {
    const server = await startTlsServer(...args);
    servers.push(server);
    return server;
  };

  it.each(['127.0.0.1', '::1'] as const)('presents leaf + intermediate on %s, verifiable against root', async (host) => {
    const server = await start({ host, key: pki.valid.key, chain: [pki.valid, pki.intermediate] });
    expect(server.host).toBe(host);
    expect(server.port).toBeGreaterThan(0);
    const seen = await handshake(server);
    expect(seen.chain).toEqual([pki.valid.fingerprintSha256, pki.intermediate.fingerprintSha256]);
    const trusted = await handshake(server, { rejectUnauthorized: true, ca: pki.root.pem });
    expect(trusted.authorized).toBe(true);
  });

  it('presents exactly what it is given, in that order, stale cross-sign and all', async () => {
    const chain = [pki.valid, pki.crossSignedRoot, pki.intermediate, pki.oldRoot];
    const server = await start({ key: pki.valid.key, chain });
    const seen = await handshake(server);
    expect(seen.chain).toEqual(chain.map((cert) => cert.fingerprintSha256));
  });

  it('presents a lone leaf without completing the chain', async () => {
    const server = await start({ host: '::1', key: pki.valid.key, chain: [pki.valid] });
    const seen = await handshake(server, { ca: pki.root.pem });
    expect(seen.chain).toEqual([pki.valid.fingerprintSha256]);
    expect(seen.authorized).toBe(false);
    expect(seen.authorizationError).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('Node’s verifier agrees: expired, wrong name, untrusted', async () => {
    const cases: [TestCert[], string, string][] = [
      [[pki.expired, pki.intermediate], 'localhost', 'CERT_HAS_EXPIRED'],
      [[pki.notYetValid, pki.intermediate], 'localhost', 'CERT_NOT_YET_VALID'],
      [[pki.untrustedLeaf, pki.otherIntermediate], 'localhost', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
      [[pki.selfSigned], 'localhost', 'DEPTH_ZERO_SELF_SIGNED_CERT'],
    ];
    for (const [chain, servername, code] of cases) {
      const leaf = chain[0];
      if (leaf === undefined) throw new Error('empty chain');
      const server = await start({ key: leaf.key, chain });
      const seen = await handshake(server, { ca: pki.root.pem, servername });
      expect(seen.authorizationError).toBe(code);
    }
    const wrongName = await start({ key: pki.wrongName.key, chain: [pki.wrongName, pki.intermediate] });
    const rejected = handshake(wrongName, { ca: pki.root.pem, servername: 'localhost', rejectUnauthorized: true });
    await expect(rejected).rejects.toThrow(/Hostname\/IP does not match certificate's altnames/);
  });

  it('honours minVersion/maxVersion', async () => {
    const tls12 = await start({ key: pki.valid.key, chain: [pki.valid, pki.intermediate], maxVersion: 'TLSv1.2' });
    expect((await handshake(tls12)).protocol).toBe('TLSv1.2');
    const tls13 = await start({ key: pki.valid.key, chain: [pki.valid, pki.intermediate], minVersion: 'TLSv1.3' });
    expect((await handshake(tls13)).protocol).toBe('TLSv1.3');
    await expect(handshake(tls13, { maxVersion: 'TLSv1.2' })).rejects.toThrow();
  });

  it('serves RSA and ed25519 keys', async () => {
    const rsaLeaf = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, key: await cachedKeyPair('rsa-2048') });
    const rsa = await start({ key: rsaLeaf.key, chain: [rsaLeaf, pki.intermediate] });
    expect((await handshake(rsa, { ca: pki.root.pem, servername: 'localhost' })).authorized).toBe(true);
    const edLeaf = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, key: await generateKeyPair('ed25519') });
    const ed = await start({ key: edLeaf.key, chain: [edLeaf, pki.intermediate] });
    expect((await handshake(ed, { ca: pki.root.pem, servername: 'localhost' })).authorized).toBe(true);
  });

  it('close() resolves while a client still holds a connection open, and is idempotent', async () => {
    const received: Buffer[] = [];
    const server = await startRawServer('127.0.0.1', (socket) => {
      socket.write('HTTP/1.0 400 not tls\r\n\r\n');
      // never ends the socket: close() must destroy it
    });
    const client = net.connect({ host: server.host, port: server.port });
    client.on('data', (chunk: Buffer) => received.push(chunk));
    const clientClosed = new Promise<void>((resolve) => {
      client.on('close', () => {
        resolve();
      });
    });
    client.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      client.once('data', () => {
        resolve();
      });
    });
    expect(Buffer.concat(received).toString()).toContain('not tls');
    await server.close();
    await server.close();
    await clientClosed;
  });

  it('a TLS client against a raw server fails the handshake', async () => {
    const server = await startRawServer('::1', (socket) => {
      socket.end('garbage, not a ServerHello\n');
    });
    servers.push(server);
    await expect(handshake(server)).rejects.toThrow();
  });
});
