import { inspect } from 'node:util';
import { issuesOf, loadText, yaml } from '../support/config-issues';
import { buildTestPki, type TestPki } from '../support/scenarios';

let pki: TestPki;

beforeAll(async () => {
  pki = await buildTestPki();
});

describe('the files: section', () => {
  it('resolves paths against the config file\'s directory and fills in the defaults', async () => {
    const config = await loadText(yaml(
      'files:',
      '  - paths: ["/etc/tls/*/tls.crt", "certs/**/*.pem"]',
    ));
    expect(config.targets).toEqual([]);
    expect(config.files).toEqual([{
      name: '/etc/tls/*/tls.crt',
      patterns: ['/etc/tls/*/tls.crt', '/etc/certexp/certs/**/*.pem'],
      intervalMs: 60_000,
      caCertificates: [],
      policy: 'web',
      line: 2,
    }]);
  });

  it('takes every key, and ca_file and policy from defaults: when the entry sets none', async () => {
    const config = await loadText(yaml(
      'defaults:',
      '  ca_file: ca.pem',
      '  policy: rfc5280',
      'files:',
      '  - name: k8s-secrets',
      '    paths: [/etc/tls/*/tls.crt]',
      '  - name: keystores',
      '    paths: [../stores/*.p12]',
      '    interval: 10m',
      '    ca_file: /etc/pki/other.pem',
      '    policy: web',
      '    server_name: shop.example.com',
      '    pkcs12_password_file: p12.pass',
    ), { '/etc/certexp/ca.pem': pki.root.pem, '/etc/pki/other.pem': pki.otherRoot.pem, '/etc/certexp/p12.pass': 's3cret\n' });
    const [secrets, stores] = config.files;
    expect(secrets).toMatchObject({ name: 'k8s-secrets', caFile: '/etc/certexp/ca.pem', caCertificates: [pki.root.der], policy: 'rfc5280', line: 5 });
    expect(secrets).not.toHaveProperty('pkcs12Password');
    expect(stores).toMatchObject({
      name: 'keystores', patterns: ['/etc/stores/*.p12'], intervalMs: 600_000, caFile: '/etc/pki/other.pem', caCertificates: [pki.otherRoot.der],
      policy: 'web', serverName: 'shop.example.com', pkcs12PasswordFile: '/etc/certexp/p12.pass',
    });
    expect(stores?.pkcs12Password?.reveal()).toBe('s3cret');
  });

  it('never shows the password when the entry is logged or inspected', async () => {
    const config = await loadText(yaml('files:', '  - paths: [a.p12]', '    pkcs12_password_file: p12.pass'), { '/etc/certexp/p12.pass': 'hunter2' });
    expect(JSON.stringify(config.files)).not.toContain('hunter2');
    expect(inspect(config.files, { depth: 10 })).not.toContain('hunter2');
  });

  it('names file, line and key for every problem at once', async () => {
    expect(await issuesOf(yaml(
      'files:',
      '  - paths: []',
      '  - paths: [certs/a**b/x.pem]',
      '    interval: 0s',
      '  - paths: [a.pem]',
      '    pkcs12_password_file: missing.pass',
      '    ca_file: missing-ca.pem',
      '    pattern: x',
      '  - name: same',
      '    paths: [b.pem]',
      '  - name: same',
      '    paths: [c.pem]',
      '  - paths: [a.pem]',
    ))).toEqual([
      '2:12: files[0].paths: expected a non-empty list, got a list',
      '3:13: files[1].paths[0]: "**" must be a whole path segment (as in certs/**/*.pem), not part of one: "certs/a**b/x.pem"',
      '4:15: files[1].interval: duration "0s" must be greater than zero (examples: 500ms, 10s, 5m, 1h, 1d)',
      '6:27: files[2].pkcs12_password_file: cannot read "/etc/certexp/missing.pass": ENOENT',
      '7:14: files[2].ca_file: cannot read "/etc/certexp/missing-ca.pem": ENOENT',
      '8:5: files[2].pattern: unknown key "pattern" (allowed: paths, name, interval, ca_file, policy, server_name, pkcs12_password_file)',
      '11:11: files[4].name: duplicate files entry name "same" (first used on line 9)',
      '13:13: files[5].paths[0]: duplicate files entry name "a.pem" (first used on line 5)',
    ]);
  });

  it('keeps target names and entry names apart', async () => {
    const config = await loadText(yaml('targets:', '  - host: a', '    name: x', 'files:', '  - name: x', '    paths: [a.pem]'));
    expect([config.targets.map((t) => t.name), config.files.map((f) => f.name)]).toEqual([['x'], ['x']]);
  });

  it('treats an empty files: as absent', async () => {
    expect((await loadText(yaml('targets:', '  - host: a', 'files:'))).files).toEqual([]);
  });
});
