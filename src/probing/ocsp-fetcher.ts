import { fetchHttp } from './http-fetch';

/**
 * Sends a DER OCSP request to a responder and resolves with its DER response; rejects with a
 * readable message (connection refused, HTTP status, too large, timed out). I/O only: what the
 * response says is decided in src/pki/ocsp.ts.
 */
export type OcspFetcher = (url: string, request: Buffer, signal: AbortSignal) => Promise<Buffer>;

/** Real responses are a few kilobytes; a responder sending more is broken or hostile. */
export const MAX_OCSP_RESPONSE_BYTES = 64 * 1024;

/** RFC 6960 Appendix A.1 over plain HTTP: POST application/ocsp-request. */
export function httpOcspFetcher(maxBytes = MAX_OCSP_RESPONSE_BYTES): OcspFetcher {
  return (url, body, signal) => fetchHttp(url, {
    method: 'POST',
    headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response', 'content-length': body.length },
    body,
    maxBytes,
  }, signal);
}
