import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCertificate, type ParsedCertificate } from '../../src/pki/certificate';
import { buildOcspRequest, checkOcspResponse, OCSP_CLOCK_SKEW_MS, ocspResponderUrls, type OcspVerdict } from '../../src/pki/ocsp';
import { ocspSigningExtension, ocspUrlExtension, OcspFiles, unsuccessfulResponse } from '../support/ocsp';
import { createCertificate, days, type TestCert } from '../support/pki';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { describeWithTool } from '../support/tools';

const URL = 'http://127.0.0.1:9/ocsp';

describe('ocspResponderUrls', () => {
  it('reads the OCSP URL of authorityInfoAccess, and only http ones', async () => {
    const pki = await buildTestPki();
    const leaf = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, extraExtensions: [ocspUrlExtension(URL)] });
    const https = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, extraExtensions: [ocspUrlExtension('https://127.0.0.1/')] });
    expect(ocspResponderUrls(parseCertificate(leaf.der))).toEqual([URL]);
    expect(ocspResponderUrls(parseCertificate(https.der))).toEqual([]);
    expect(ocspResponderUrls(parseCertificate(pki.valid.der))).toEqual([]);
  });
});

describeWithTool('openssl', 'openssl', 'OCSP responses from openssl ocsp -index, checked by checkOcspResponse', () => {
  let pki: TestPki;
  let files: OcspFiles;
  let good: TestCert;
  let revoked: TestCert;
  let notInIndex: TestCert;
  let delegate: TestCert;
  let delegateWithoutEku: TestCert;
  let intermediate: ParsedCertificate;
  const revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - days(2));

  const parse = (c: TestCert): ParsedCertificate => parseCertificate(c.der);

  beforeAll(async () => {
    pki = await buildTestPki();
    intermediate = parse(pki.intermediate);
    const leaf = (): Promise<TestCert> => createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, extraExtensions: [ocspUrlExtension(URL)] });
    [good, revoked, notInIndex] = await Promise.all([leaf(), leaf(), leaf()]);
    delegate = await createCertificate({ subjectCn: 'certexp-test OCSP responder', issuer: pki.intermediate, extKeyUsage: [], extraExtensions: [ocspSigningExtension()] });
    delegateWithoutEku = await createCertificate({ subjectCn: 'certexp-test not a responder', issuer: pki.intermediate, extKeyUsage: [] });
    files = await OcspFiles.create({ ca: pki.intermediate, signer: pki.intermediate }, [
      { cert: good }, { cert: revoked, revokedAt, reason: 'keyCompromise' },
    ]);
  });

  afterAll(async () => {
    await files.remove();
  });

  async function ask(cert: TestCert, at = Date.now(), signer?: TestCert): Promise<OcspVerdict> {
    const request = buildOcspRequest(parse(cert), intermediate);
    const answering = signer === undefined ? files : await OcspFiles.create({ ca: pki.intermediate, signer }, [{ cert: good }]);
    try {
      const response = await answering.answer(request.der, 60);
      return checkOcspResponse({ response, leaf: parse(cert), issuer: intermediate, at, nonce: request.nonce });
    } finally {
      if (answering !== files) await answering.remove();
    }
  }

  it('builds a request that openssl reads: one certificate by SHA-1 CertID, with a nonce', () => {
    const request = buildOcspRequest(parse(good), intermediate);
    const file = join(files.dir, 'request.der');
    writeFileSync(file, request.der);
    const text = execFileSync('openssl', ['ocsp', '-reqin', file, '-req_text'], { encoding: 'utf8' });
    expect(text).toContain('Hash Algorithm: sha1');
    expect(text).toContain(`Serial Number: ${good.serialHex.toUpperCase()}`);
    expect(text).toContain('OCSP Nonce');
    expect(request.nonce).toHaveLength(16);
  });

  it('reads good, with thisUpdate and nextUpdate, when the issuer signs for a certificate in its index', async () => {
    const verdict = await ask(good);
    expect(verdict).toEqual({ status: 'good', thisUpdate: expect.any(Number) as number, nextUpdate: expect.any(Number) as number });
    if (verdict.status !== 'good') throw new Error('not good');
    expect(verdict.nextUpdate).toBe(verdict.thisUpdate + 60 * 60_000);
    expect(Math.abs(verdict.thisUpdate - Date.now())).toBeLessThan(60_000);
  });

  it('reads revoked with the time and reason of the index when the certificate is revoked', async () => {
    expect(await ask(revoked)).toMatchObject({ status: 'revoked', revokedAt: revokedAt.getTime(), revocationReason: 'keyCompromise' });
  });

  it('reads unknown when the responder does not know the certificate', async () => {
    expect(await ask(notInIndex)).toMatchObject({ status: 'unknown' });
  });

  it('accepts a delegated responder certificate that the issuer gave id-kp-OCSPSigning', async () => {
    expect(await ask(good, Date.now(), delegate)).toMatchObject({ status: 'good' });
  });

  it('rejects a response signed by a certificate of the issuer without id-kp-OCSPSigning', async () => {
    expect(await ask(good, Date.now(), delegateWithoutEku)).toEqual({
      status: 'error', error: 'the response is not signed by the issuer or by a responder certificate the issuer authorized',
    });
  });

  it('rejects a response signed by another CA, even a trusted one', async () => {
    expect(await ask(good, Date.now(), pki.root)).toMatchObject({ status: 'error', error: expect.stringContaining('not signed by the issuer') as string });
  });

  it('rejects a response whose signature was tampered with', async () => {
    const request = buildOcspRequest(parse(good), intermediate);
    // Without certificates the signature ends the response.
    const response = Buffer.from(await files.answer(request.der, 60, ['-resp_no_certs']));
    expect(checkOcspResponse({ response, leaf: parse(good), issuer: intermediate, at: Date.now(), nonce: request.nonce }).status).toBe('good');
    response[response.length - 5] = (response[response.length - 5] ?? 0) ^ 0x01;
    const verdict = checkOcspResponse({ response, leaf: parse(good), issuer: intermediate, at: Date.now(), nonce: request.nonce });
    expect(verdict.status).toBe('error');
  });

  it('rejects a response about another certificate', async () => {
    const request = buildOcspRequest(parse(good), intermediate);
    const response = await files.answer(request.der);
    expect(checkOcspResponse({ response, leaf: parse(revoked), issuer: intermediate, at: Date.now() }))
      .toEqual({ status: 'error', error: 'the response says nothing about this certificate' });
  });

  it('rejects a response that echoes another nonce, and accepts one that echoes none', async () => {
    const request = buildOcspRequest(parse(good), intermediate);
    const response = await files.answer(request.der);
    expect(checkOcspResponse({ response, leaf: parse(good), issuer: intermediate, at: Date.now(), nonce: Buffer.alloc(16, 7) }))
      .toEqual({ status: 'error', error: 'the response echoes another nonce' });
    const plain = await files.answer(buildOcspRequest(parse(good), intermediate, { nonce: false }).der);
    expect(checkOcspResponse({ response: plain, leaf: parse(good), issuer: intermediate, at: Date.now(), nonce: Buffer.alloc(16, 7) }).status).toBe('good');
  });

  it('calls a good response stale once nextUpdate has passed by more than the clock skew, but keeps a revocation', async () => {
    const later = Date.now() + 60 * 60_000 + OCSP_CLOCK_SKEW_MS + 60_000;
    expect(await ask(good, later)).toMatchObject({ status: 'error', error: expect.stringMatching(/^the response is stale: nextUpdate /) as string });
    expect(await ask(revoked, later)).toMatchObject({ status: 'revoked' });
  });

  it('rejects a response whose thisUpdate is ahead of the clock by more than the skew', async () => {
    expect(await ask(good, Date.now() - OCSP_CLOCK_SKEW_MS - 60_000)).toMatchObject({ status: 'error', error: expect.stringMatching(/is in the future$/) as string });
  });

  it('reports the responder status when it is not successful, and garbage as not a response', () => {
    const leaf = parse(good);
    expect(checkOcspResponse({ response: unsuccessfulResponse(3), leaf, issuer: intermediate, at: Date.now() }))
      .toEqual({ status: 'error', error: 'the responder answered tryLater' });
    expect(checkOcspResponse({ response: Buffer.from('<html>502</html>'), leaf, issuer: intermediate, at: Date.now() }))
      .toMatchObject({ status: 'error', error: expect.stringMatching(/^not a valid OCSP response/) as string });
  });
});
