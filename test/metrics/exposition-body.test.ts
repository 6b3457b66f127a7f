import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import { systemClock } from '../../src/clock';
import { Daemon } from '../../src/daemon';
import { acceptsGzip, encodeBody, gzipBody } from '../../src/metrics/exposition-body';
import { buildApp } from '../../src/web/app';

const text = (chunks: readonly Buffer[]): string => Buffer.concat(chunks).toString('utf8');

describe('encodeBody', () => {
  it('joins parts into ~1 MB chunks that add up to the parts, multi-byte characters included', async () => {
    const parts = Array.from({ length: 60_000 }, (_, i) => `certexp_probe_success{target="t${i}.example.org ünï"} 1\n`);
    const body = await encodeBody(parts);
    expect(text(body.chunks)).toBe(parts.join(''));
    expect(body.bytes).toBe(Buffer.byteLength(parts.join('')));
    expect(body.chunks.length).toBeGreaterThan(2);
    for (const chunk of body.chunks.slice(0, -1)) expect(chunk.length).toBeGreaterThanOrEqual(1 << 20);
  });

  it('gives the event loop a turn when encoding has run for a while, not only at the end', async () => {
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 0);
    // Each part takes 25 ms to produce, longer than one slice: a loop that never yielded would see no tick.
    function* slowParts(): Generator<string> {
      for (let i = 0; i < 8; i++) {
        const until = performance.now() + 25;
        while (performance.now() < until);
        yield 'x'.repeat(1 << 20);
      }
    }
    await encodeBody(slowParts());
    clearInterval(timer);
    expect(ticks).toBeGreaterThanOrEqual(6);
  });

  it('gzips to a body that inflates back to the same text', async () => {
    const body = await encodeBody(Array.from({ length: 50_000 }, (_, i) => `certexp_probes_total{target="t${i}"} ${i}\n`));
    const gzipped = await gzipBody(body);
    expect(gzipped.bytes).toBe(Buffer.concat(gzipped.chunks).length);
    expect(gzipped.bytes * 5).toBeLessThan(body.bytes);
    expect(gunzipSync(Buffer.concat(gzipped.chunks)).toString('utf8')).toBe(text(body.chunks));
  });
});

describe('acceptsGzip', () => {
  it.each([
    ['gzip', true],
    ['gzip, deflate, br', true],
    ['GZIP;q=0.5', true],
    ['x-gzip', true],
    ['*', true],
    ['deflate, *;q=0.1', true],
    [undefined, false],
    ['', false],
    ['identity', false],
    ['br, deflate', false],
    ['gzip;q=0', false],
    ['gzip;q=0, *', false],
    ['*;q=0', false],
  ])('%s -> %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});

describe('/metrics compression', () => {
  const logger = pino({ level: 'silent' });
  const daemon = new Daemon({ configFile: '/nonexistent/certexp.yml', logger, concurrency: 1 });
  const app = buildApp({ daemon, clock: systemClock, logger });
  afterAll(async () => { await app.close(); });

  it('answers gzip to a scraper that asks for it, with the same metrics and a content length', async () => {
    const plain = await app.inject({ url: '/metrics' });
    const gzipped = await app.inject({ url: '/metrics', headers: { 'accept-encoding': 'gzip' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(Number(plain.headers['content-length'])).toBe(plain.rawPayload.length);
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toMatch(/accept-encoding/i);
    expect(Number(gzipped.headers['content-length'])).toBe(gzipped.rawPayload.length);
    const inflated = gunzipSync(gzipped.rawPayload).toString('utf8');
    // Both came from one rendering (reused for a second), so they are the same text.
    expect(inflated).toBe(plain.body);
    expect(inflated).toMatch(/^certexp_build_info\{/m);
  });
});
