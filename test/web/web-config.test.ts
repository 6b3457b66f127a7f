import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import * as bcrypt from 'bcryptjs';
import { ConfigError } from '../../src/config/config-error';
import { loadWebConfig, type WebConfig } from '../../src/web/web-config';
import { memoryReader } from '../support/memory-reader';
import { createCertificate } from '../support/pki';
import { buildWebPki, type WebTestPki } from '../support/web-pki';

const DIR = '/etc/certexp';
const FILE = `${DIR}/web.yml`;

/** YAML from lines, so line and column numbers in the expectations can be counted by eye. */
function yaml(...lines: string[]): string {
  return lines.map((line) => `${line}\n`).join('');
}

/** A block scalar holding PEM text, indented for a key at `indent` spaces. */
function block(pem: string, indent: number): string {
  const pad = ' '.repeat(indent + 2);
  return `|\n${pem.trimEnd().split('\n').map((line) => `${pad}${line}`).join('\n')}`;
}

let pki: WebTestPki;
let files: Record<string, string>;
let aliceHash: string;
const ALICE_PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  pki = await buildWebPki();
  const unrelated = await createCertificate({ subjectCn: 'unrelated' });
  aliceHash = await bcrypt.hash(ALICE_PASSWORD, 4);
  files = {
    [`${DIR}/server.crt`]: pki.server.pem + pki.serverCa.pem,
    [`${DIR}/server.key`]: pki.server.key.privateKeyPem,
    [`${DIR}/other.key`]: unrelated.key.privateKeyPem,
    [`${DIR}/clients.pem`]: pki.clientCa.pem,
    [`${DIR}/garbage.pem`]: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
  };
});

function reader(text: string): (path: string) => Promise<string> {
  return memoryReader({ ...files, [FILE]: text });
}

async function load(text: string): Promise<WebConfig> {
  return loadWebConfig(FILE, reader(text));
}

async function errorOf(text: string): Promise<ConfigError> {
  try {
    await load(text);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const TLS_FILES = ['tls_server_config:', '  cert_file: server.crt', '  key_file: server.key'];
const TOP_KEYS = 'tls_server_config, http_server_config, basic_auth_users, rate_limit';
const TLS_KEYS = 'cert, key, client_ca, cert_file, key_file, client_auth_type, client_ca_file, client_allowed_sans, min_version, max_version, cipher_suites, prefer_server_cipher_suites, curve_preferences';
const AUTH_TYPES = '"NoClientCert", "RequestClientCert", "RequireAnyClientCert", "RequireClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"';
const NOT_A_HASH = 'not a bcrypt hash ($2a$, $2b$ or $2y$, a cost from 04 to 31, 53 more characters): put the hash of the password here, never the password, e.g. from htpasswd -nBC 10 "" | tr -d \':\\n\'';

describe('loadWebConfig rejecting broken files', () => {
  it.each<[string, () => string, string[]]>([
    ['reports the yaml library position when a mapping is nested on one line', () => yaml('basic_auth_users:', '  alice: a: b'), [
      `${FILE}:2:10: (root): Nested mappings are not allowed in compact mappings`,
    ]],
    ['rejects the document when the top level is a list', () => yaml('- tls_server_config'), [
      `${FILE}:1:1: (root): expected a mapping with keys ${TOP_KEYS}, got a list`,
    ]],
    ['points at the unknown key when a top-level key is misspelt', () => yaml('basic_auth_user:', `  alice: x`), [
      `${FILE}:1:1: basic_auth_user: unknown key "basic_auth_user" (allowed: ${TOP_KEYS})`,
    ]],
    ['points at the unknown key when a tls_server_config key is misspelt', () => yaml(...TLS_FILES, '  client_auth: RequireAndVerifyClientCert'), [
      `${FILE}:4:3: tls_server_config.client_auth: unknown key "client_auth" (allowed: ${TLS_KEYS})`,
    ]],
    ['points at the unknown key when an http_server_config key is misspelt', () => yaml('http_server_config:', '  header: {}'), [
      `${FILE}:2:3: http_server_config.header: unknown key "header" (allowed: http2, headers)`,
    ]],
    ['asks for both halves when tls_server_config names neither certificate nor key', () => yaml('tls_server_config:', '  min_version: TLS13'), [
      `${FILE}:2:3: tls_server_config: missing one of cert or cert_file`,
      `${FILE}:2:3: tls_server_config: missing one of key or key_file`,
    ]],
    ['refuses an inline certificate and a certificate file together', () => yaml(...TLS_FILES, '  cert: x'), [
      `${FILE}:2:3: tls_server_config.cert_file: set cert or cert_file, not both`,
    ]],
    ['names the resolved path when the certificate file does not exist', () => yaml('tls_server_config:', '  cert_file: missing.crt', '  key_file: server.key'), [
      `${FILE}:2:14: tls_server_config.cert_file: cannot read "${DIR}/missing.crt": ENOENT`,
    ]],
    ['says so when the certificate file holds a key instead', () => yaml('tls_server_config:', '  cert_file: server.key', '  key_file: server.key'), [
      `${FILE}:2:14: tls_server_config.cert_file: "${DIR}/server.key" contains no PEM CERTIFICATE block`,
    ]],
    ['names the block when the certificate file holds one that is not X.509', () => yaml('tls_server_config:', '  cert_file: garbage.pem', '  key_file: server.key'), [
      `${FILE}:2:14: tls_server_config.cert_file: "${DIR}/garbage.pem": CERTIFICATE block 1 is not a valid X.509 certificate`,
    ]],
    ['says so when the key file holds a certificate instead', () => yaml('tls_server_config:', '  cert_file: server.crt', '  key_file: server.crt'), [
      `${FILE}:3:13: tls_server_config.key_file: "${DIR}/server.crt" holds no unencrypted PEM private key`,
    ]],
    ['refuses a key that does not belong to the certificate', () => yaml('tls_server_config:', '  cert_file: server.crt', '  key_file: other.key'), [
      `${FILE}:3:13: tls_server_config.key_file: the private key in "${DIR}/other.key" does not belong to the certificate in "${DIR}/server.crt"`,
    ]],
    ['does not quote an inline key that is not text', () => yaml('tls_server_config:', '  cert_file: server.crt', '  key: 123456789'), [
      `${FILE}:3:8: tls_server_config.key: expected a PEM private key`,
    ]],
    ['does not quote an inline key that is not a PEM key', () => yaml('tls_server_config:', '  cert_file: server.crt', '  key: s3cr3t-k3y-m4t3r14l'), [
      `${FILE}:3:8: tls_server_config.key: key holds no unencrypted PEM private key`,
    ]],
    ['lists the policies when client_auth_type is not one', () => yaml(...TLS_FILES, '  client_auth_type: Required'), [
      `${FILE}:4:21: tls_server_config.client_auth_type: expected one of ${AUTH_TYPES}, got "Required"`,
    ]],
    ['refuses a client CA that would never be used because no certificate is asked for', () => yaml(...TLS_FILES, '  client_ca_file: clients.pem'), [
      `${FILE}:4:19: tls_server_config.client_ca_file: client certificates are never asked for with client_auth_type NoClientCert: set client_auth_type: RequireAndVerifyClientCert, or drop client_ca_file`,
    ]],
    ['refuses a verifying policy without a CA to verify against', () => yaml(...TLS_FILES, '  client_auth_type: RequireAndVerifyClientCert'), [
      `${FILE}:4:21: tls_server_config.client_auth_type: RequireAndVerifyClientCert verifies client certificates against client_ca_file or client_ca: set one of them`,
    ]],
    ['refuses client_allowed_sans when a client may come without a certificate', () => yaml(
      ...TLS_FILES, '  client_auth_type: VerifyClientCertIfGiven', '  client_ca_file: clients.pem', '  client_allowed_sans: [prometheus.example]',
    ), [
      `${FILE}:6:24: tls_server_config.client_allowed_sans: client_allowed_sans needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert: otherwise a client can connect without a certificate`,
    ]],
    ['refuses a minimum TLS version above the maximum', () => yaml(...TLS_FILES, '  min_version: TLS13', '  max_version: TLS12'), [
      `${FILE}:5:16: tls_server_config.max_version: min_version TLS13 is above max_version TLS12`,
    ]],
    ['lists Go\'s version names when min_version is written another way', () => yaml(...TLS_FILES, '  min_version: TLSv1.2'), [
      `${FILE}:4:16: tls_server_config.min_version: expected one of "TLS10", "TLS11", "TLS12", "TLS13", got "TLSv1.2"`,
    ]],
    ['points at the entry when a cipher suite is unknown', () => yaml(...TLS_FILES, '  cipher_suites:', '    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', '    - ECDHE-RSA-AES256-GCM-SHA384'), [
      `${FILE}:6:7: tls_server_config.cipher_suites[1]: unknown cipher suite "ECDHE-RSA-AES256-GCM-SHA384": use Go's names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (every one: docs/web-config.md)`,
    ]],
    ['lists the curves when a curve is unknown', () => yaml(...TLS_FILES, '  curve_preferences: [X448]'), [
      `${FILE}:4:23: tls_server_config.curve_preferences[0]: expected one of "CurveP256", "CurveP384", "CurveP521", "X25519", got "X448"`,
    ]],
    ['wants a boolean when prefer_server_cipher_suites is a word', () => yaml(...TLS_FILES, '  prefer_server_cipher_suites: yes'), [
      `${FILE}:4:32: tls_server_config.prefer_server_cipher_suites: expected true or false, got "yes"`,
    ]],
    ['names the allowed headers when a header cannot be configured', () => yaml('http_server_config:', '  headers:', '    Server: certexp'), [
      `${FILE}:3:5: http_server_config.headers.Server: HTTP header "Server" can not be configured (allowed: Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, Content-Security-Policy)`,
    ]],
    ['lists the values when a header takes only some', () => yaml('http_server_config:', '  headers:', '    X-Frame-Options: allow'), [
      `${FILE}:3:22: http_server_config.headers.X-Frame-Options: expected one of "deny", "sameorigin", got "allow"`,
    ]],
    ['refuses basic_auth_users when it is a list', () => yaml('basic_auth_users:', '  - alice'), [
      `${FILE}:2:3: basic_auth_users: expected a mapping, got a list`,
    ]],
    ['refuses a password written where its hash goes, without quoting it', () => yaml('basic_auth_users:', '  alice: hunter2', '  bob: 123456'), [
      `${FILE}:2:10: basic_auth_users.alice: ${NOT_A_HASH}`,
      `${FILE}:3:8: basic_auth_users.bob: ${NOT_A_HASH}`,
    ]],
    ['refuses a bcrypt hash whose cost is out of range', () => yaml('basic_auth_users:', `  alice: "$2y$03$${'a'.repeat(53)}"`), [
      `${FILE}:2:10: basic_auth_users.alice: ${NOT_A_HASH}`,
    ]],
    ['refuses a user name with a colon, which basic auth cannot carry', () => yaml('basic_auth_users:', '  "team:alice": $2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi'), [
      `${FILE}:2:3: basic_auth_users.team:alice: user name "team:alice" cannot contain ":": basic auth splits user and password at the first one`,
    ]],
    ['says what a duration looks like when rate_limit.interval is not one', () => yaml('rate_limit:', '  interval: fast', '  burst: 5'), [
      `${FILE}:2:13: rate_limit.interval: invalid duration "fast" (examples: 500ms, 10s, 5m, 1h, 1d, or 0 for no limit)`,
    ]],
    ['refuses a rate limit that would answer nothing', () => yaml('rate_limit:', '  interval: 1s', '  burst: 0'), [
      `${FILE}:3:10: rate_limit.burst: burst must be at least 1 when interval is set, or no request would ever be answered`,
    ]],
    ['reports every problem at once when several keys are wrong', () => yaml(
      'tls_server_config:', '  cert_file: missing.crt', '  key_file: server.key', '  max_version: TLS14', 'basic_auth_users:', '  alice: plain',
    ), [
      `${FILE}:2:14: tls_server_config.cert_file: cannot read "${DIR}/missing.crt": ENOENT`,
      `${FILE}:4:16: tls_server_config.max_version: expected one of "TLS10", "TLS11", "TLS12", "TLS13", got "TLS14"`,
      `${FILE}:6:10: basic_auth_users.alice: ${NOT_A_HASH}`,
    ]],
  ])('%s', async (_title, text, expected) => {
    expect((await errorOf(text())).message.split('\n')).toEqual(expected);
  });

  it('reports the read failure when the web config file itself is missing', async () => {
    await expect(loadWebConfig(`${DIR}/nowhere.yml`, reader(''))).rejects.toThrow(`${DIR}/nowhere.yml:1:1: (root): cannot read web config file: ENOENT`);
  });

  it('never quotes key material or a password in any message when both are misplaced', async () => {
    const error = await errorOf(yaml(
      'tls_server_config:', '  cert_file: server.crt', `  key: ${block(pki.server.key.privateKeyPem.replace('PRIVATE KEY', 'PRIVATE KEYS'), 2)}`,
      'basic_auth_users:', '  alice: hunter2', '  "hunter3": 42',
    ));
    const body = pki.server.key.privateKeyPem.split('\n')[1] ?? '';
    expect(body.length).toBeGreaterThan(20);
    expect(error.message).not.toContain(body.slice(0, 20));
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toMatch(/\b42\b/);
  });
});

describe('loadWebConfig accepting good files', () => {
  it('serves plain HTTP with no auth when the file is empty', async () => {
    const config = await load('# nothing yet\n');
    expect(config.tls).toBeUndefined();
    expect(config.users.size).toBe(0);
    expect(config.headers).toEqual({});
    expect(config.rateLimit).toBeUndefined();
  });

  it('treats sections left empty as absent when everything under them is commented out', async () => {
    const config = await load(yaml('tls_server_config:', '#  cert_file: server.crt', 'basic_auth_users:', '#  alice: x'));
    expect(config.tls).toBeUndefined();
    expect(config.users.size).toBe(0);
  });

  it('reads certificate and key relative to the web config file with exporter-toolkit defaults', async () => {
    const { tls } = await load(yaml(...TLS_FILES));
    expect(tls?.cert).toBe(pki.server.pem + pki.serverCa.pem);
    expect(tls?.key.reveal()).toBe(pki.server.key.privateKeyPem);
    expect(tls).toMatchObject({ clientAuth: 'NoClientCert', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', honorCipherOrder: true });
    expect(tls?.clientCa).toBeUndefined();
    expect(tls?.ciphers).toBeUndefined();
    expect(tls?.ecdhCurve).toBeUndefined();
  });

  it('takes certificate and key inline when they are written into the file', async () => {
    const { tls } = await load(yaml('tls_server_config:', `  cert: ${block(pki.server.pem, 2)}`, `  key: ${block(pki.server.key.privateKeyPem, 2)}`));
    expect(tls?.cert).toBe(pki.server.pem);
    expect(tls?.key.reveal().trim()).toBe(pki.server.key.privateKeyPem.trim());
  });

  it('keeps the client CA, the policy and canonical SANs when mutual TLS is configured', async () => {
    const { tls } = await load(yaml(
      ...TLS_FILES, '  client_auth_type: RequireAndVerifyClientCert', `  client_ca_file: ${DIR}/clients.pem`,
      '  client_allowed_sans: [prometheus.example, "0:0:0:0:0:0:0:1", "2001:DB8::0:1"]',
    ));
    expect(tls?.clientAuth).toBe('RequireAndVerifyClientCert');
    expect(tls?.clientCa).toBe(pki.clientCa.pem);
    expect(tls?.clientAllowedSans).toEqual(['prometheus.example', '::1', '2001:db8::1']);
  });

  it('reads RequireClientCert as RequireAnyClientCert when the old name is used', async () => {
    const { tls } = await load(yaml(...TLS_FILES, '  client_auth_type: RequireClientCert'));
    expect(tls?.clientAuth).toBe('RequireAnyClientCert');
  });

  it('translates Go cipher and curve names to OpenSSL ones and ignores TLS 1.3 suites as Go does', async () => {
    const { tls } = await load(yaml(
      ...TLS_FILES, '  min_version: TLS12', '  max_version: TLS12', '  prefer_server_cipher_suites: false',
      '  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256]',
      '  curve_preferences: [X25519, CurveP256]',
    ));
    expect(tls).toMatchObject({
      minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', honorCipherOrder: false,
      ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305', ecdhCurve: 'X25519:P-256',
    });
  });

  it('keeps Node\'s cipher defaults when only TLS 1.3 suites are listed', async () => {
    const { tls } = await load(yaml(...TLS_FILES, '  cipher_suites: [TLS_AES_256_GCM_SHA384]'));
    expect(tls?.ciphers).toBeUndefined();
  });

  it('holds the users\' hashes as secrets that print as a placeholder when the config is logged', async () => {
    const config = await load(yaml('basic_auth_users:', `  alice: ${aliceHash}`, '  "42": $2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi'));
    expect([...config.users.keys()]).toEqual(['42', 'alice']);
    expect(config.users.get('alice')?.reveal()).toBe(aliceHash);
    expect(inspect(config, { depth: 5 })).not.toContain(aliceHash);
    expect(JSON.stringify({ users: Object.fromEntries(config.users) })).toBe('{"users":{"42":"[secret]","alice":"[secret]"}}');
  });

  it('keeps the headers it may set and drops blank ones, as exporter-toolkit does', async () => {
    const config = await load(yaml('http_server_config:', '  http2: false', '  headers:', '    X-Frame-Options: deny', '    Content-Security-Policy: ""'));
    expect(config.headers).toEqual({ 'X-Frame-Options': 'deny' });
  });

  it('turns the rate limit on with a duration and off with 0', async () => {
    expect((await load(yaml('rate_limit:', '  interval: 100ms', '  burst: 5'))).rateLimit).toEqual({ intervalMs: 100, burst: 5 });
    expect((await load(yaml('rate_limit:', '  interval: 0', '  burst: 5'))).rateLimit).toBeUndefined();
  });

  it('freezes the result when loading succeeds', async () => {
    const config = await load(yaml(...TLS_FILES));
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.tls)).toBe(true);
    expect(Object.isFrozen(config.headers)).toBe(true);
  });

  it('accepts the shipped example when the certificate and key it names exist', async () => {
    const file = join(__dirname, '..', '..', 'config', 'web.example.yml');
    const config = await loadWebConfig(file, memoryReader({
      [file]: readFileSync(file, 'utf8'),
      [join(file, '..', 'server.crt')]: pki.server.pem,
      [join(file, '..', 'server.key')]: pki.server.key.privateKeyPem,
    }));
    expect(config.tls?.minVersion).toBe('TLSv1.2');
    expect([...config.users.keys()]).toEqual(['prometheus']);
    expect(config.headers).toEqual({ 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'deny' });
  });
});
