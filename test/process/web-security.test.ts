/**
 * The built daemon behind a web config, driven by real clients over loopback: HTTPS with a
 * certificate from the test PKI, basic auth against a bcrypt hash, mutual TLS, and the logs it
 * wrote meanwhile searched for every secret involved.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as bcrypt from 'bcryptjs';
import { waitFor } from '../support/daemon-harness';
import { httpsGet, type HttpsGetOptions } from '../support/https-client';
import { freePort } from '../support/ports';
import { MAIN, runOnce } from '../support/process';
import { buildWebPki, type WebTestPki } from '../support/web-pki';

const PASSWORD = 'Tr0ub4dor&3-scrape';
const USER = 'prometheus';

interface Daemon {
  readonly child: ChildProcessWithoutNullStreams;
  readonly base: string;
  /** Everything printed so far, stdout (the JSON log) and stderr. */
  output(): string;
  stop(): Promise<number | null>;
}

let dir: string;
let pki: WebTestPki;
let hash: string;
let configFile: string;

/** Starts certexp on a free port with the web config and waits until `ready` says it serves. */
async function startDaemon(webConfig: string, ready: (base: string) => Promise<boolean>): Promise<Daemon> {
  const port = await freePort();
  const base = `https://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [
    MAIN, `--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`, `--web.config.file=${webConfig}`, '--log.level=debug',
  ]);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code); }));
  await waitFor('the daemon to serve HTTPS', async () => {
    if (child.exitCode !== null) throw new Error(`certexp exited ${child.exitCode}: ${output}`);
    return ready(base).catch(() => false);
  });
  return {
    child,
    base,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certexp-web-'));
  pki = await buildWebPki();
  hash = await bcrypt.hash(PASSWORD, 4);
  configFile = join(dir, 'certexp.yml');
  await writeFile(configFile, 'defaults: { interval: 1s, timeout: 1s }\ntargets:\n  - { name: first, host: 127.0.0.1, port: 1 }\n');
  await writeFile(join(dir, 'server.crt'), pki.server.pem + pki.serverCa.pem);
  await writeFile(join(dir, 'server.key'), pki.server.key.privateKeyPem);
  await writeFile(join(dir, 'clients.pem'), pki.clientCa.pem);
  // Relative paths: they must resolve against the web config's directory, not the working directory.
  await writeFile(join(dir, 'web.yml'), [
    'tls_server_config:', '  cert_file: server.crt', '  key_file: server.key', 'basic_auth_users:', `  ${USER}: ${hash}`, '',
  ].join('\n'));
  await writeFile(join(dir, 'web-mtls.yml'), [
    'tls_server_config:', '  cert_file: server.crt', '  key_file: server.key',
    '  client_auth_type: RequireAndVerifyClientCert', '  client_ca_file: clients.pem', '',
  ].join('\n'));
  await writeFile(join(dir, 'web-broken.yml'), 'tls_server_config:\n  cert_file: server.crt\n  key_file: nope.key\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a broken web config', () => {
  it('stops the daemon at start with exit 1 and names file, line and key on stderr', () => {
    const webFile = join(dir, 'web-broken.yml');
    const result = runOnce([`--config.file=${configFile}`, '--web.listen-address=127.0.0.1:0', `--web.config.file=${webFile}`]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`${webFile}:3:13: tls_server_config.key_file: cannot read "${join(dir, 'nope.key')}": ENOENT\n`);
  });

  it('fails --config.check when the web config given with it is broken, and passes both files when they are good', () => {
    const broken = runOnce(['--config.check', `--config.file=${configFile}`, `--web.config.file=${join(dir, 'web-broken.yml')}`]);
    expect(broken.status).toBe(1);
    expect(broken.stdout).toBe(`${configFile}: OK, 1 targets\n`);
    expect(broken.stderr).toMatch(/web-broken\.yml:3:13: tls_server_config\.key_file: cannot read/);
    const good = runOnce(['--config.check', `--config.file=${configFile}`, `--web.config.file=${join(dir, 'web.yml')}`]);
    expect(good.stderr).toBe('');
    expect(good.stdout).toBe(`${configFile}: OK, 1 targets\n${join(dir, 'web.yml')}: OK, TLS (client certificates: NoClientCert), basic auth for 1 user\n`);
    expect(good.status).toBe(0);
  });
});

describe('HTTPS with basic auth', () => {
  let daemon: Daemon;
  const trusted = (extra: Partial<HttpsGetOptions> = {}): HttpsGetOptions => ({ ca: pki.serverCa.pem, ...extra });

  beforeAll(async () => {
    daemon = await startDaemon(join(dir, 'web.yml'), async (base) => (await httpsGet(`${base}/-/ready`, trusted({ auth: `${USER}:${PASSWORD}` }))).status === 200);
  });

  afterAll(async () => {
    await daemon.stop();
  });

  it('serves /metrics over HTTPS to a client that trusts the test CA and sends the right password', async () => {
    const response = await httpsGet(`${daemon.base}/metrics`, trusted({ auth: `${USER}:${PASSWORD}` }));
    expect(response.status).toBe(200);
    expect(response.body).toMatch(/^certexp_config_last_reload_successful 1$/m);
  });

  it('answers 401 with a Basic challenge when no credentials are sent', async () => {
    const response = await httpsGet(`${daemon.base}/metrics`, trusted());
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Basic realm="certexp"');
  });

  it('answers 401 when the password is wrong', async () => {
    const response = await httpsGet(`${daemon.base}/metrics`, trusted({ auth: `${USER}:${PASSWORD}x` }));
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Basic realm="certexp"');
  });

  it('fails plain HTTP to the TLS port when a client forgets the scheme', async () => {
    await expect(fetch(`${daemon.base.replace('https:', 'http:')}/metrics`)).rejects.toThrow();
  });

  it('fails the handshake for a client that does not trust the test CA', async () => {
    await expect(new Promise((resolve, reject) => {
      const req = request(`${daemon.base}/metrics`, { agent: false }, resolve);
      req.on('error', reject);
      req.end();
    // The server sends its chain up to the test CA, which this client does not trust.
    })).rejects.toMatchObject({ code: 'SELF_SIGNED_CERT_IN_CHAIN' });
  });

  it('leaves no password, hash, Authorization header or key in anything it printed', async () => {
    await httpsGet(`${daemon.base}/metrics`, trusted({ auth: `${USER}:wrong-${PASSWORD}` }));
    await httpsGet(`${daemon.base}/metrics`, trusted({ auth: `${USER}:${PASSWORD}` }));
    const code = await daemon.stop();
    const output = daemon.output();
    expect(code).toBe(0);
    expect(output).toMatch(/"msg":"certexp started"/);
    expect(output).toMatch(/"msg":"basic auth refused"/);
    const keyBody = pki.server.key.privateKeyPem.split('\n').slice(1, -2).join('');
    const secrets = [PASSWORD, hash, Buffer.from(`${USER}:${PASSWORD}`).toString('base64'), 'Basic ', keyBody.slice(0, 24), 'PRIVATE KEY'];
    for (const secret of secrets) expect(output).not.toContain(secret);
  });
});

describe('mutual TLS with RequireAndVerifyClientCert', () => {
  let daemon: Daemon;
  const withCert = (cert: typeof pki.client): HttpsGetOptions => ({ ca: pki.serverCa.pem, cert: cert.pem, key: cert.key.privateKeyPem });

  beforeAll(async () => {
    daemon = await startDaemon(join(dir, 'web-mtls.yml'), async (base) => (await httpsGet(`${base}/-/ready`, withCert(pki.client))).status === 200);
  });

  afterAll(async () => {
    await daemon.stop();
  });

  it('serves a client whose certificate client_ca_file signed', async () => {
    const response = await httpsGet(`${daemon.base}/metrics`, withCert(pki.client));
    expect(response.status).toBe(200);
    expect(response.body).toMatch(/^certexp_build_info\{/m);
  });

  it('fails the handshake when the client sends no certificate', async () => {
    await expect(httpsGet(`${daemon.base}/metrics`, { ca: pki.serverCa.pem })).rejects.toThrow(/alert certificate required/);
  });

  it('drops the connection before any HTTP when another CA signed the client certificate', async () => {
    // Node verifies the client's chain once the handshake is done and destroys the socket, without an alert.
    await expect(httpsGet(`${daemon.base}/metrics`, withCert(pki.strangerClient))).rejects.toThrow(/socket hang up|ECONNRESET/);
  });
});
