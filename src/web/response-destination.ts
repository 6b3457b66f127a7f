import type { FastifyReply } from 'fastify';
import type { BodyDestination } from '../metrics/body-broadcast';

/**
 * How long a scraper may take one chunk (1 MB) before its response is given up. Everyone in its
 * rendering waits for the slowest, and the chunk cannot be reused while a socket still holds it;
 * a client that stopped reading must not hold either for ever. A minute is 0.14 Mbit/s.
 */
export const STALL_LIMIT_MS = 60_000;

/**
 * A hijacked reply as the destination of a streamed body: chunked, with the headers the reply
 * already carries (web config, content type). Each chunk is written as it is, not copied, and is
 * done with once the socket has taken it, it has closed, or it stalled past `stallLimitMs`.
 */
export function responseDestination(reply: FastifyReply, stallLimitMs = STALL_LIMIT_MS): BodyDestination {
  const res = reply.raw;
  const start = (status: number): void => {
    if (res.headersSent) return;
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value);
    res.writeHead(status);
  };
  return {
    write: (chunk) => new Promise((resolve) => {
      if (res.destroyed) {
        resolve();
        return;
      }
      start(200);
      const timer = setTimeout(() => {
        reply.log.warn({ remote: reply.request.ip, stallLimitMs }, 'a /metrics scraper stopped reading; its response is dropped');
        res.destroy();
      }, stallLimitMs);
      const done = (): void => {
        clearTimeout(timer);
        res.off('close', done);
        resolve();
      };
      res.once('close', done);
      res.write(chunk, done);
    }),
    end: () => {
      if (res.destroyed) return;
      start(200);
      res.end();
    },
    fail: (error) => {
      reply.log.error({ err: error }, 'rendering /metrics failed');
      if (res.headersSent) {
        // Cut short: the scraper sees a truncated chunked body, an error, not a short success.
        res.destroy();
        return;
      }
      reply.type('text/plain; charset=utf-8');
      start(500);
      res.end('Internal Server Error: rendering /metrics failed\n');
    },
  };
}
