/**
 * What the web config asks of every request, on every path (exporter-toolkit protects them
 * all, 404s included): extra response headers, the rate limit, client certificate rules Node
 * cannot enforce in the handshake, and basic auth.
 */
import { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Clock } from '../clock';
import { BasicAuthenticator } from './basic-auth';
import { clientCertificateProblem } from './https-options';
import { TokenBucket } from './rate-limit';
import type { WebConfig } from './web-config';

export const AUTH_CHALLENGE = 'Basic realm="certexp"';

function refuse(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').send(`${text}\n`);
}

export function applyWebSecurity(app: FastifyInstance, web: WebConfig, clock: Clock): void {
  const { tls, headers } = web;
  const bucket = web.rateLimit === undefined ? undefined : new TokenBucket(web.rateLimit, clock);
  const auth = web.users.size === 0 ? undefined : new BasicAuthenticator(web.users);

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(headers);
    if (bucket !== undefined && !bucket.take()) return refuse(reply, 429, 'Too Many Requests');
    const socket = request.raw.socket;
    if (tls !== undefined && socket instanceof TLSSocket) {
      const problem = clientCertificateProblem(tls, socket);
      if (problem !== undefined) return refuse(reply, 403, `Forbidden: ${problem}`);
    }
    if (auth === undefined) return undefined;
    const verdict = await auth.check(request.headers.authorization);
    if (verdict === 'ok') return undefined;
    // Who and with what stays out of the log: a user name field often holds a pasted password.
    request.log.debug({ verdict, remote: request.ip }, 'basic auth refused');
    if (verdict === 'busy') return refuse(reply.header('retry-after', '1'), 503, 'Too many logins being checked, retry in a second');
    return refuse(reply.header('www-authenticate', AUTH_CHALLENGE), 401, 'Unauthorized');
  });
}
