import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createGzip } from 'node:zlib';

/** A response body held as the chunks it was built in: each scraper streams the same buffers, none copies them. */
export interface EncodedBody {
  readonly chunks: readonly Buffer[];
  readonly bytes: number;
}

/** Characters joined per chunk: big enough that a body of 30 MB is a few dozen writes. */
const CHUNK_CHARS = 1 << 20;

/**
 * Longest stretch of encoding between two turns of the event loop. Handshakes in flight (whose
 * latency we export) then wait at most this long for a scrape; yielding more often would make a
 * scrape wait for dozens of turns of a busy loop.
 */
const SLICE_MS = 20;

/** Joins many small strings into ~1 MB buffers, giving the event loop a turn every SLICE_MS. */
export async function encodeBody(parts: Iterable<string>): Promise<EncodedBody> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let slice: string[] = [];
  let chars = 0;
  const flush = (): void => {
    const chunk = Buffer.from(slice.join(''));
    chunks.push(chunk);
    bytes += chunk.length;
    slice = [];
    chars = 0;
  };
  let sliceStart = performance.now();
  for (const part of parts) {
    slice.push(part);
    chars += part.length;
    if (chars >= CHUNK_CHARS) {
      flush();
      if (performance.now() - sliceStart >= SLICE_MS) {
        await nextTurn();
        sliceStart = performance.now();
      }
    }
  }
  flush();
  return { chunks, bytes };
}

/**
 * gzip at level 1: exposition text is so repetitive that it still shrinks about 12x, at a fifth of
 * level 6's CPU, and zlib runs on the thread pool, off the event loop.
 */
export async function gzipBody(body: EncodedBody): Promise<EncodedBody> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  await pipeline(Readable.from(body.chunks), createGzip({ level: 1 }), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      chunks.push(chunk);
      bytes += chunk.length;
    }
  });
  return { chunks, bytes };
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
