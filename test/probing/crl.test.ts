/**
 * The CRL client against a real distribution point on 127.0.0.1: CRLs from `openssl ca -gencrl`
 * and from pkijs, the failures a server can show (404, down, silent, oversized, not a CRL),
 * and the cache that keeps a CRL until its nextUpdate.
 */
import type { Clock } from '../../src/clock';
import { systemClock } from '../../src/clock';
import { parseCertificate, type ParsedCertificate } from '../../src/pki/certificate';
import { CrlClient } from '../../src/probing/crl-client';
import { httpCrlFetcher, MAX_CRL_BYTES } from '../../src/probing/crl-fetcher';
import { createCrl, crlDistributionPointsExtension, opensslCrl, startCrlServer, type CrlServer } from '../support/crl';
import { createCertificate, days, hours, type TestCert } from '../support/pki';
import { freePort } from '../support/ports';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { describeWithTool } from '../support/tools';

/** A clock the test moves by hand, starting at the real time. */
function manualClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return { now: () => Date.now() + offset, monotonic: () => performance.now() + offset, advance: (ms) => { offset += ms; } };
}

describeWithTool('openssl', 'openssl', 'the CRL client over a real loopback distribution point', () => {
  let pki: TestPki;
  let server: CrlServer;
  let issuer: ParsedCertificate;
  let good: TestCert;
  let revoked: TestCert;
  const revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - days(1));

  const leafAt = async (...paths: string[]): Promise<ParsedCertificate> => parseCertificate((await createCertificate({
    subjectCn: 'localhost', issuer: pki.intermediate, extraExtensions: [crlDistributionPointsExtension(paths.map((p) => (p.includes('://') ? p : server.url(p))))],
  })).der);
  const client = (clock: Clock = systemClock, more: { retryAfterErrorMs?: number; capacity?: number; maxBytes?: number } = {}): CrlClient =>
    new CrlClient({ fetch: httpCrlFetcher(more.maxBytes), clock, ...(more.retryAfterErrorMs === undefined ? {} : { retryAfterErrorMs: more.retryAfterErrorMs }), ...(more.capacity === undefined ? {} : { capacity: more.capacity }) });
  const status = async (crl: CrlClient, leaf: ParsedCertificate, timeoutMs = 5000): Promise<unknown> => crl.status(leaf, issuer, AbortSignal.timeout(timeoutMs));

  beforeAll(async () => {
    pki = await buildTestPki();
    server = await startCrlServer();
    issuer = parseCertificate(pki.intermediate.der);
    const make = (): Promise<TestCert> => createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, extraExtensions: [crlDistributionPointsExtension([server.url('openssl.crl')])] });
    [good, revoked] = await Promise.all([make(), make()]);
    server.serve('openssl.crl', await opensslCrl(pki.intermediate, [{ cert: good }, { cert: revoked, revokedAt, reason: 'keyCompromise' }], 24));
  });

  afterAll(async () => {
    await server.close();
  });

  it('fetches the CRL of cRLDistributionPoints and reads revoked, with its reason, and good', async () => {
    const crl = client();
    expect(await status(crl, parseCertificate(revoked.der))).toMatchObject({
      status: 'revoked', revokedAt: revokedAt.getTime(), revocationReason: 'keyCompromise', url: server.url('openssl.crl'),
    });
    const answer = await crl.status(parseCertificate(good.der), issuer, AbortSignal.timeout(5000));
    expect(answer).toMatchObject({ status: 'good', url: server.url('openssl.crl') });
    expect(answer?.status === 'good' && answer.nextUpdate).toBeGreaterThan(Date.now() + hours(23));
  });

  it('fetches a distribution point once for two probes and for every leaf it covers, until nextUpdate, then again', async () => {
    server.serve('cached.crl', createCrl({ issuer: pki.intermediate, nextUpdate: new Date(Date.now() + hours(2)) }));
    const clock = manualClock();
    const crl = client(clock);
    const [first, second] = [await leafAt('cached.crl'), await leafAt('cached.crl')];
    const concurrent = await Promise.all([status(crl, first), status(crl, first), status(crl, second)]);
    expect(await status(crl, first)).toMatchObject({ status: 'good' });
    expect(concurrent).toMatchObject([{ status: 'good' }, { status: 'good' }, { status: 'good' }]);
    expect(server.requests('cached.crl')).toBe(1);
    clock.advance(hours(2) + 60_000);
    await status(crl, first);
    expect(server.requests('cached.crl')).toBe(2);
  });

  it('gives nothing for a leaf that names no distribution point, and an error for one naming only ldap', async () => {
    expect(await status(client(), parseCertificate(pki.valid.der))).toBeUndefined();
    const ldap = 'ldap://127.0.0.1/cn=CA?certificateRevocationList';
    expect(await status(client(), await leafAt(ldap))).toEqual({ status: 'error', error: `no http:// CRL distribution point to fetch (${ldap}: not supported)` });
  });

  it('reports 404, a server that is down and a body that is not a CRL as errors, and asks again only after the retry delay', async () => {
    const port = await freePort();
    const clock = manualClock();
    const crl = client(clock, { retryAfterErrorMs: 30_000 });
    expect(await status(crl, await leafAt('missing.crl'))).toEqual({ status: 'error', error: `${server.url('missing.crl')}: HTTP 404` });
    expect(await status(crl, await leafAt(`http://127.0.0.1:${port}/ca.crl`))).toEqual({ status: 'error', error: `http://127.0.0.1:${port}/ca.crl: ECONNREFUSED` });
    server.serve('garbage.crl', '<html>maintenance</html>');
    const garbage = await leafAt('garbage.crl');
    expect(await status(crl, garbage)).toEqual({ status: 'error', error: `${server.url('garbage.crl')}: not a CRL (neither DER nor PEM "X509 CRL")` });
    server.serve('garbage.crl', createCrl({ issuer: pki.intermediate }));
    clock.advance(10_000);
    expect(await status(crl, garbage)).toMatchObject({ status: 'error' });
    expect(server.requests('garbage.crl')).toBe(1);
    clock.advance(30_000);
    expect(await status(crl, garbage)).toMatchObject({ status: 'good' });
    expect(server.requests('garbage.crl')).toBe(2);
  });

  it('reports a CRL signed by the wrong key and an expired CRL, and fetches an expired one again after the retry delay', async () => {
    const wrong = await createCertificate({ subjectCn: 'wrong', ca: true });
    server.serve('wrong-key.crl', createCrl({ issuer: pki.intermediate, signer: wrong.key }));
    server.serve('expired.crl', createCrl({ issuer: pki.intermediate, thisUpdate: new Date(Date.now() - days(8)), nextUpdate: new Date(Date.now() - days(1)) }));
    const clock = manualClock();
    const crl = client(clock);
    expect(await status(crl, await leafAt('wrong-key.crl'))).toEqual({ status: 'error', error: `${server.url('wrong-key.crl')}: the CRL's signature does not verify with the key of the leaf's issuer` });
    const expired = await leafAt('expired.crl');
    expect(await status(crl, expired)).toEqual({ status: 'error', error: expect.stringMatching(/expired\.crl: the CRL is stale: nextUpdate .* has passed$/) as string });
    clock.advance(61_000);
    await status(crl, expired);
    expect(server.requests('expired.crl')).toBe(2);
  });

  it('refuses a body larger than the limit, declared or streamed', async () => {
    server.serve('huge.crl', Buffer.alloc(MAX_CRL_BYTES + 1, 0x30));
    server.serve('streamed.crl', (response) => {
      response.writeHead(200);
      response.write(Buffer.alloc(600));
      response.end(Buffer.alloc(600));
    });
    expect(await status(client(), await leafAt('huge.crl'))).toEqual({ status: 'error', error: `${server.url('huge.crl')}: response larger than ${MAX_CRL_BYTES} bytes` });
    expect(await status(client(systemClock, { maxBytes: 1000 }), await leafAt('streamed.crl'))).toEqual({ status: 'error', error: `${server.url('streamed.crl')}: response larger than 1000 bytes` });
  });

  it('gives up on a server that does not answer when the probe\'s time runs out', async () => {
    server.serve('silent.crl', () => undefined);
    const started = Date.now();
    expect(await status(client(), await leafAt('silent.crl'), 300)).toEqual({ status: 'error', error: `${server.url('silent.crl')}: timed out` });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('tries the next distribution point when one fails', async () => {
    expect(await status(client(), await leafAt('missing.crl', 'openssl.crl'))).toMatchObject({ status: 'good', url: server.url('openssl.crl') });
  });

  it('keeps its cached CRLs within its capacity of revoked serials, dropping the oldest', async () => {
    server.serve('a.crl', createCrl({ issuer: pki.intermediate, revoked: [{ cert: good, revokedAt }, { cert: revoked, revokedAt }] }));
    server.serve('b.crl', createCrl({ issuer: pki.intermediate, revoked: [{ cert: good, revokedAt }, { cert: revoked, revokedAt }] }));
    const crl = client(systemClock, { capacity: 3 });
    const [a, b] = [await leafAt('a.crl'), await leafAt('b.crl')];
    await status(crl, a);
    await status(crl, b);
    await status(crl, b);
    await status(crl, a);
    expect([server.requests('a.crl'), server.requests('b.crl')]).toEqual([2, 1]);
  });
});
