import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { constants, crc32, deflateRaw } from 'node:zlib';
import { sectionEnd, sectionStart, sectionText } from './sections';

/**
 * A /metrics body as one gzip member, held as the chunks it was deflated to: each scraper streams
 * the same buffers, none copies them. Kept gzipped: 2.5 MB at 10,000 targets, not 30 MB of text.
 */
export interface EncodedBody {
  readonly chunks: readonly Buffer[];
  /** Of the gzip. */
  readonly bytes: number;
}

/**
 * Takes a full chunk of the body and settles once the chunk may be written over: deflated, or
 * sent to every scraper. Rejecting stops the writing.
 */
export type ChunkConsumer = (chunk: Buffer) => Promise<void>;

export interface SectionsPart {
  readonly section: number;
  readonly of: readonly Buffer[];
}

/**
 * What a body is made of: strings, runs of strings yielded as one array (a family's lines for
 * every file), and sections of packed buffers, so that a scrape does not pay a generator turn
 * per target and family.
 */
export type BodyPart = string | readonly string[] | SectionsPart;

/**
 * Bytes per chunk. A rendering holds MAX_IN_FLIGHT + 1 of them at the peak of a scrape: 3 MB,
 * where two of 4 MB took 8 MB (the RSS peak through the bench's scrapes was 3-4 MB lower side by
 * side, at the same latency). gzip hands each back on a turn of the event loop, so 30 MB is
 * thirty such handovers, not hundreds.
 */
export const CHUNK_BYTES = 1 << 20;

/** Strings of an array part joined per write. */
const WRITE_BATCH = 32;

/** Sections copied between two looks at the clock: a copy takes well under a microsecond. */
const COPY_BATCH = 256;

/**
 * Longest stretch of encoding between two turns of the event loop. Handshakes in flight (whose
 * latency we export) then wait at most this long for a scrape; yielding more often would make a
 * scrape wait for dozens of turns of a busy loop.
 */
const SLICE_MS = 20;

/**
 * Chunks with their consumer (being deflated or sent) while the next is written: two, so that the
 * writer does not stop for the turn of a busy event loop that hands a deflated chunk back. Without
 * a bound, a slow thread pool or scraper would leave a new chunk per chunk written.
 */
export const MAX_IN_FLIGHT = 2;

/**
 * The chunks of one rendering: reused as their consumer gives them back (one being written and
 * MAX_IN_FLIGHT with the consumer), then freed when the rendering ends. Kept between scrapes
 * they would stay resident for good; left to V8 they would be freed only at its next full
 * collection, since a rendering outlives the young generation.
 */
class ChunkPool {
  private readonly owned: ArrayBuffer[] = [];
  private readonly free: ArrayBuffer[] = [];

  take(bytes: number): Buffer {
    const free = bytes <= CHUNK_BYTES ? this.free.pop() : undefined;
    if (free !== undefined) return Buffer.from(free);
    const chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, bytes));
    this.owned.push(chunk.buffer);
    return chunk;
  }

  /** Only for a chunk nothing reads any more, once (each chunk is handed on once): the next chunk is written over it. */
  give(chunk: Buffer): void {
    const buffer = chunk.buffer as ArrayBuffer;
    if (buffer.byteLength === CHUNK_BYTES) this.free.push(buffer);
  }

  /**
   * Only once no consumer holds any chunk. Transferring a buffer detaches it and leaves its memory
   * to a wrapper that dies young: freed at the next scavenge, a fraction of a second away.
   */
  release(): void {
    for (const buffer of this.owned.splice(0)) structuredClone(buffer, { transfer: [buffer] });
    this.free.length = 0;
  }
}

/**
 * Writes the parts straight into ~1 MB chunks, giving the event loop a turn every SLICE_MS, and
 * hands each chunk to `consume` as soon as it is full, while the next is written. Strings are
 * UTF-8-encoded into place (joining 250,000 of them into strings of megabytes first and encoding
 * those cost four times as long); sections are copied as they are. Nothing of the text is kept:
 * each chunk is reused once its consumer is done with it, and freed at the end.
 */
export async function writeBody(parts: Iterable<BodyPart>, consume: ChunkConsumer): Promise<void> {
  /** Per chunk handed on, settled once its consumer is done and the chunk is back in the pool. */
  const handed: Promise<void>[] = [];
  const pool = new ChunkPool();
  let out = pool.take(0);
  let used = 0;
  const flush = async (): Promise<void> => {
    if (used === 0) return;
    const full = out.subarray(0, used);
    used = 0;
    const done = consume(full).finally(() => { pool.give(full); });
    // Awaited below or at the end; a failure meanwhile is not unhandled.
    done.catch(() => undefined);
    handed.push(done);
    // On once at most MAX_IN_FLIGHT chunks are still with the consumer (it finishes them in order).
    await handed[handed.length - 1 - MAX_IN_FLIGHT];
  };
  /** Room for `bytes` more in `out`; call only when it is short of them. */
  const rotate = async (bytes: number): Promise<void> => {
    await flush();
    out = pool.take(bytes);
  };
  let sliceStart = performance.now();
  const pause = async (): Promise<void> => {
    if (performance.now() - sliceStart < SLICE_MS) return;
    await nextTurn();
    sliceStart = performance.now();
  };
  const write = async (text: string): Promise<void> => {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: only a string that may not fit is measured.
    if (out.length - used < text.length * 3) {
      const bytes = Buffer.byteLength(text);
      if (out.length - used < bytes) await rotate(bytes);
    }
    used += out.write(text, used);
    await pause();
  };
  const copy = async ({ section, of }: SectionsPart): Promise<void> => {
    for (let i = 0; i < of.length; i++) {
      if (i % COPY_BATCH === 0) await pause();
      const packed = of[i] as Buffer;
      // Read again after a wait: a probe may have written the target's next lines over these.
      for (;;) {
        const start = sectionStart(packed, section);
        const end = sectionEnd(packed, section);
        if (out.length - used >= end - start) {
          used += packed.copy(out, used, start, end);
          break;
        }
        await rotate(end - start);
      }
    }
  };
  try {
    for (const part of parts) {
      if (typeof part === 'string') await write(part);
      else if ('section' in part) await copy(part);
      // Each write into a buffer is a call into C++: a few dozen lines joined first halve the cost.
      else for (let i = 0; i < part.length; i += WRITE_BATCH) await write(part.slice(i, i + WRITE_BATCH).join(''));
    }
    await flush();
  } finally {
    // Also after a failure: a chunk is freed only once its consumer is done with it.
    await Promise.allSettled(handed);
    pool.release();
  }
  await Promise.all(handed);
}

/** The parts as one gzip body (gzipper). */
export async function encodeBody(parts: Iterable<BodyPart>): Promise<EncodedBody> {
  const gzip = gzipper();
  await writeBody(parts, gzip.consume);
  return gzip.finish();
}

/** The same parts as one string: for a /probe answer, a few kilobytes. */
export function bodyText(parts: Iterable<BodyPart>): string {
  let text = '';
  for (const part of parts) {
    if (typeof part === 'string') text += part;
    else if ('section' in part) for (const packed of part.of) text += sectionText(packed, part.section);
    else text += part.join('');
  }
  return text;
}

/** gzip member header (RFC 1952): deflate, no name or time, OS unknown. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** An empty final deflate block (fixed Huffman, end-of-block only): closes the sync-flushed chunks. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/**
 * One chunk as raw deflate ending in a sync flush (byte-aligned, not final), so chunks deflated
 * apart can be laid end to end. The output buffer holds a whole chunk's deflate (about a twelfth
 * of it, an eighth with room): zlib hands back each full one on a turn of the event loop, which
 * takes milliseconds while handshakes run, and the body keeps it, so a bigger one is held in vain.
 */
function deflateChunk(chunk: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    deflateRaw(chunk, { level: 1, finishFlush: constants.Z_SYNC_FLUSH, chunkSize: Math.max(64 * 1024, chunk.length >> 3) }, (error, out) => {
      if (error === null) resolve(out);
      else reject(error);
    });
  });
}

/**
 * gzip at level 1, pigz-style: each chunk is deflated on its own on the thread pool (off the event
 * loop) as soon as it is written, and the member's CRC-32 is summed chunk by chunk, so the gzip
 * body is ready a few milliseconds after the text. One member, as every client reads; exposition
 * text is so repetitive that it still shrinks about 12x.
 */
export function gzipper(): { readonly consume: ChunkConsumer; finish(): Promise<EncodedBody> } {
  const deflated: Promise<Buffer>[] = [];
  let crc = 0;
  let size = 0;
  return {
    consume: async (chunk) => {
      crc = crc32(chunk, crc);
      size += chunk.length;
      const part = deflateChunk(chunk);
      deflated.push(part);
      await part;
    },
    finish: async () => {
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(crc, 0);
      trailer.writeUInt32LE(size % 2 ** 32, 4);
      const chunks = [GZIP_HEADER, ...(await Promise.all(deflated)), FINAL_BLOCK, trailer];
      return { chunks, bytes: chunks.reduce((sum, c) => sum + c.length, 0) };
    },
  };
}

/**
 * Whether an Accept-Encoding header admits gzip (RFC 9110 §12.5.3): its q when it names gzip,
 * else the q of `*`; `gzip;q=0` refuses it whatever `*` says.
 */
export function acceptsGzip(header: string | undefined): boolean {
  const weights = new Map<string, number>();
  for (const entry of (header ?? '').split(',')) {
    const [coding = '', ...params] = entry.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    weights.set(coding === 'x-gzip' ? 'gzip' : coding, q === undefined ? 1 : Number(q.slice(2)));
  }
  const weight = weights.get('gzip') ?? weights.get('*') ?? 0;
  return weight > 0;
}

/** A fresh stream over a shared body, one per response. */
export function bodyStream(body: EncodedBody): Readable {
  return Readable.from(body.chunks, { objectMode: false });
}
