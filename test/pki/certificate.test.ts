/**
 * What parsing keeps of a certificate: the signed parts as views of the one DER buffer (checked
 * against pkijs and OpenSSL as independent readers), and one name object per issuer.
 */
import { createHash, X509Certificate } from 'node:crypto';
import * as pkijs from 'pkijs';
import { parseCertificate } from '../../src/pki/certificate';
import { CertificateCache } from '../../src/pki/certificate-cache';
import { buildTestPki, type TestPki } from '../support/scenarios';

let pki: TestPki;

beforeAll(async () => {
  pki = await buildTestPki();
});

describe('parseCertificate', () => {
  it('gives TBS, key and signature as views of the DER, byte for byte what pkijs and OpenSSL read', () => {
    const cert = parseCertificate(Buffer.from(pki.valid.der));
    const reference = pkijs.Certificate.fromBER(pki.valid.der);
    for (const part of [cert.tbs, cert.spki, cert.signature]) expect(part.buffer).toBe(cert.der.buffer);
    expect(Buffer.from(cert.tbs)).toEqual(Buffer.from(reference.tbsView));
    expect(Buffer.from(cert.signature)).toEqual(Buffer.from(reference.signatureValue.valueBlock.valueHexView));
    expect(cert.spki).toEqual(new X509Certificate(pki.valid.der).publicKey.export({ type: 'spki', format: 'der' }));
  });

  it('shares one issuer name object among the leaves of one CA', () => {
    const a = parseCertificate(Buffer.from(pki.valid.der));
    const b = parseCertificate(Buffer.from(pki.wildcard.der));
    expect(b.issuer).toBe(a.issuer);
    expect(a.issuer.commonName).toBe(parseCertificate(Buffer.from(pki.intermediate.der)).subject.commonName);
  });
});

describe('CertificateCache', () => {
  it('keeps a DER that owns its memory, and copies one that is a view into something larger', () => {
    // As Node hands over a peer certificate: a buffer over an ArrayBuffer of its own.
    const own = Buffer.from(new Uint8Array(pki.valid.der).buffer);
    const parsed = new CertificateCache().parse(own);
    expect(parsed.ok && parsed.cert.der).toBe(own);
    const file = Buffer.concat([Buffer.from('junk'), pki.intermediate.der]);
    const view = file.subarray(4);
    const copied = new CertificateCache().parse(view);
    file.fill(0);
    expect(copied.ok && createHash('sha256').update(copied.cert.der).digest('hex')).toBe(pki.intermediate.fingerprintSha256);
  });
});
