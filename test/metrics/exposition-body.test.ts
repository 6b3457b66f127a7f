import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import { systemClock } from '../../src/clock';
import { Daemon } from '../../src/daemon';
import { acceptsGzip, bodyText, CHUNK_BYTES, encodeBody, MAX_IN_FLIGHT, writeBody, type BodyPart, type EncodedBody } from '../../src/metrics/exposition-body';
import { packSections, sectionText } from '../../src/metrics/sections';
import { buildApp } from '../../src/web/app';
import { busyFor } from '../support/busy-loop';

/** The text a body inflates to. */
const text = (body: EncodedBody): string => gunzipSync(Buffer.concat(body.chunks)).toString('utf8');
/** Deflated pieces of a body: one per chunk written, between the gzip header and the final block and trailer. */
const pieces = (body: EncodedBody): number => body.chunks.length - 3;

describe('encodeBody', () => {
  it('writes parts into ~1 MB chunks, each deflated as it fills, that inflate to the parts, multi-byte characters included', async () => {
    const parts = Array.from({ length: 250_000 }, (_, i) => `certexp_probe_success{target="t${i}.example.org ünï"} 1\n`);
    const body = await encodeBody(parts);
    expect(text(body)).toBe(parts.join(''));
    expect(body.bytes).toBe(Buffer.concat(body.chunks).length);
    expect(pieces(body)).toBe(Math.ceil(Buffer.byteLength(parts.join('')) / (CHUNK_BYTES - 100)));
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
        busyFor(25);
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
    // Side by side and then again: a chunk is reused once deflated, and none may be one another
    // rendering is still writing or deflating.
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
  });
});

describe('writeBody', () => {
  const parts = Array.from({ length: 300_000 }, (_, i) => `certexp_probes_total{target="t${i} ü"} ${i}\n`);
  const expected = parts.join('');

  it('hands each full chunk on, writes over none until its consumer is done with it, and frees them at the end', async () => {
    const seen: Buffer[] = [];
    const arrays = new Set<ArrayBufferLike>();
    let inFlight = 0;
    let mostInFlight = 0;
    await writeBody(parts, async (chunk) => {
      const copy = Buffer.from(chunk);
      arrays.add(chunk.buffer);
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      // A slow consumer: the writer runs on meanwhile, but must not touch this chunk.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(chunk.equals(copy)).toBe(true);
      inFlight--;
      seen.push(copy);
    });
    // Not toBe: a failing diff of 12 MB strings takes minutes.
    expect(Buffer.concat(seen).toString('utf8') === expected).toBe(true);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    // MAX_IN_FLIGHT chunks with the consumer while the next is written: that many buffers and one,
    // reused, for the whole body.
    expect(mostInFlight).toBeLessThanOrEqual(MAX_IN_FLIGHT + 1);
    expect(arrays.size).toBe(MAX_IN_FLIGHT + 1);
    // Detached: their memory goes at the next scavenge, not at V8's next full collection.
    for (const array of arrays) expect(array.byteLength).toBe(0);
  });

  it('stops writing when a consumer fails, and fails with its error', async () => {
    let handed = 0;
    const failing = writeBody(parts, () => (++handed === 2 ? Promise.reject(new Error('socket gone')) : Promise.resolve()));
    await expect(failing).rejects.toThrow('socket gone');
    // The failing chunk, then at most MAX_IN_FLIGHT more before the writer waits on it.
    expect(handed).toBeLessThanOrEqual(2 + MAX_IN_FLIGHT);
  });

  it('fails with the parts\' error once the chunks already handed on are done', async () => {
    let pending = 0;
    function* broken(): Generator<string> {
      yield* parts;
      throw new Error('no more parts');
    }
    const failing = writeBody(broken(), async () => {
      pending++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      pending--;
    });
    await expect(failing).rejects.toThrow('no more parts');
    expect(pending).toBe(0);
  });
});

describe('packSections', () => {
  it('packs into the buffer it is given when the texts fit, and into a new one with room when they do not', () => {
    const first = packSections(['a 1\n', '', 'c{x="ü"} 3\n']);
    const again = packSections(['a 12\n', 'b 2\n', ''], first);
    expect(again).toBe(first);
    expect([0, 1, 2].map((i) => sectionText(again, i))).toEqual(['a 12\n', 'b 2\n', '']);
    const longer = packSections(['a 1\n', 'x'.repeat(first.length), ''], first);
    expect(longer).not.toBe(first);
    expect(sectionText(longer, 1)).toBe('x'.repeat(first.length));
  });

  it('keeps the leading sections left undefined as the buffer has them, in place or copied into a larger one', () => {
    const first = packSections(['keep{x="ü"} 1\n', 'also 2\n', 'old 3\n', 'old 4\n']);
    const kept = packSections([undefined, undefined, 'new 33\n', ''], first);
    expect(kept).toBe(first);
    expect([0, 1, 2, 3].map((i) => sectionText(kept, i))).toEqual(['keep{x="ü"} 1\n', 'also 2\n', 'new 33\n', '']);
    const grown = packSections([undefined, 'changed 2\n', 'y'.repeat(first.length), 'z\n'], kept);
    expect(grown).not.toBe(kept);
    expect([0, 1, 2, 3].map((i) => sectionText(grown, i))).toEqual(['keep{x="ü"} 1\n', 'changed 2\n', 'y'.repeat(first.length), 'z\n']);
  });
});

describe('writeBody over lines rewritten meanwhile', () => {
  it('copies each section whole as it is when copied, also when a probe rewrote it while the writer waited for a chunk', async () => {
    // About 10 MB: three chunks, so the writer waits for the consumer twice.
    const n = 600_000;
    const packed = Array.from({ length: n }, (_, i) => packSections([`line ${i} old\n`]));
    let rewritten = false;
    const seen: Buffer[] = [];
    await writeBody([{ section: 0, of: packed }], async (chunk) => {
      seen.push(Buffer.from(chunk));
      // The next probe of every target lands while the writer waits for its next chunk.
      if (!rewritten) packed.forEach((p, i) => packSections([`line ${i} rewritten\n`], p));
      rewritten = true;
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    const lines = Buffer.concat(seen).toString('utf8').split('\n').slice(0, -1);
    expect(lines.length).toBe(n);
    const garbled = lines.filter((l, i) => l !== `line ${i} old` && l !== `line ${i} rewritten`);
    expect(garbled).toEqual([]);
    expect(lines.filter((l) => l.endsWith('rewritten')).length).toBeGreaterThan(0);
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

  it('answers gzip, with a content length, to a scraper that asks for it, and streams text chunked to one that does not', async () => {
    const plain = await app.inject({ url: '/metrics' });
    const gzipped = await app.inject({ url: '/metrics', headers: { 'accept-encoding': 'gzip' } });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(plain.headers['transfer-encoding']).toBe('chunked');
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toMatch(/accept-encoding/i);
    expect(plain.headers.vary).toMatch(/accept-encoding/i);
    expect(Number(gzipped.headers['content-length'])).toBe(gzipped.rawPayload.length);
    const inflated = gunzipSync(gzipped.rawPayload).toString('utf8');
    // Two renderings (the text is not held), of the same families.
    const families = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(families(inflated)).toEqual(families(plain.body));
    expect(families(plain.body).length).toBeGreaterThan(10);
    expect(inflated).toMatch(/^certexp_build_info\{/m);
    expect(plain.body).toMatch(/^certexp_build_info\{/m);
  });
});
