import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import { systemClock } from '../../src/clock';
import { Daemon } from '../../src/daemon';
import { acceptsGzip, bodyText, encodeBody, textStream, type BodyPart, type EncodedBody } from '../../src/metrics/exposition-body';
import { packSections } from '../../src/metrics/sections';
import { buildApp } from '../../src/web/app';

/** The text a body inflates to. */
const text = (body: EncodedBody): string => gunzipSync(Buffer.concat(body.chunks)).toString('utf8');
/** Deflated pieces of a body: one per chunk written, between the gzip header and the final block and trailer. */
const pieces = (body: EncodedBody): number => body.chunks.length - 3;

describe('encodeBody', () => {
  it('writes parts into ~4 MB chunks, each deflated as it fills, that inflate to the parts, multi-byte characters included', async () => {
    const parts = Array.from({ length: 250_000 }, (_, i) => `certexp_probe_success{target="t${i}.example.org ünï"} 1\n`);
    const body = await encodeBody(parts);
    expect(text(body)).toBe(parts.join(''));
    expect(body.textBytes).toBe(Buffer.byteLength(parts.join('')));
    expect(body.bytes).toBe(Buffer.concat(body.chunks).length);
    expect(pieces(body)).toBe(Math.ceil(body.textBytes / ((4 << 20) - 100)));
  });

  it('copies sections of packed buffers as the bytes of their texts, across chunks, and bodyText reads the same', async () => {
    const texts = (i: number): string[] => [`a{target="t${i} ünï"} 1\n`, '', i % 3 === 0 ? '' : `c{target="t${i}"} ${i}\nc{target="t${i}",x="€"} 2\n`];
    const packed = Array.from({ length: 100_000 }, (_, i) => packSections(texts(i)));
    const parts: BodyPart[] = ['# head\n', { section: 2, of: packed }, ['x\n', 'y\n'], { section: 1, of: packed }, { section: 0, of: packed }];
    const expected = `# head\n${packed.map((_, i) => texts(i)[2]).join('')}x\ny\n${packed.map((_, i) => texts(i)[0]).join('')}`;
    const body = await encodeBody(parts);
    expect(pieces(body)).toBeGreaterThan(1);
    expect(text(body)).toBe(expected);
    expect(bodyText(parts)).toBe(expected);
  });

  it('gives a part longer than a chunk a chunk of its own size', async () => {
    const parts = ['a\n', 'é'.repeat(3 << 20), 'b\n'];
    const body = await encodeBody(parts);
    expect(text(body)).toBe(parts.join(''));
    expect(pieces(body)).toBe(3);
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

  it('deflates to one gzip member that gzip(1) and zlib read back, the same when bodies are encoded side by side', async () => {
    const parts = [Array.from({ length: 250_000 }, (_, i) => `certexp_probes_total{target="t${i}"} ${i}\n`)];
    const expected = parts[0]?.join('') ?? '';
    // Side by side and then again: a chunk goes back to the pool once deflated, and none may be
    // one another rendering is still writing or deflating.
    const concurrent = await Promise.all([encodeBody(parts), encodeBody(parts), encodeBody(parts)]);
    const gzipped = Buffer.concat((await encodeBody(parts)).chunks);
    for (const other of concurrent) expect(Buffer.concat(other.chunks).equals(gzipped)).toBe(true);
    // Both check the trailer's CRC-32 and length against what they inflated.
    expect(gunzipSync(gzipped).toString('utf8')).toBe(expected);
    expect(execFileSync('gzip', ['-dc'], { input: gzipped, maxBuffer: 64 << 20 }).toString('utf8')).toBe(expected);
    expect(gzipped.length * 5).toBeLessThan(Buffer.byteLength(expected));
    // One member: the gzip magic opens the body and nowhere starts another.
    expect(gzipped.subarray(0, 3)).toEqual(Buffer.from([0x1f, 0x8b, 8]));
    expect(gzipped.indexOf(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]), 1)).toBe(-1);
  });

  it('gzips an empty body to a valid empty gzip', async () => {
    const body = await encodeBody([]);
    expect(gunzipSync(Buffer.concat(body.chunks)).length).toBe(0);
    expect(body.textBytes).toBe(0);
  });
});

describe('textStream', () => {
  it('inflates a body as it is read, in pieces of at most 256 KB, to its text', async () => {
    const parts = Array.from({ length: 100_000 }, (_, i) => `certexp_probes_total{target="t${i} ü"} ${i}\n`);
    const body = await encodeBody(parts);
    const pieces: Buffer[] = [];
    for await (const piece of textStream(body)) pieces.push(piece as Buffer);
    expect(Buffer.concat(pieces).toString('utf8')).toBe(parts.join(''));
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(256 * 1024);
    expect(pieces.length).toBeGreaterThan(body.textBytes / (256 * 1024));
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
