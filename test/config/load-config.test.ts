import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/config-error';
import type { Config } from '../../src/config/config-types';
import { loadConfig } from '../../src/config/load-config';

const FILE = '/etc/certexp/certexp.yml';

/** YAML from lines, so line and column numbers in the expectations can be counted by eye. */
function yaml(...lines: string[]): string {
  return lines.map((line) => `${line}\n`).join('');
}

function enoent(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
}

/** An in-memory file system: the config at FILE plus any extra files by absolute path. */
function reader(text: string, files: Record<string, string> = {}): (path: string) => Promise<string> {
  const all: Record<string, string> = { ...files, [FILE]: text };
  return (path) => {
    const content = all[path];
    return content === undefined ? Promise.reject(enoent(path)) : Promise.resolve(content);
  };
}

async function load(text: string, files: Record<string, string> = {}): Promise<Config> {
  return loadConfig(FILE, reader(text, files));
}

async function errorOf(text: string, files: Record<string, string> = {}): Promise<ConfigError> {
  try {
    await load(text, files);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const ALLOWED_TARGET_KEYS = 'host, port, server_name, name, interval, timeout, ca_file, policy, expected_fingerprints, allowed_issuers, max_validity, ocsp, crl, starttls,'
  + ' min_version, max_version, check_versions, cert_file, key_file, address, proxy_url, addresses';
const ALLOWED_DEFAULTS_KEYS = 'interval, timeout, ca_file, policy, expected_fingerprints, allowed_issuers, max_validity, ocsp, crl,'
  + ' min_version, max_version, check_versions, cert_file, key_file, proxy_url, addresses';
const EXAMPLES = '(examples: 500ms, 10s, 5m, 1h, 1d)';
const MAPPING = `a mapping with keys ${ALLOWED_TARGET_KEYS}`;
const BARE_HOST = 'is not a bare DNS name or IP address: drop the scheme and path, and put the port in port:';
const DNS_RULES = '(DNS labels are 1 to 63 letters, digits, "-" or "_", at most 253 characters in all)';

let caPem = '';

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'certexp-ca-'));
  try {
    execFileSync(
      '/usr/bin/openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=t', '-days', '1', '-keyout', 'k', '-out', 'c'],
      { cwd: dir, stdio: 'ignore' },
    );
    caPem = await readFile(join(dir, 'c'), 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

describe('loadConfig rejecting broken files', () => {
  it.each<[string, string, string[]]>([
    // Syntax: the yaml library's own message and position.
    ['reports every yaml library message and position when a flow sequence is not closed', yaml('targets: [', '  - host: a'), [
      `${FILE}:2:3: (root): Block collections are not allowed within flow collections`,
      `${FILE}:3:1: (root): Flow sequence in block collection must be sufficiently indented and end with a ]`,
    ]],
    ['reports the yaml library position when a mapping is nested on one line', yaml('targets:', '  - host: a: b'), [
      `${FILE}:2:11: (root): Nested mappings are not allowed in compact mappings`,
    ]],
    ['reports a duplicate key when a target repeats host', yaml('targets:', '  - host: a', '    host: b'), [
      `${FILE}:3:5: (root): Map keys must be unique`,
    ]],
    ['reports the alias when it names an anchor that does not exist', yaml('targets:', '  - *nope'), [
      `${FILE}:2:5: (root): Unresolved alias (the anchor must be set before the alias): nope`,
    ]],
    // Shape of the document.
    ['rejects the document when the top level is a list', yaml('- host: a'), [
      `${FILE}:1:1: (root): expected a mapping with keys defaults, targets, files, probe, got a list`,
    ]],
    ['rejects the document when the top level is a scalar', yaml('example.com'), [
      `${FILE}:1:1: (root): expected a mapping with keys defaults, targets, files, probe, got "example.com"`,
    ]],
    ['points at the unknown key when a top-level key is misspelt', yaml('target:', '  - host: a'), [
      `${FILE}:1:1: target: unknown key "target" (allowed: defaults, targets, files, probe)`,
    ]],
    ['points at the unknown key when a defaults key is misspelt', yaml('defaults:', '  interval: 1m', '  timout: 5s'), [
      `${FILE}:3:3: defaults.timout: unknown key "timout" (allowed: ${ALLOWED_DEFAULTS_KEYS})`,
    ]],
    ['points at the unknown key when a target key is misspelt', yaml('targets:', '  - host: a', '    prot: 443'), [
      `${FILE}:3:5: targets[0].prot: unknown key "prot" (allowed: ${ALLOWED_TARGET_KEYS})`,
    ]],
    ['rejects targets when it is a mapping instead of a list', yaml('targets:', '  host: a'), [
      `${FILE}:2:3: targets: expected a list, got a mapping`,
    ]],
    ['rejects defaults when it is a scalar', yaml('defaults: 5m'), [
      `${FILE}:1:11: defaults: expected a mapping with keys ${ALLOWED_DEFAULTS_KEYS}, got "5m"`,
    ]],
    ['rejects a target when it is a bare string', yaml('targets:', '  - example.com'), [
      `${FILE}:2:5: targets[0]: expected ${MAPPING}, got "example.com"`,
    ]],
    ['rejects a target when the list item is empty', yaml('targets:', '  -', '  - host: a'), [
      `${FILE}:2:4: targets[0]: expected ${MAPPING}, got nothing`,
    ]],
    // Ports.
    ['rejects the port when it is not a number', yaml('targets:', '  - host: a', '    port: abc'), [
      `${FILE}:3:11: targets[0].port: expected an integer from 1 to 65535, got "abc"`,
    ]],
    ['rejects the port when it is a quoted number', yaml('targets:', '  - host: a', '    port: "443"'), [
      `${FILE}:3:11: targets[0].port: expected an integer from 1 to 65535, got "443"`,
    ]],
    ['rejects the port when it is zero', yaml('targets:', '  - host: a', '    port: 0'), [
      `${FILE}:3:11: targets[0].port: expected an integer from 1 to 65535, got 0`,
    ]],
    ['rejects the port when it is above 65535', yaml('targets:', '  - host: a', '    port: 65536'), [
      `${FILE}:3:11: targets[0].port: expected an integer from 1 to 65535, got 65536`,
    ]],
    ['rejects the port when it has a fraction', yaml('targets:', '  - host: a', '    port: 443.5'), [
      `${FILE}:3:11: targets[0].port: expected an integer from 1 to 65535, got 443.5`,
    ]],
    ['points at the end of the key when port has no value', yaml('targets:', '  - host: a', '    port:'), [
      `${FILE}:3:10: targets[0].port: expected an integer from 1 to 65535, got nothing`,
    ]],
    // Hosts.
    ['points at the target entry when host is missing', yaml('targets:', '  - port: 443'), [
      `${FILE}:2:5: targets[0]: missing required key "host"`,
    ]],
    ['rejects the host when it is empty', yaml('targets:', '  - host: ""'), [
      `${FILE}:2:11: targets[0].host: expected a non-empty string, got ""`,
    ]],
    ['rejects the host when it is a number', yaml('targets:', '  - host: 443'), [
      `${FILE}:2:11: targets[0].host: expected a non-empty string, got 443`,
    ]],
    ['tells to drop the scheme when host is a URL', yaml('targets:', '  - host: https://example.com'), [
      `${FILE}:2:11: targets[0].host: "https://example.com" ${BARE_HOST}`,
    ]],
    ['tells to move the port when host carries one', yaml('targets:', '  - host: example.com:8443'), [
      `${FILE}:2:11: targets[0].host: "example.com:8443" ${BARE_HOST}`,
    ]],
    ['tells to drop the path when host has one', yaml('targets:', '  - host: example.com/health'), [
      `${FILE}:2:11: targets[0].host: "example.com/health" ${BARE_HOST}`,
    ]],
    ['tells to move the port when a bracketed IPv6 host carries one', yaml('targets:', '  - host: "[::1]:443"'), [
      `${FILE}:2:11: targets[0].host: "[::1]:443" ${BARE_HOST}`,
    ]],
    ['rejects the host when it contains a space', yaml('targets:', '  - host: exa mple.com'), [
      `${FILE}:2:11: targets[0].host: "exa mple.com" is not a valid DNS name or IP address ${DNS_RULES}`,
    ]],
    ['rejects the host when it has an empty label', yaml('targets:', '  - host: a..b'), [
      `${FILE}:2:11: targets[0].host: "a..b" is not a valid DNS name or IP address ${DNS_RULES}`,
    ]],
    ['rejects the host when a label is longer than 63 characters', yaml('targets:', `  - host: ${'a'.repeat(64)}.com`), [
      `${FILE}:2:11: targets[0].host: "${'a'.repeat(64)}.com" is not a valid DNS name or IP address ${DNS_RULES}`,
    ]],
    ['rejects the host when the name is longer than 253 characters', yaml('targets:', `  - host: ${'abcdefghi.'.repeat(25)}abcd`), [
      `${FILE}:2:11: targets[0].host: "${'abcdefghi.'.repeat(25)}abcd" is not a valid DNS name or IP address ${DNS_RULES}`,
    ]],
    ['rejects the host when it looks like an IPv4 address but is not one', yaml('targets:', '  - host: 10.0.0.256'), [
      `${FILE}:2:11: targets[0].host: "10.0.0.256" is not a valid IPv4 address`,
    ]],
    ['rejects the host when brackets hold something other than IPv6', yaml('targets:', '  - host: "[example.com]"'), [
      `${FILE}:2:11: targets[0].host: "[example.com]" is not a valid DNS name or IP address ${DNS_RULES}`,
    ]],
    // Durations.
    ['rejects a duration when it has a fraction', yaml('targets:', '  - host: a', '    interval: 1.5h'), [
      `${FILE}:3:15: targets[0].interval: invalid duration "1.5h" ${EXAMPLES}`,
    ]],
    ['rejects a duration when it has no unit', yaml('defaults:', '  timeout: 10'), [
      `${FILE}:2:12: defaults.timeout: invalid duration 10 ${EXAMPLES}`,
    ]],
    ['rejects a duration when it is quoted without a unit', yaml('defaults:', '  timeout: "10"'), [
      `${FILE}:2:12: defaults.timeout: invalid duration "10" ${EXAMPLES}`,
    ]],
    ['rejects a duration when it is negative', yaml('defaults:', '  interval: -5m'), [
      `${FILE}:2:13: defaults.interval: invalid duration "-5m" ${EXAMPLES}`,
    ]],
    ['rejects a duration when it contains a space', yaml('targets:', '  - host: a', '    timeout: 5 s'), [
      `${FILE}:3:14: targets[0].timeout: invalid duration "5 s" ${EXAMPLES}`,
    ]],
    ['rejects a duration when its units are in ascending order', yaml('targets:', '  - host: a', '    interval: 30s1m'), [
      `${FILE}:3:15: targets[0].interval: invalid duration "30s1m" ${EXAMPLES}`,
    ]],
    ['rejects a duration when it is zero', yaml('defaults:', '  interval: 0s'), [
      `${FILE}:2:13: defaults.interval: duration "0s" must be greater than zero ${EXAMPLES}`,
    ]],
    ['rejects a duration when it is too large to be exact', yaml('targets:', '  - host: a', '    interval: 99999999999999999w'), [
      `${FILE}:3:15: targets[0].interval: invalid duration "99999999999999999w" ${EXAMPLES}`,
    ]],
    // Timeout within interval.
    ['points at the timeout when a target sets one above its interval', yaml('targets:', '  - host: a', '    interval: 30s', '    timeout: 1m'), [
      `${FILE}:4:14: targets[0].timeout: timeout 1m must not exceed interval 30s`,
    ]],
    ['points at the timeout when a target sets one above the default interval', yaml('defaults:', '  interval: 30s', 'targets:', '  - host: a', '    timeout: 45s'), [
      `${FILE}:5:14: targets[0].timeout: timeout 45s must not exceed interval 30s (from defaults.interval)`,
    ]],
    ['points at the interval when a target sets one below the default timeout', yaml('targets:', '  - host: a', '    interval: 5s'), [
      `${FILE}:3:15: targets[0].interval: timeout 10s (built-in default) must not exceed interval 5s`,
    ]],
    ['points at each target entry when the defaults conflict', yaml('defaults:', '  interval: 5s', 'targets:', '  - host: a', '  - host: b', '    timeout: 1s'), [
      `${FILE}:4:5: targets[0]: timeout 10s (built-in default) must not exceed interval 5s (from defaults.interval)`,
    ]],
    // Names.
    ['names the first line when two targets share an explicit name', yaml('targets:', '  - host: a', '    name: shop', '  - host: b', '    name: shop'), [
      `${FILE}:5:11: targets[1].name: duplicate target name "shop" (first used on line 3)`,
    ]],
    ['names the first line when two hosts normalize to one default name', yaml('targets:', '  - host: Example.com', '  - host: example.COM.'), [
      `${FILE}:3:5: targets[1]: duplicate target name "example.com:443" (first used on line 2)`,
    ]],
    ['names the first line when a bracketed and a bare IPv6 host collide', yaml('targets:', '  - host: "::1"', '  - host: "[::1]"'), [
      `${FILE}:3:5: targets[1]: duplicate target name "[::1]:443" (first used on line 2)`,
    ]],
    ['names the first line when an explicit name equals a default one', yaml('targets:', '  - host: a', '  - host: b', '    name: "a:443"'), [
      `${FILE}:4:11: targets[1].name: duplicate target name "a:443" (first used on line 2)`,
    ]],
    // ca_file, with contents from the in-memory file system (real files are tested below).
    ['names the resolved path and the OS code when ca_file is missing', yaml('targets:', '  - host: a', '    ca_file: private/ca.pem'), [
      `${FILE}:3:14: targets[0].ca_file: cannot read "/etc/certexp/private/ca.pem": ENOENT`,
    ]],
    ['reports a missing default ca_file once when several targets inherit it', yaml('defaults:', '  ca_file: /nope/ca.pem', 'targets:', '  - host: a', '  - host: b'), [
      `${FILE}:2:12: defaults.ca_file: cannot read "/nope/ca.pem": ENOENT`,
    ]],
    ['rejects ca_file when it is empty', yaml('defaults:', '  ca_file: ""'), [
      `${FILE}:2:12: defaults.ca_file: expected a non-empty string, got ""`,
    ]],
    // Many problems at once, sorted by line.
    ['lists every problem sorted by line when a file has many', yaml(
      'targets:',
      '  - host: https://a',
      '    prot: 443',
      '  - host: b',
      '    timeout: 0s',
      '  - port: 70000',
      'defaults:',
      '  interval: 5',
      '  extra: 1',
    ), [
      `${FILE}:2:11: targets[0].host: "https://a" ${BARE_HOST}`,
      `${FILE}:3:5: targets[0].prot: unknown key "prot" (allowed: ${ALLOWED_TARGET_KEYS})`,
      `${FILE}:5:14: targets[1].timeout: duration "0s" must be greater than zero ${EXAMPLES}`,
      `${FILE}:6:5: targets[2]: missing required key "host"`,
      `${FILE}:6:11: targets[2].port: expected an integer from 1 to 65535, got 70000`,
      `${FILE}:8:13: defaults.interval: invalid duration 5 ${EXAMPLES}`,
      `${FILE}:9:3: defaults.extra: unknown key "extra" (allowed: ${ALLOWED_DEFAULTS_KEYS})`,
    ]],
  ])('%s', async (_title, text, expected) => {
    const error = await errorOf(text);
    expect(error.message).toBe(expected.join('\n'));
  });

  it('reports every target entry when the defaults conflict for several targets', async () => {
    const error = await errorOf(yaml('defaults:', '  interval: 5s', 'targets:', '  - host: a', '  - host: b'));
    expect(error.message).toBe(
      [
        `${FILE}:4:5: targets[0]: timeout 10s (built-in default) must not exceed interval 5s (from defaults.interval)`,
        `${FILE}:5:5: targets[1]: timeout 10s (built-in default) must not exceed interval 5s (from defaults.interval)`,
      ].join('\n'),
    );
  });

  it('names the CA bundle when ca_file holds no certificate', async () => {
    const error = await errorOf(yaml('targets:', '  - host: a', '    ca_file: /ca.pem'), { '/ca.pem': 'not a certificate\n' });
    expect(error.message).toBe(`${FILE}:3:14: targets[0].ca_file: "/ca.pem" contains no PEM CERTIFICATE block`);
  });

  it('names the block when a CA bundle holds one that is not a certificate', async () => {
    const garbage = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const error = await errorOf(yaml('targets:', '  - host: a', '    ca_file: /ca.pem'), { '/ca.pem': caPem + garbage });
    expect(error.message).toBe(`${FILE}:3:14: targets[0].ca_file: "/ca.pem": CERTIFICATE block 2 is not a valid X.509 certificate`);
  });

  it('reports the read failure when the config file itself is missing', async () => {
    await expect(loadConfig('/nowhere/certexp.yml', () => Promise.reject(enoent('/nowhere/certexp.yml')))).rejects.toThrow(
      '/nowhere/certexp.yml:1:1: (root): cannot read config file: ENOENT',
    );
  });

  it('exposes each problem as a structured issue when loading fails', async () => {
    const error = await errorOf(yaml('targets:', '  - host: a', '    port: abc'));
    expect(error.name).toBe('ConfigError');
    expect(error.issues).toEqual([
      { file: FILE, line: 3, column: 11, key: 'targets[0].port', message: 'expected an integer from 1 to 65535, got "abc"' },
    ]);
  });
});

describe('loadConfig accepting good files', () => {
  it('applies the built-in defaults when a target sets only host', async () => {
    const config = await load(yaml('targets:', '  - host: example.com'));
    expect(config).toEqual({
      file: FILE,
      targets: [
        {
          name: 'example.com:443',
          host: 'example.com',
          port: 443,
          serverName: 'example.com',
          intervalMs: 300_000,
          timeoutMs: 10_000,
          caCertificates: [],
          policy: 'web',
          line: 2,
        },
      ],
      files: [],
    });
    expect(config.targets[0]).not.toHaveProperty('caFile');
  });

  it('takes the verification policy from defaults and lets a target override it', async () => {
    const config = await load(yaml('defaults:', '  policy: rfc5280', 'targets:', '  - host: a.example', '  - host: b.example', '    policy: web'));
    expect(config.targets.map((t) => t.policy)).toEqual(['rfc5280', 'web']);
  });

  it('rejects a policy that is not web or rfc5280, naming both', async () => {
    const error = await errorOf(yaml('targets:', '  - host: a.example', '    policy: strict'));
    expect(error.message).toBe(`${FILE}:3:13: targets[0].policy: expected one of "web", "rfc5280", got "strict"`);
  });

  it('takes the STARTTLS protocol\'s port and names the target by it when starttls is set without a port', async () => {
    const config = await load(yaml('targets:', '  - host: mx.example', '    starttls: smtp', '  - host: db.example', '    starttls: postgres', '    port: 6432'));
    expect(config.targets.map((t) => [t.name, t.port, t.starttls])).toEqual([['mx.example:25', 25, 'smtp'], ['db.example:6432', 6432, 'postgres']]);
  });

  it('leaves starttls out of a target that does not set it', async () => {
    const config = await load(yaml('targets:', '  - host: a.example'));
    expect(config.targets[0]).not.toHaveProperty('starttls');
  });

  it('rejects a starttls protocol it does not speak, naming those it does', async () => {
    const error = await errorOf(yaml('targets:', '  - host: a.example', '    starttls: http'));
    expect(error.message).toBe(
      `${FILE}:3:15: targets[0].starttls: expected one of "smtp", "imap", "pop3", "ftp", "ldap", "xmpp", "postgres", "mysql", got "http"`,
    );
  });

  it('applies defaults and lets targets override them when both are given', async () => {
    const config = await load(
      yaml(
        'defaults:',
        '  interval: 1m',
        '  timeout: 5s',
        'targets:',
        '  - host: a.example',
        '  - host: b.example',
        '    port: 8443',
        '    server_name: www.b.example',
        '    name: shop',
        '    interval: 1h30m',
        '    timeout: 500ms',
      ),
    );
    expect(config.targets).toEqual([
      expect.objectContaining({ name: 'a.example:443', port: 443, serverName: 'a.example', intervalMs: 60_000, timeoutMs: 5_000, line: 5 }),
      expect.objectContaining({ name: 'shop', port: 8443, serverName: 'www.b.example', intervalMs: 5_400_000, timeoutMs: 500, line: 6 }),
    ]);
  });

  it('accepts a timeout equal to the interval when they are the same', async () => {
    const config = await load(yaml('targets:', '  - host: a', '    interval: 10s'));
    expect(config.targets[0]).toMatchObject({ intervalMs: 10_000, timeoutMs: 10_000 });
  });

  it.each<[string, string, string, string]>([
    ['a bare IPv6 literal', '"::1"', '::1', '[::1]:443'],
    ['a bracketed IPv6 literal', '"[::1]"', '::1', '[::1]:443'],
    ['an uppercase IPv6 literal', '"2001:DB8::1"', '2001:db8::1', '[2001:db8::1]:443'],
    ['an IPv4 literal', '192.0.2.10', '192.0.2.10', '192.0.2.10:443'],
    ['a mixed-case fully qualified name', 'WWW.Example.COM.', 'www.example.com', 'www.example.com:443'],
    ['a name with underscores', '_dmarc.example.com', '_dmarc.example.com', '_dmarc.example.com:443'],
  ])('normalizes the host and derives the name when host is %s', async (_title, given, host, name) => {
    const config = await load(yaml('targets:', `  - host: ${given}`));
    expect(config.targets[0]).toMatchObject({ host, name, serverName: host });
  });

  it('keeps the port in the derived name when an IPv6 target sets one', async () => {
    const config = await load(yaml('targets:', '  - host: "[2001:db8::1]"', '    port: 8443'));
    expect(config.targets[0]?.name).toBe('[2001:db8::1]:8443');
  });

  it.each([
    ['an empty file', ''],
    ['a file of comments', yaml('# nothing to probe yet')],
    ['a file without targets', yaml('defaults:', '  interval: 1m')],
    ['an empty targets key', yaml('targets:')],
    ['an empty targets list', yaml('targets: []')],
    ['an empty defaults key', yaml('defaults:', 'targets: []')],
  ])('returns zero targets when given %s', async (_title, text) => {
    const config = await load(text);
    expect(config.targets).toEqual([]);
  });

  it('records the line of each entry when targets are written in flow style', async () => {
    const config = await load(yaml('targets:', '  - {host: a}', '', '  - {host: b, port: 444}'));
    expect(config.targets.map((target) => [target.name, target.line])).toEqual([
      ['a:443', 2],
      ['b:444', 4],
    ]);
  });

  it('merges an anchored mapping when a target uses a merge key', async () => {
    const config = await load(yaml('targets:', '  - &base {host: a, port: 8443, interval: 1m}', '  - <<: *base', '    host: b'));
    expect(config.targets.map((target) => [target.name, target.intervalMs])).toEqual([
      ['a:8443', 60_000],
      ['b:8443', 60_000],
    ]);
  });

  it('freezes the result deeply when loading succeeds', async () => {
    const config = await load(yaml('targets:', '  - host: a', '    ca_file: /ca.pem'), { '/ca.pem': caPem });
    const target = config.targets[0];
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.targets)).toBe(true);
    expect(Object.isFrozen(target)).toBe(true);
    expect(Object.isFrozen(target?.caCertificates)).toBe(true);
  });

  it('reads a CA bundle once when several targets name it', async () => {
    const read = jest.fn(reader(yaml('defaults:', '  ca_file: /ca.pem', 'targets:', '  - host: a', '  - host: b', '    ca_file: ../../ca.pem'), { '/ca.pem': caPem }));
    const config = await loadConfig(FILE, read);
    expect(read.mock.calls.map(([path]) => path)).toEqual([FILE, '/ca.pem']);
    expect(config.targets[0]?.caCertificates).toBe(config.targets[1]?.caCertificates);
  });
});

describe('loadConfig reading real files', () => {
  let dir = '';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certexp-config-'));
    await mkdir(join(dir, 'conf'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('resolves ca_file against the config directory when the path is relative', async () => {
    await writeFile(join(dir, 'conf', 'private-ca.pem'), caPem);
    const file = join(dir, 'conf', 'certexp.yml');
    await writeFile(file, yaml('targets:', '  - host: a', '    ca_file: private-ca.pem'));
    const config = await loadConfig(file);
    expect(config.targets[0]?.caFile).toBe(join(dir, 'conf', 'private-ca.pem'));
    expect(config.targets[0]?.caCertificates).toEqual([new X509Certificate(caPem).raw]);
  });

  it('lets a target replace the default bundle when both name one', async () => {
    await writeFile(join(dir, 'default-ca.pem'), caPem);
    await writeFile(join(dir, 'conf', 'own-ca.pem'), caPem + caPem);
    const file = join(dir, 'conf', 'certexp.yml');
    await writeFile(file, yaml('defaults:', '  ca_file: ../default-ca.pem', 'targets:', '  - host: a', '  - host: b', '    ca_file: own-ca.pem'));
    const config = await loadConfig(file);
    expect(config.targets.map((target) => [target.caFile, target.caCertificates.length])).toEqual([
      [join(dir, 'default-ca.pem'), 1],
      [join(dir, 'conf', 'own-ca.pem'), 2],
    ]);
  });

  it('names the resolved path and ENOENT when a relative ca_file does not exist', async () => {
    const file = join(dir, 'conf', 'certexp.yml');
    await writeFile(file, yaml('targets:', '  - host: a', '    ca_file: missing.pem'));
    await expect(loadConfig(file)).rejects.toThrow(`${file}:3:14: targets[0].ca_file: cannot read "${join(dir, 'conf', 'missing.pem')}": ENOENT`);
  });

  it('reports the OS code when the config file does not exist', async () => {
    const file = join(dir, 'absent.yml');
    await expect(loadConfig(file)).rejects.toThrow(`${file}:1:1: (root): cannot read config file: ENOENT`);
  });
});

describe('loadConfig reading expectations of the chain', () => {
  const pin = 'ab'.repeat(32);

  it('normalizes pins, parses issuers and durations, and lets a target replace what defaults set', async () => {
    const config = await load(yaml(
      'defaults:',
      '  allowed_issuers: ["CN=R3, O=Let\'s Encrypt, C=US"]',
      '  max_validity: 398d',
      'targets:',
      '  - host: a',
      `    expected_fingerprints: ["${pin.toUpperCase().replace(/(..)(?!$)/g, '$1:')}"]`,
      '  - host: b',
      '    allowed_issuers: []',
      '    max_validity: 90d',
    ));
    const letsEncrypt = { kind: 'subject', attributes: ['2.5.4.10=let\'s encrypt', '2.5.4.3=r3', '2.5.4.6=us'] };
    expect(config.targets.map((t) => t.expectations)).toEqual([
      { fingerprints: [pin], allowedIssuers: [letsEncrypt], maxValidityMs: 398 * 86_400_000 },
      { allowedIssuers: [], maxValidityMs: 90 * 86_400_000 },
    ]);
    expect(Object.isFrozen(config.targets[0]?.expectations)).toBe(true);
    expect(Object.isFrozen(config.targets[0]?.expectations?.fingerprints)).toBe(true);
  });

  it('gives a target no expectations when it clears the only one defaults set', async () => {
    const config = await load(yaml('defaults:', `  expected_fingerprints: ["${pin}"]`, 'targets:', '  - host: a', '    expected_fingerprints: []'));
    expect(config.targets[0]).not.toHaveProperty('expectations');
  });

  it('points at each bad entry with what it should look like when pins, issuers or max_validity are wrong', async () => {
    const error = await errorOf(yaml(
      'targets:',
      '  - host: a',
      '    expected_fingerprints:',
      `      - ${pin}`,
      '      - abcd',
      '    allowed_issuers: [Lets Encrypt, "CN=R3, XX=1"]',
      '    max_validity: 398 days',
      '  - host: b',
      '    expected_fingerprints: abcd',
    ));
    expect(error.message.split('\n')).toEqual([
      `${FILE}:5:9: targets[0].expected_fingerprints[1]: "abcd" is not a SHA-256 fingerprint (64 hex digits, colons allowed, as \`openssl x509 -noout -fingerprint -sha256\` prints it)`,
      `${FILE}:6:23: targets[0].allowed_issuers[0]: "Lets Encrypt" is neither a subject (CN=..., O=...) nor a SHA-256 fingerprint (64 hex digits, colons allowed)`,
      `${FILE}:6:37: targets[0].allowed_issuers[1]: subject "CN=R3, XX=1": unknown attribute type "XX" (known: CN, O, OU, C, L, ST, DC, serialNumber, emailAddress, or a dotted OID)`,
      `${FILE}:7:19: targets[0].max_validity: invalid duration "398 days" ${EXAMPLES}`,
      `${FILE}:9:28: targets[1].expected_fingerprints: expected a list, got "abcd"`,
    ]);
  });
});
