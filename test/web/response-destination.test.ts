/**
 * A streamed body over real loopback HTTP: scrapers that ask together get the whole body from one
 * rendering, chunked, with the headers the reply carries; one that stops reading is dropped after
 * the stall limit and one that hangs up is let go, and neither holds up the others.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino from 'pino';
import { BodyBroadcast } from '../../src/metrics/body-broadcast';
import { writeBody } from '../../src/metrics/exposition-body';
import { responseDestination } from '../../src/web/response-destination';

/** About 24 MB: more than a client that stops reading lets the kernel hold for it. */
const LINES = Array.from({ length: 600_000 }, (_, i) => `certexp_probes_total{target="t${i}.example.org"} ${i}\n`);
const EXPECTED_BYTES = Buffer.byteLength(LINES.join(''));
const STALL_LIMIT_MS = 2000;

interface Fetched {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function get(port: number, path = '/body'): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => { chunks.push(c); });
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }); });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Whether a body is the whole text, line by line; toBe on 24 MB would diff for minutes. */
function isWhole(body: Buffer): boolean {
  if (body.length !== EXPECTED_BYTES) return false;
  const text = body.toString('utf8');
  let at = 0;
  for (const line of LINES) {
    if (!text.startsWith(line, at)) return false;
    at += line.length;
  }
  return true;
}

/** A raw client that sends its request and then reads nothing until `resume`. */
function stalledClient(port: number): Promise<{ socket: Socket; received: () => number; closed: Promise<void> }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.pause();
      socket.write('GET /stalling HTTP/1.1\r\nHost: x\r\n\r\n');
      let received = 0;
      socket.on('data', (c: Buffer) => { received += c.length; });
      const closed = new Promise<void>((done) => { socket.once('close', () => { done(); }); });
      socket.on('error', () => undefined);
      resolve({ socket, received: () => received, closed });
    });
  });
}

describe('responseDestination', () => {
  let app: FastifyInstance;
  let port: number;
  let renderings = 0;
  const sends: Promise<void>[] = [];

  beforeAll(async () => {
    const broadcast = new BodyBroadcast(async (consume) => {
      renderings++;
      await writeBody(LINES, consume);
    });
    const logger: FastifyBaseLogger = pino({ level: 'silent' });
    app = Fastify({ loggerInstance: logger });
    // The short stall limit only where a test stalls: on a loaded machine, ten scrapers in this
    // one process may take longer than that for a chunk.
    for (const [path, stallLimitMs] of [['/body', undefined], ['/stalling', STALL_LIMIT_MS]] as const) {
      app.get(path, async (_request, reply) => {
        reply.type('text/plain; version=0.0.4; charset=utf-8').header('x-from-web-config', 'kept');
        reply.hijack();
        const sent = broadcast.send(responseDestination(reply, stallLimitMs));
        sends.push(sent);
        await sent;
        return reply;
      });
    }
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => { await app.close(); });
  beforeEach(() => { renderings = 0; sends.length = 0; });

  it('sends ten scrapers asking together the whole body, chunked, from at most two renderings', async () => {
    const fetched = await Promise.all(Array.from({ length: 10 }, () => get(port)));
    for (const f of fetched) {
      expect(f.status).toBe(200);
      expect(f.headers['transfer-encoding']).toBe('chunked');
      expect(f.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(f.headers['x-from-web-config']).toBe('kept');
      expect(isWhole(f.body)).toBe(true);
    }
    // Those whose requests are read after the first chunk went out share the second.
    expect(renderings).toBeGreaterThanOrEqual(1);
    expect(renderings).toBeLessThanOrEqual(2);
  });

  it('drops a scraper that stops reading after the stall limit, and the others of its rendering get the whole body', async () => {
    const stalled = await stalledClient(port);
    // Its request is read before the others are sent, so it is in the first rendering.
    while (sends.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    const others = await Promise.all([get(port, '/stalling'), get(port, '/stalling')]);
    for (const f of others) expect(isWhole(f.body)).toBe(true);
    await Promise.all(sends);
    // The server cut it off: what the kernel held for it is all it gets.
    stalled.socket.resume();
    await stalled.closed;
    expect(stalled.received()).toBeGreaterThan(0);
    expect(stalled.received()).toBeLessThan(EXPECTED_BYTES);
  });

  it('lets go of a scraper that hangs up mid-body, and sends the next scraper the whole body', async () => {
    const hungUp = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/body' }, (res) => {
        let received = 0;
        res.on('data', (c: Buffer) => {
          received += c.length;
          if (received > 1 << 20) {
            req.destroy();
            resolve(received);
          }
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => { if (error.code !== 'ECONNRESET') reject(error); });
      req.end();
    });
    expect(hungUp).toBeLessThan(EXPECTED_BYTES);
    await Promise.all(sends);
    const next = await get(port);
    expect(isWhole(next.body)).toBe(true);
  });
});
