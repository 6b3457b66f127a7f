/**
 * A real HTTPS client for tests of certexp's own endpoint: Node's https.request, a new connection
 * (and handshake) per request, trusting only the CA given.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';

export interface HttpsGetOptions {
  /** PEM of the CA to trust instead of the system roots. */
  readonly ca: string;
  /** Client certificate and its key, PEM, for mutual TLS. */
  readonly cert?: string;
  readonly key?: string;
  /** "user:password" for basic auth. */
  readonly auth?: string;
  readonly headers?: Record<string, string>;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export function httpsGet(url: string, options: HttpsGetOptions): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      agent: false,
      ca: options.ca,
      ...(options.cert === undefined ? {} : { cert: options.cert }),
      ...(options.key === undefined ? {} : { key: options.key }),
      ...(options.auth === undefined ? {} : { auth: options.auth }),
      headers: options.headers ?? {},
      timeout: 5000,
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }); });
      res.on('error', reject);
    });
    req.on('timeout', () => { req.destroy(new Error('request timed out')); });
    req.on('error', reject);
    req.end();
  });
}
