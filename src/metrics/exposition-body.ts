import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { constants, crc32, deflateRaw } from 'node:zlib';

/** A response body held as the chunks it was built in: each scraper streams the same buffers, none copies them. */
export interface EncodedBody {
  readonly chunks: readonly Buffer[];
  readonly bytes: number;
}

/**
 * What a body is made of: strings, and runs of strings yielded as one array (a family's lines
 * for every target), so that a scrape does not pay a generator turn per target and family.
 */
export type BodyPart = string | readonly string[];

/**
 * Bytes per chunk: gzip deflates each on the thread pool and hands it back on a turn of the
 * event loop (milliseconds each while handshakes are in flight), so a body of 30 MB is a few
 * chunks, not dozens.
 */
const CHUNK_BYTES = 4 << 20;

/** Strings of an array part joined per write. */
const WRITE_BATCH = 32;

/**
 * Longest stretch of encoding between two turns of the event loop. Handshakes in flight (whose
 * latency we export) then wait at most this long for a scrape; yielding more often would make a
 * scrape wait for dozens of turns of a busy loop.
 */
const SLICE_MS = 20;

/**
 * Writes many small strings straight into ~4 MB buffers, giving the event loop a turn every
 * SLICE_MS. Lines are UTF-8-encoded into place: joining 250,000 of them into strings of
 * megabytes first and encoding those cost four times as long. `onChunk` sees every chunk as soon as it is full
 * (to gzip while the rest is still being written).
 */
export async function encodeBody(parts: Iterable<BodyPart>, onChunk?: (chunk: Buffer) => void): Promise<EncodedBody> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let out = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  const flush = (): void => {
    if (used === 0) return;
    const chunk = out.subarray(0, used);
    chunks.push(chunk);
    bytes += used;
    onChunk?.(chunk);
    used = 0;
  };
  let sliceStart = performance.now();
  const write = async (text: string): Promise<void> => {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: only a string that may not fit is measured.
    if (out.length - used < text.length * 3) {
      const length = Buffer.byteLength(text);
      if (out.length - used < length) {
        flush();
        out = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, length));
      }
    }
    used += out.write(text, used);
    if (performance.now() - sliceStart >= SLICE_MS) {
      await nextTurn();
      sliceStart = performance.now();
    }
  };
  for (const part of parts) {
    if (typeof part === 'string') {
      await write(part);
      continue;
    }
    // Each write into a buffer is a call into C++: a few dozen lines joined first halve the cost.
    for (let i = 0; i < part.length; i += WRITE_BATCH) await write(part.slice(i, i + WRITE_BATCH).join(''));
  }
  flush();
  return { chunks, bytes };
}

/** A gzip body fed chunk by chunk while the text is still being written. */
export interface GzipSink {
  write(chunk: Buffer): void;
  end(): void;
  readonly body: Promise<EncodedBody>;
}

/** gzip member header (RFC 1952): deflate, no name or time, OS unknown. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** An empty final deflate block (fixed Huffman, end-of-block only): closes the sync-flushed chunks. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/**
 * One chunk as raw deflate ending in a sync flush (byte-aligned, not final), so chunks deflated
 * apart can be laid end to end. The output buffer holds a whole chunk's worth: zlib hands back
 * each full one on a turn of the event loop, which takes milliseconds while handshakes run.
 */
function deflateChunk(chunk: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    deflateRaw(chunk, { level: 1, finishFlush: constants.Z_SYNC_FLUSH, chunkSize: Math.max(64 * 1024, chunk.length >> 2) }, (error, out) => {
      if (error === null) resolve(out);
      else reject(error);
    });
  });
}

/**
 * gzip at level 1, pigz-style: each chunk is deflated on its own on the thread pool (in parallel,
 * off the event loop) as soon as it is written, and the member's CRC-32 is summed chunk by chunk,
 * so the gzip body is ready a few milliseconds after the text. One member, as every client reads;
 * exposition text is so repetitive that it still shrinks about 12x.
 */
export function gzipSink(): GzipSink {
  const deflated: Promise<Buffer>[] = [];
  let crc = 0;
  let size = 0;
  let ended: () => void = () => undefined;
  const end = new Promise<void>((resolve) => { ended = resolve; });
  const body = end.then(async (): Promise<EncodedBody> => {
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc, 0);
    trailer.writeUInt32LE(size % 2 ** 32, 4);
    const chunks = [GZIP_HEADER, ...(await Promise.all(deflated)), FINAL_BLOCK, trailer];
    return { chunks, bytes: chunks.reduce((sum, c) => sum + c.length, 0) };
  });
  return {
    write: (chunk) => {
      crc = crc32(chunk, crc);
      size += chunk.length;
      const part = deflateChunk(chunk);
      // Awaited by `body` once the text is done; a failure before then is not unhandled.
      part.catch(() => undefined);
      deflated.push(part);
    },
    end: () => { ended(); },
    body,
  };
}

export function gzipBody(body: EncodedBody): Promise<EncodedBody> {
  const sink = gzipSink();
  for (const chunk of body.chunks) sink.write(chunk);
  sink.end();
  return sink.body;
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
