/**
 * OCSP I/O against real loopback servers: the TLS prober asking for a stapled response from
 * openssl s_server, and the OCSP client asking a responder (openssl ocsp -index behind HTTP on
 * 127.0.0.1), with its cache, its sharing of concurrent queries and the failures it reports.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../src/clock';
import { systemClock } from '../../src/clock';
import { parseCertificate, type ParsedCertificate } from '../../src/pki/certificate';
import { OcspClient } from '../../src/probing/ocsp-client';
import { httpOcspFetcher } from '../../src/probing/ocsp-fetcher';
import { createTlsProber } from '../../src/probing/tls-prober';
import { OcspFiles, ocspUrlExtension, startOcspResponder, type OcspResponder } from '../support/ocsp';
import { createCertificate, type TestCert } from '../support/pki';
import { freePort } from '../support/ports';
import { startSServer } from '../support/s-server';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { describeWithTool } from '../support/tools';

/** A clock the test moves by hand, starting at the real time. */
function manualClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return { now: () => Date.now() + offset, monotonic: () => performance.now() + offset, advance: (ms) => { offset += ms; } };
}

/** An HTTP server on 127.0.0.1 that answers every request with `handler`, for misbehaving responders. */
async function startHttp(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { url: `http://127.0.0.1:${address.port}/`, server };
}

describeWithTool('openssl', 'openssl', 'OCSP over real loopback servers', () => {
  let pki: TestPki;
  let dir: string;
  let files: OcspFiles;
  let responder: OcspResponder;
  let leaf: TestCert;
  let parsedLeaf: ParsedCertificate;
  let issuer: ParsedCertificate;
  const closers: (() => unknown)[] = [];

  beforeAll(async () => {
    pki = await buildTestPki();
    dir = await mkdtemp(join(tmpdir(), 'certexp-ocsp-probe-'));
    files = await OcspFiles.create({ ca: pki.intermediate, signer: pki.intermediate }, []);
    responder = await startOcspResponder(files);
    leaf = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, extraExtensions: [ocspUrlExtension(responder.url)] });
    await files.setIndex([{ cert: leaf }]);
    parsedLeaf = parseCertificate(leaf.der);
    issuer = parseCertificate(pki.intermediate.der);
  });

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  afterAll(async () => {
    await responder.close();
    await files.remove();
    await rm(dir, { recursive: true, force: true });
  });

  const leafNaming = (url: string): Promise<TestCert> =>
    createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, extraExtensions: [ocspUrlExtension(url)] });

  describe('the TLS prober', () => {
    it('returns the response the server staples, byte for byte', async () => {
      const staple = await files.stapleFor(leaf);
      const server = await startSServer(dir, 'stapling', [leaf, pki.intermediate], { statusFile: staple });
      closers.push(() => server.child.kill());
      const outcome = await createTlsProber({ resolver: () => Promise.resolve(['127.0.0.1']), clock: systemClock })(
        { host: '127.0.0.1', port: server.port, serverName: 'localhost' }, AbortSignal.timeout(5000));
      expect(outcome.ok && outcome.ocspResponse).toEqual(readFileSync(staple));
    });

    it('returns no response when the server staples none', async () => {
      const server = await startSServer(dir, 'plain', [leaf, pki.intermediate]);
      closers.push(() => server.child.kill());
      const outcome = await createTlsProber({ resolver: () => Promise.resolve(['127.0.0.1']), clock: systemClock })(
        { host: '127.0.0.1', port: server.port, serverName: 'localhost' }, AbortSignal.timeout(5000));
      expect(outcome).toMatchObject({ ok: true });
      expect(outcome).not.toHaveProperty('ocspResponse');
    });
  });

  describe('the OCSP client', () => {
    const client = (clock: Clock = systemClock, retryAfterErrorMs?: number): OcspClient =>
      new OcspClient({ fetch: httpOcspFetcher(), clock, ...(retryAfterErrorMs === undefined ? {} : { retryAfterErrorMs }) });

    it('asks the responder of authorityInfoAccess and reads good', async () => {
      expect(await client().status(parsedLeaf, issuer, AbortSignal.timeout(5000))).toMatchObject({ status: 'good' });
    });

    it('asks once until nextUpdate, however often and however concurrently it is asked, then asks again', async () => {
      const clock = manualClock();
      const ocsp = client(clock);
      const before = responder.requests();
      const verdicts = await Promise.all([1, 2, 3].map(() => ocsp.status(parsedLeaf, issuer, AbortSignal.timeout(5000))));
      await ocsp.status(parsedLeaf, issuer, AbortSignal.timeout(5000));
      expect(verdicts.map((v) => v?.status)).toEqual(['good', 'good', 'good']);
      expect(responder.requests() - before).toBe(1);
      clock.advance(61 * 60_000);
      await ocsp.status(parsedLeaf, issuer, AbortSignal.timeout(5000));
      expect(responder.requests() - before).toBe(2);
    });

    it('gives nothing for a certificate that names no responder', async () => {
      expect(await client().status(parseCertificate(pki.valid.der), issuer, AbortSignal.timeout(5000))).toBeUndefined();
    });

    it('reports a responder that is down as an error, and asks again only after the retry delay', async () => {
      const port = await freePort();
      const down = parseCertificate((await leafNaming(`http://127.0.0.1:${port}/`)).der);
      const clock = manualClock();
      const ocsp = client(clock, 30_000);
      expect(await ocsp.status(down, issuer, AbortSignal.timeout(5000))).toEqual({ status: 'error', error: `http://127.0.0.1:${port}/: ECONNREFUSED` });
      const { url, server } = await startHttp((_req, res) => { res.writeHead(503).end(); });
      closers.push(() => new Promise((resolve) => server.close(resolve)));
      const other = parseCertificate((await leafNaming(url)).der);
      expect(await ocsp.status(other, issuer, AbortSignal.timeout(5000))).toEqual({ status: 'error', error: `${url}: HTTP 503` });
      clock.advance(10_000);
      expect(await ocsp.status(other, issuer, AbortSignal.timeout(5000))).toEqual({ status: 'error', error: `${url}: HTTP 503` });
    });

    it('gives up on a responder that does not answer when the probe\'s time runs out', async () => {
      const { url, server } = await startHttp(() => undefined);
      closers.push(() => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); }));
      const silent = parseCertificate((await leafNaming(url)).der);
      const started = Date.now();
      expect(await client().status(silent, issuer, AbortSignal.timeout(300))).toEqual({ status: 'error', error: `${url}: timed out` });
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('refuses a response larger than 64 KiB, and reports one that is not OCSP', async () => {
      const big = await startHttp((_req, res) => { res.writeHead(200).end(Buffer.alloc(70 * 1024)); });
      const html = await startHttp((_req, res) => { res.writeHead(200).end('<html>hello</html>'); });
      closers.push(() => new Promise((resolve) => big.server.close(resolve)), () => new Promise((resolve) => html.server.close(resolve)));
      const ocsp = client();
      expect(await ocsp.status(parseCertificate((await leafNaming(big.url)).der), issuer, AbortSignal.timeout(5000)))
        .toEqual({ status: 'error', error: `${big.url}: response larger than 65536 bytes` });
      expect(await ocsp.status(parseCertificate((await leafNaming(html.url)).der), issuer, AbortSignal.timeout(5000)))
        .toMatchObject({ status: 'error', error: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/: not a valid OCSP response/) as string });
    });
  });
});
