import { request as httpRequest } from 'node:http';

/**
 * Sends a DER OCSP request to a responder and resolves with its DER response; rejects with a
 * readable message (connection refused, HTTP status, too large, timed out). I/O only: what the
 * response says is decided in src/pki/ocsp.ts.
 */
export type OcspFetcher = (url: string, request: Buffer, signal: AbortSignal) => Promise<Buffer>;

/** Real responses are a few kilobytes; a responder sending more is broken or hostile. */
export const MAX_OCSP_RESPONSE_BYTES = 64 * 1024;

function describe(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.message : String(error);
}

/** RFC 6960 Appendix A.1 over plain HTTP: POST application/ocsp-request. OCSP over https would need revocation checking of its own. */
export function httpOcspFetcher(maxBytes = MAX_OCSP_RESPONSE_BYTES): OcspFetcher {
  return (url, body, signal) => new Promise<Buffer>((resolve, reject) => {
    if (!url.startsWith('http://')) {
      reject(new Error(`${url}: only http:// responders are queried`));
      return;
    }
    const fail = (message: string): void => { reject(new Error(`${url}: ${message}`)); };
    const request = httpRequest(url, {
      method: 'POST',
      signal,
      headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response', 'content-length': body.length },
    }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        fail(`HTTP ${response.statusCode ?? 'without status'}`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          request.destroy();
          fail(`response larger than ${maxBytes} bytes`);
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => { resolve(Buffer.concat(chunks)); });
      response.on('error', (error) => { fail(describe(error)); });
    });
    request.on('error', (error) => { fail(signal.aborted ? 'timed out' : describe(error)); });
    request.end(body);
  });
}
