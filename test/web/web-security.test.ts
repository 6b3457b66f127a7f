import { X509Certificate } from 'node:crypto';
import { Writable } from 'node:stream';
import { connect } from 'node:tls';
import * as bcrypt from 'bcryptjs';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Clock } from '../../src/clock';
import { systemClock } from '../../src/clock';
import { Daemon } from '../../src/daemon';
import { buildApp } from '../../src/web/app';
import { parseSubjectAltName } from '../../src/web/https-options';
import { LOG_REDACTION } from '../../src/web/log-redaction';
import { loadWebConfig, type WebConfig } from '../../src/web/web-config';
import { httpsGet, type HttpsGetOptions } from '../support/https-client';
import { memoryReader } from '../support/memory-reader';
import { createCertificate } from '../support/pki';
import { buildWebPki, type WebTestPki } from '../support/web-pki';

const DIR = '/etc/certexp';
const PASSWORD = 'scrape-me-9f2c';

let pki: WebTestPki;
let hash: string;

beforeAll(async () => {
  pki = await buildWebPki();
  hash = await bcrypt.hash(PASSWORD, 4);
});

async function webConfig(...lines: string[]): Promise<WebConfig> {
  return loadWebConfig(`${DIR}/web.yml`, memoryReader({
    [`${DIR}/web.yml`]: lines.map((line) => `${line}\n`).join(''),
    [`${DIR}/server.crt`]: pki.server.pem + pki.serverCa.pem,
    [`${DIR}/server.key`]: pki.server.key.privateKeyPem,
    [`${DIR}/clients.pem`]: pki.clientCa.pem,
  }));
}

/** A log sink that keeps every line as text, so tests can search it for secrets. */
function capturedLogger(): { logger: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { chunks.push(chunk.toString()); done(); } });
  return { logger: pino({ level: 'trace', redact: LOG_REDACTION }, sink), text: () => chunks.join('') };
}

function appWith(web: WebConfig, logger: pino.Logger = pino({ level: 'silent' }), clock: Clock = systemClock): FastifyInstance {
  const daemon = new Daemon({ configFile: '/nonexistent/certexp.yml', logger, concurrency: 1 });
  return buildApp({ daemon, clock, logger, web });
}

function basic(user: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

describe('basic auth on every path', () => {
  let app: FastifyInstance;
  const logs = capturedLogger();

  beforeAll(async () => {
    app = appWith(await webConfig('basic_auth_users:', `  prometheus: ${hash}`, 'http_server_config:', '  headers:', '    X-Content-Type-Options: nosniff'), logs.logger);
  });

  afterAll(async () => {
    await app.close();
  });

  it.each(['/metrics', '/', '/-/healthy', '/-/ready', '/probe?target=x', '/no-such-path'])('answers 401 with a Basic challenge on %s when no credentials are sent', async (url) => {
    const response = await app.inject({ url });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Basic realm="certexp"');
  });

  it('answers 401 when the password is wrong or the user unknown', async () => {
    expect((await app.inject({ url: '/metrics', headers: basic('prometheus', 'wrong') })).statusCode).toBe(401);
    expect((await app.inject({ url: '/metrics', headers: basic('nobody', PASSWORD) })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/-/reload', headers: basic('prometheus', 'wrong') })).statusCode).toBe(401);
  });

  it('serves /metrics when the password is right', async () => {
    const response = await app.inject({ url: '/metrics', headers: basic('prometheus', PASSWORD) });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/^certexp_build_info\{/m);
  });

  it('adds the configured headers to refusals and answers alike', async () => {
    expect((await app.inject({ url: '/metrics' })).headers['x-content-type-options']).toBe('nosniff');
    expect((await app.inject({ url: '/metrics', headers: basic('prometheus', PASSWORD) })).headers['x-content-type-options']).toBe('nosniff');
  });

  it('leaves no password, hash or Authorization header in the logs when logins fail and succeed', async () => {
    await app.inject({ url: '/metrics', headers: basic('prometheus', 'not-the-password') });
    await app.inject({ url: '/metrics', headers: basic('prometheus', PASSWORD) });
    await app.inject({ url: '/-/reload', method: 'POST', headers: basic('prometheus', PASSWORD) });
    const text = logs.text();
    expect(text).toContain('basic auth refused');
    for (const secret of [PASSWORD, 'not-the-password', hash, basic('prometheus', PASSWORD).authorization, 'Basic ']) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('the log redaction', () => {
  it('censors an Authorization header and a password wherever a request object is logged', () => {
    const { logger, text } = capturedLogger();
    const header = basic('prometheus', PASSWORD).authorization;
    logger.info({ req: { headers: { authorization: header, 'proxy-authorization': header } }, password: PASSWORD }, 'request');
    logger.info({ headers: { authorization: header } }, 'headers');
    logger.info({ config: { basic_auth_users: { prometheus: hash } } }, 'config');
    expect(text()).not.toContain(PASSWORD);
    expect(text()).not.toContain(header);
    expect(text()).not.toContain(hash);
    expect(text()).toContain('[redacted]');
  });
});

describe('the rate limit', () => {
  it('answers 429 once the burst is spent and lets one request through per interval after that', async () => {
    let now = 0;
    const clock: Clock = { now: () => now, monotonic: () => now };
    const app = appWith(await webConfig('rate_limit:', '  interval: 1s', '  burst: 2'), undefined, clock);
    const status = async (): Promise<number> => (await app.inject({ url: '/-/healthy' })).statusCode;
    expect([await status(), await status(), await status()]).toEqual([200, 200, 429]);
    now += 1000;
    expect([await status(), await status()]).toEqual([200, 429]);
    await app.close();
  });
});

describe('client certificates over real TLS', () => {
  const started: FastifyInstance[] = [];

  async function serve(...tlsLines: string[]): Promise<string> {
    const app = appWith(await webConfig('tls_server_config:', '  cert_file: server.crt', '  key_file: server.key', ...tlsLines));
    started.push(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    return `https://127.0.0.1:${address.port}/-/healthy`;
  }

  const trust = (): HttpsGetOptions => ({ ca: pki.serverCa.pem });
  const as = (cert: typeof pki.client): HttpsGetOptions => ({ ca: pki.serverCa.pem, cert: cert.pem, key: cert.key.privateKeyPem });

  afterAll(async () => {
    await Promise.all(started.map((app) => app.close()));
  });

  it('refuses a client without a certificate and takes any certificate when the policy is RequireAnyClientCert', async () => {
    const url = await serve('  client_auth_type: RequireAnyClientCert');
    const without = await httpsGet(url, trust());
    expect(without.status).toBe(403);
    expect(without.body).toBe('Forbidden: a client certificate is required\n');
    expect((await httpsGet(url, as(pki.strangerClient))).status).toBe(200);
  });

  it('serves a client without a certificate but refuses an unverifiable one when the policy is VerifyClientCertIfGiven', async () => {
    const url = await serve('  client_auth_type: VerifyClientCertIfGiven', '  client_ca_file: clients.pem');
    expect((await httpsGet(url, trust())).status).toBe(200);
    expect((await httpsGet(url, as(pki.client))).status).toBe(200);
    const stranger = await httpsGet(url, as(pki.strangerClient));
    expect(stranger.status).toBe(403);
    expect(stranger.body).toBe('Forbidden: the client certificate does not verify against client_ca_file\n');
  });

  it('asks for a certificate but serves without one when the policy is RequestClientCert', async () => {
    const url = await serve('  client_auth_type: RequestClientCert');
    expect((await httpsGet(url, trust())).status).toBe(200);
    expect((await httpsGet(url, as(pki.strangerClient))).status).toBe(200);
  });

  it('serves only a certificate with an allowed SAN when client_allowed_sans is set', async () => {
    const allowed = await serve('  client_auth_type: RequireAndVerifyClientCert', '  client_ca_file: clients.pem', '  client_allowed_sans: [prometheus.example]');
    expect((await httpsGet(allowed, as(pki.client))).status).toBe(200);
    const other = await serve('  client_auth_type: RequireAndVerifyClientCert', '  client_ca_file: clients.pem', '  client_allowed_sans: [grafana.example]');
    const refused = await httpsGet(other, as(pki.client));
    expect(refused.status).toBe(403);
    expect(refused.body).toBe('Forbidden: the client certificate carries none of the SANs in client_allowed_sans\n');
  });

  it('negotiates the configured cipher suite when the client offers TLS 1.2', async () => {
    const url = new URL(await serve('  cipher_suites: [TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256]'));
    const cipher = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: Number(url.port), ca: pki.serverCa.pem, servername: 'localhost', maxVersion: 'TLSv1.2' }, () => {
        resolve(socket.getCipher().name);
        socket.destroy();
      });
      socket.on('error', reject);
    });
    expect(cipher).toBe('ECDHE-ECDSA-CHACHA20-POLY1305');
  });

  it('refuses a handshake below min_version', async () => {
    const url = new URL(await serve('  min_version: TLS13'));
    await expect(new Promise<void>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: Number(url.port), ca: pki.serverCa.pem, servername: 'localhost', maxVersion: 'TLSv1.2' }, () => {
        socket.destroy();
        resolve();
      });
      socket.on('error', reject);
    })).rejects.toThrow(/protocol version|alert/i);
  });
});

describe('parseSubjectAltName', () => {
  it('lists DNS and IP SANs with IPv6 in its short form when read from a certificate', async () => {
    const cert = await createCertificate({ subjectCn: 'c', dnsNames: ['a.example'], ipAddresses: ['10.0.0.1', '2001:db8::1'] });
    expect(parseSubjectAltName(new X509Certificate(cert.der).subjectAltName)).toEqual(['a.example', '10.0.0.1', '2001:db8::1']);
  });

  it('unquotes values Node renders as JSON strings when they hold a comma', () => {
    expect(parseSubjectAltName('URI:"spiffe://x/a, b", email:a@b.example, IP Address:0:0:0:0:0:0:0:1, DNS:c.example'))
      .toEqual(['spiffe://x/a, b', 'a@b.example', '::1', 'c.example']);
  });

  it('lists nothing when the certificate has no SAN', async () => {
    const cert = await createCertificate({ subjectCn: 'c', omitSubjectAltName: true });
    expect(parseSubjectAltName(new X509Certificate(cert.der).subjectAltName)).toEqual([]);
  });
});
