import { decodeCertificateFile, type DecodedFile } from '../../src/files/certificate-file';
import { Secret } from '../../src/web/secret';
import { exportPkcs12 } from '../support/pkcs12';
import { buildTestPki, chainPem, type TestPki } from '../support/scenarios';
import { describeWithTool } from '../support/tools';

let pki: TestPki;

beforeAll(async () => {
  pki = await buildTestPki();
});

const chainOf = (decoded: DecodedFile): string[] => {
  if (decoded.kind !== 'chain') throw new Error(`expected a chain, got ${JSON.stringify(decoded)}`);
  return decoded.chain.map((der) => der.toString('hex'));
};
const hex = (...certs: { der: Buffer }[]): string[] => certs.map((c) => c.der.toString('hex'));
const decode = (text: string | Buffer, password?: string): Promise<DecodedFile> =>
  decodeCertificateFile(Buffer.isBuffer(text) ? text : Buffer.from(text), password === undefined ? undefined : new Secret(password));

describe('PEM files', () => {
  it('reads a bundle in file order, with comments and a private key block around it', async () => {
    const text = `# fullchain for shop\n${pki.valid.key.privateKeyPem}subject=CN=localhost\n${chainPem(pki.valid, pki.intermediate, pki.root)}`;
    expect(chainOf(await decode(text))).toEqual(hex(pki.valid, pki.intermediate, pki.root));
  });

  it('never decodes a private key block: a key of garbage is passed over like a good one', async () => {
    const text = `-----BEGIN PRIVATE KEY-----\n!!not base64!!\n-----END PRIVATE KEY-----\n${pki.valid.pem}`;
    expect(chainOf(await decode(text))).toEqual(hex(pki.valid));
  });

  it('tells a file of private keys alone apart, so a *.pem glob can pass over privkey.pem', async () => {
    expect(await decode(pki.valid.key.privateKeyPem)).toEqual({ kind: 'keys_only' });
    expect(await decode(`-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n-----BEGIN EC PRIVATE KEY-----\nAA==\n-----END EC PRIVATE KEY-----\n`)).toEqual({ kind: 'keys_only' });
  });

  it('reports PEM without a certificate as not_a_certificate', async () => {
    const csr = '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n';
    expect(await decode(csr)).toEqual({ kind: 'failure', reason: 'not_a_certificate', error: 'PEM blocks CERTIFICATE REQUEST but no CERTIFICATE' });
  });

  it('reports a block cut off in the middle (a file written partly) as malformed_pem', async () => {
    const cut = chainPem(pki.valid, pki.intermediate).slice(0, -200);
    expect(await decode(cut)).toMatchObject({ kind: 'failure', reason: 'malformed_pem', error: '1 of 2 CERTIFICATE blocks have no END line or are not base64' });
    const notBase64 = pki.valid.pem.replace(/\n(.{10})/, '\n$1*');
    expect(await decode(notBase64)).toMatchObject({ kind: 'failure', reason: 'malformed_pem' });
  });

  it('hands a CERTIFICATE block that is not X.509 on as it is: the chain analyzer calls it malformed_certificate', async () => {
    expect(chainOf(await decode('-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n'))).toEqual(['010203']);
  });
});

describe('DER and other binary files', () => {
  it('reads a DER certificate, ignoring a trailing newline', async () => {
    expect(chainOf(await decode(pki.valid.der))).toEqual(hex(pki.valid));
    expect(chainOf(await decode(Buffer.concat([pki.valid.der, Buffer.from('\n')])))).toEqual(hex(pki.valid));
  });

  it.each([
    ['an empty file', Buffer.alloc(0)],
    ['text', Buffer.from('hello, this is not a certificate\n')],
    ['random bytes', Buffer.from('d4c3b2a1ff00', 'hex')],
    ['a DER SEQUENCE of something else', Buffer.from('3003010100', 'hex')],
  ])('reports %s as not_a_certificate', async (_name, bytes) => {
    expect(await decode(bytes)).toMatchObject({ kind: 'failure', reason: 'not_a_certificate' });
  });

  it('reports a SEQUENCE that starts like PKCS#12 but is not one as not_a_certificate', async () => {
    expect(await decode(Buffer.from('3003020103', 'hex'))).toEqual({ kind: 'failure', reason: 'not_a_certificate', error: 'not a certificate and not a PKCS#12 archive' });
  });
});

describeWithTool('openssl', 'openssl', 'PKCS#12 archives made by openssl pkcs12 -export', () => {
  const password = 'correct horse battery staple';

  it('reads the certificates of an OpenSSL 3 archive (PBES2, AES-256-CBC, HMAC-SHA256), leaf first', async () => {
    const archive = exportPkcs12({ chain: [pki.valid, pki.intermediate], password });
    expect(chainOf(await decode(archive, password))).toEqual(hex(pki.valid, pki.intermediate));
  });

  it('reads a password with characters beyond ASCII', async () => {
    const archive = exportPkcs12({ chain: [pki.valid], password: 'pässwörd€' });
    expect(chainOf(await decode(archive, 'pässwörd€'))).toEqual(hex(pki.valid));
  });

  it('uses the empty password when no password file is configured', async () => {
    const archive = exportPkcs12({ chain: [pki.valid], password: '' });
    expect(chainOf(await decode(archive))).toEqual(hex(pki.valid));
  });

  it('reports a wrong password as pkcs12_wrong_password, and no password as the same', async () => {
    const archive = exportPkcs12({ chain: [pki.valid], password });
    expect(await decode(archive, 'wrong')).toEqual({ kind: 'failure', reason: 'pkcs12_wrong_password', error: 'the integrity MAC does not verify with the password' });
    expect(await decode(archive)).toMatchObject({ kind: 'failure', reason: 'pkcs12_wrong_password' });
  });

  it('reads an archive without MAC (-nomac), whose certificates OpenSSL then leaves unencrypted, with any password', async () => {
    const archive = exportPkcs12({ chain: [pki.valid], password, flags: ['-nomac'] });
    expect(chainOf(await decode(archive, 'wrong'))).toEqual(hex(pki.valid));
  });

  it('reports a wrong password on an archive without MAC but with encrypted certificates as pkcs12_decrypt_failed', async () => {
    const archive = exportPkcs12({ chain: [pki.valid], password, flags: ['-nomac', '-certpbe', 'AES-256-CBC'] });
    expect(chainOf(await decode(archive, password))).toEqual(hex(pki.valid));
    expect(await decode(archive, 'wrong')).toMatchObject({ kind: 'failure', reason: 'pkcs12_decrypt_failed' });
  });

  it('reads an archive whose certificates are not encrypted (-certpbe NONE)', async () => {
    const archive = exportPkcs12({ chain: [pki.valid, pki.intermediate], password, flags: ['-certpbe', 'NONE', '-keypbe', 'NONE'] });
    expect(chainOf(await decode(archive, password))).toEqual(hex(pki.valid, pki.intermediate));
  });

  it('reports an -legacy archive (RC2-40 certificates, SHA-1 MAC) as pkcs12_unsupported, once the password is right', async () => {
    const archive = exportPkcs12({ chain: [pki.valid], password, flags: ['-legacy'] });
    expect(await decode(archive, password)).toEqual({
      kind: 'failure', reason: 'pkcs12_unsupported', error: 'certificates encrypted with 1.2.840.113549.1.12.1.6, not PBES2 with AES-CBC',
    });
    expect(await decode(archive, 'wrong')).toMatchObject({ kind: 'failure', reason: 'pkcs12_wrong_password' });
  });

  it('reports a damaged archive without crashing', async () => {
    const archive = exportPkcs12({ chain: [pki.valid], password });
    const damaged = Buffer.from(archive);
    const middle = Math.floor(damaged.length / 2);
    damaged[middle] = (damaged[middle] ?? 0) ^ 0xff;
    const result = await decode(damaged, password);
    expect(result.kind).toBe('failure');
    expect(await decode(archive.subarray(0, archive.length - 40), password)).toMatchObject({ kind: 'failure' });
  });
});
