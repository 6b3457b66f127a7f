import { request as httpRequest } from 'node:http';

export interface HttpFetch {
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string | number>>;
  readonly body?: Buffer;
  /** A body larger than this is refused: revocation servers sending more are broken or hostile. */
  readonly maxBytes: number;
}

function describe(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.message : String(error);
}

/**
 * One plain-HTTP exchange for revocation data (OCSP responses, CRLs), bounded in size and by
 * `signal`. Resolves with the body of a 200 answer; rejects with `URL: what went wrong`
 * (ECONNREFUSED, HTTP 404, too large, timed out). Only http:// URLs: fetching revocation data
 * over https would need a revocation check of its own.
 */
export function fetchHttp(url: string, options: HttpFetch, signal: AbortSignal): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    if (!url.startsWith('http://')) {
      reject(new Error(`${url}: only http:// URLs are fetched`));
      return;
    }
    const fail = (message: string): void => { reject(new Error(`${url}: ${message}`)); };
    const request = httpRequest(url, { method: options.method, signal, headers: options.headers }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        fail(`HTTP ${response.statusCode ?? 'without status'}`);
        return;
      }
      const declared = Number(response.headers['content-length']);
      if (declared > options.maxBytes) {
        request.destroy();
        fail(`response larger than ${options.maxBytes} bytes`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          request.destroy();
          fail(`response larger than ${options.maxBytes} bytes`);
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => { resolve(Buffer.concat(chunks)); });
      response.on('error', (error) => { fail(describe(error)); });
    });
    request.on('error', (error) => { fail(signal.aborted ? 'timed out' : describe(error)); });
    request.end(options.body);
  });
}
