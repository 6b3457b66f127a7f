import { fetchHttp } from './http-fetch';

/**
 * Downloads a CRL from a distribution point and resolves with its body; rejects with a readable
 * message (connection refused, HTTP status, too large, timed out). I/O only: what the CRL says
 * is decided in src/pki/crl.ts.
 */
export type CrlFetcher = (url: string, signal: AbortSignal) => Promise<Buffer>;

/** Large public CAs publish CRLs of a few megabytes; ten is room for them and a bound for memory. */
export const MAX_CRL_BYTES = 10 * 1024 * 1024;

/** RFC 5280 §4.2.1.13: a plain GET of an http:// URI, answered with application/pkix-crl. */
export function httpCrlFetcher(maxBytes = MAX_CRL_BYTES): CrlFetcher {
  return (url, signal) => fetchHttp(url, { method: 'GET', headers: { accept: 'application/pkix-crl' }, maxBytes }, signal);
}
