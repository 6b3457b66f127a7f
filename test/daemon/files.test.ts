import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { select, value, type Sample } from '../support/metrics-text';
import { startHarness, waitFor, type Harness } from '../support/daemon-harness';
import { exportPkcs12 } from '../support/pkcs12';
import { buildTestPki, chainPem, type TestPki } from '../support/scenarios';
import { createSecretVolume } from '../support/secret-volume';
import { describeWithTool } from '../support/tools';

const DAY_MS = 86_400_000;

/**
 * A daemon on `config`, scraped once every entry in `sources` has been read. The harness writes
 * plain files only, so it starts on an empty config, `layout` builds the tree (links, directories,
 * archives), and a reload loads `config`.
 */
async function harnessWith(config: string, layout: (dir: string) => Promise<void>, sources: string[]): Promise<{ harness: Harness; samples: Sample[] }> {
  const harness = await startHarness('targets: []\n');
  await layout(harness.dir);
  await harness.writeConfig(config);
  const reload = await harness.app.inject({ method: 'POST', url: '/-/reload' });
  if (reload.statusCode !== 200) throw new Error(reload.body);
  let samples: Sample[] = [];
  await waitFor('every files: entry read', async () => {
    samples = (await harness.scrape()).samples;
    return sources.every((source) => select(samples, 'certexp_files_matched', { source }).length === 1);
  });
  return { harness, samples };
}

describe('files: through the daemon', () => {
  let pki: TestPki;
  let harness: Harness;
  let samples: Sample[];
  let dir: string;
  const SOURCES: Record<string, string> = { tls: 'k8s', certs: 'bundles', nowhere: 'literal', 'certs/sub': 'literal' };
  const file = (path: string): Record<string, string> => ({ source: SOURCES[path] ?? SOURCES[path.split('/')[0] ?? ''] ?? '', file: join(dir, path) });

  beforeAll(async () => {
    pki = await buildTestPki();
    const config = [
      'defaults: { ca_file: root.pem }',
      'targets: []',
      'files:',
      '  - name: bundles',
      '    paths: ["certs/*.pem", "certs/**/*.der"]',
      '    server_name: localhost',
      '  - name: k8s',
      '    paths: ["tls/*/tls.crt"]',
      '  - name: literal',
      '    paths: [nowhere/tls.crt, certs/sub]',
      '  - name: empty',
      '    paths: ["empty/*/tls.crt"]',
      '',
    ].join('\n');
    ({ harness, samples } = await harnessWith(config, async (root) => {
      dir = root;
      await writeFile(join(root, 'root.pem'), pki.root.pem);
      await mkdir(join(root, 'certs/sub'), { recursive: true });
      await writeFile(join(root, 'certs/fullchain.pem'), chainPem(pki.valid, pki.intermediate));
      await writeFile(join(root, 'certs/expired.pem'), chainPem(pki.expired, pki.intermediate));
      await writeFile(join(root, 'certs/other-name.pem'), chainPem(pki.wrongName, pki.intermediate));
      await writeFile(join(root, 'certs/privkey.pem'), pki.valid.key.privateKeyPem);
      await writeFile(join(root, 'certs/garbage.pem'), 'not a certificate at all\n');
      await writeFile(join(root, 'certs/cut.pem'), chainPem(pki.valid, pki.intermediate).slice(0, -100));
      await writeFile(join(root, 'certs/sub/leaf.der'), pki.valid.der);
      await symlink(join(root, 'certs/gone.pem'), join(root, 'certs/dangling.pem'));
      await mkdir(join(root, 'certs/directory.pem'));
      await writeFile(join(root, 'certs/directory.pem/inside.crt'), pki.valid.pem);
      for (const [secret, cert] of [['shop', pki.valid], ['api', pki.expiringSoon]] as const) {
        await createSecretVolume(join(root, 'tls', secret), { 'tls.crt': chainPem(cert, pki.intermediate), 'tls.key': cert.key.privateKeyPem });
      }
      await mkdir(join(root, 'empty'));
    }, ['bundles', 'k8s', 'literal', 'empty']));
  });

  afterAll(async () => {
    await harness.close();
  });

  it('counts the existing files each entry found; an empty mount is 0', () => {
    // fullchain, expired, other-name, garbage, cut and leaf.der; not the dangling link, not
    // privkey.pem (no certificate in it), not directory.pem (a glob matches no directory).
    expect(value(samples, 'certexp_files_matched', { source: 'bundles' })).toBe(6);
    expect(select(samples, 'certexp_file_read_success', { file: join(dir, 'certs/privkey.pem') })).toEqual([]);
    expect(select(samples, 'certexp_file_read_success', { file: join(dir, 'certs/directory.pem') })).toEqual([]);
    expect(value(samples, 'certexp_files_matched', { source: 'k8s' })).toBe(2);
    expect(value(samples, 'certexp_files_matched', { source: 'literal' })).toBe(1);
    expect(value(samples, 'certexp_files_matched', { source: 'empty' })).toBe(0);
    expect(select(samples, 'certexp_file_read_success', { source: 'empty' })).toEqual([]);
  });

  it('exports a good bundle like a good server chain: verified, every certificate, days of the chain', () => {
    const labels = file('certs/fullchain.pem');
    expect(value(samples, 'certexp_file_read_success', labels)).toBe(1);
    expect(value(samples, 'certexp_verify_success', labels)).toBe(1);
    expect(select(samples, 'certexp_verify_failure', labels)).toEqual([]);
    const notAfter = select(samples, 'certexp_cert_not_after_timestamp_seconds', labels);
    expect(notAfter.map((s) => [s.labels.depth, s.labels.subject_cn, s.labels.issuer_cn, s.labels.serial, s.labels.fingerprint_sha256, s.value])).toEqual(
      [pki.valid, pki.intermediate].map((c, depth) => [String(depth), c.subjectCn, depth === 0 ? pki.intermediate.subjectCn : pki.root.subjectCn, c.serialHex, c.fingerprintSha256, c.notAfter.getTime() / 1000]),
    );
    expect(select(samples, 'certexp_cert_not_before_timestamp_seconds', labels).map((s) => s.value)).toEqual([pki.valid.notBefore.getTime() / 1000, pki.intermediate.notBefore.getTime() / 1000]);
    expect(value(samples, 'certexp_cert_remaining_days', labels)).toBeCloseTo((pki.valid.notAfter.getTime() - Date.now()) / DAY_MS, 1);
    expect(notAfter.every((s) => s.labels.target === undefined)).toBe(true);
  });

  it('reports an expired certificate with negative days and the verification failure', () => {
    const labels = file('certs/expired.pem');
    expect(value(samples, 'certexp_file_read_success', labels)).toBe(1);
    expect(value(samples, 'certexp_cert_remaining_days', labels)).toBeLessThan(-4);
    expect(value(samples, 'certexp_verify_success', labels)).toBe(0);
    expect(select(samples, 'certexp_verify_failure', labels).map((s) => s.labels.reason)).toEqual(['expired']);
  });

  it('checks server_name when the entry sets one, and the trust of defaults.ca_file', () => {
    expect(select(samples, 'certexp_verify_failure', file('certs/other-name.pem')).map((s) => s.labels.reason)).toEqual(['hostname_mismatch']);
    // A DER leaf alone: its issuer is neither in the file nor a trust anchor.
    expect(select(samples, 'certexp_verify_failure', file('certs/sub/leaf.der')).map((s) => s.labels.reason)).toEqual(['missing_intermediate']);
  });

  it.each([
    ['certs/garbage.pem', 'not_a_certificate'],
    ['certs/cut.pem', 'malformed_pem'],
    ['certs/dangling.pem', 'not_found'],
    ['nowhere/tls.crt', 'not_found'],
    ['certs/sub', 'not_a_file'],
  ])('reports %s as a read error, %s, with no chain series', (path, reason) => {
    const labels = file(path);
    expect(value(samples, 'certexp_file_read_success', labels)).toBe(0);
    expect(value(samples, 'certexp_file_read_errors_total', { ...labels, reason })).toBeGreaterThanOrEqual(1);
    expect(select(samples, 'certexp_cert_remaining_days', labels)).toEqual([]);
    expect(select(samples, 'certexp_verify_success', labels)).toEqual([]);
  });

  it('reads a Kubernetes secret volume through its links, each certificate once, under the path people name', () => {
    const k8s = select(samples, 'certexp_file_read_success', { source: 'k8s' });
    expect(k8s.map((s) => s.labels.file)).toEqual([join(dir, 'tls/api/tls.crt'), join(dir, 'tls/shop/tls.crt')]);
    expect(value(samples, 'certexp_cert_remaining_days', file('tls/api/tls.crt'))).toBeCloseTo((pki.expiringSoon.notAfter.getTime() - Date.now()) / DAY_MS, 1);
    // No server_name on the entry: no name is checked.
    expect(value(samples, 'certexp_verify_success', file('tls/shop/tls.crt'))).toBe(1);
  });

  it('logs one line per file state, naming source, file and reason with its fix', () => {
    const garbage = harness.logs.filter((l) => l.file === join(dir, 'certs/garbage.pem'));
    expect(garbage.map((l) => [l.msg, l.source, l.reason])).toEqual([['certificate file unreadable', 'bundles', 'not_a_certificate']]);
    expect(String(garbage[0]?.fix)).toMatch(/no PEM CERTIFICATE block/);
  });

  it('lists every file on the status page with days left and verdict, after the targets', async () => {
    const page = (await harness.app.inject({ url: '/' })).body;
    const table = page.slice(page.indexOf('<table id="files">'));
    expect(table).toContain(`<td>${join(dir, 'certs/expired.pem')}<div class="sub">bundles</div></td>`);
    expect(table).toMatch(/<tr class="band-bad"><td>[^<]*expired\.pem<div class="sub">bundles<\/div><\/td><td class="num">-\d+\.\d<\/td><td>not verified: expired<\/td>/);
    expect(table).toMatch(/<tr class="band-bad"><td>[^<]*garbage\.pem<div class="sub">bundles<\/div><\/td><td class="num">–<\/td><td>unreadable: not_a_certificate /);
    expect(table).toMatch(/<tr class="band-good"><td>[^<]*shop\/tls\.crt<div class="sub">k8s<\/div><\/td><td class="num">\d+\.\d<\/td><td>ok<\/td>/);
  });

  it('drops an entry\'s series when a reload removes it, and keeps the others', async () => {
    await harness.writeConfig('defaults: { ca_file: root.pem }\nfiles:\n  - name: k8s\n    paths: ["tls/*/tls.crt"]\n');
    expect((await harness.app.inject({ method: 'POST', url: '/-/reload' })).statusCode).toBe(200);
    const after = (await harness.scrape()).samples;
    expect([...new Set(after.map((s) => s.labels.source).filter((s) => s !== undefined))]).toEqual(['k8s']);
    expect(value(after, 'certexp_verify_success', file('tls/shop/tls.crt'))).toBe(1);
  });
});

describeWithTool('openssl', 'openssl', 'files: with PKCS#12 archives through the daemon', () => {
  let harness: Harness;
  let samples: Sample[];
  let dir: string;

  beforeAll(async () => {
    const pki = await buildTestPki();
    const config = 'defaults: { ca_file: root.pem }\nfiles:\n  - name: keystores\n    paths: ["stores/*.p12"]\n    pkcs12_password_file: p12.pass\n';
    ({ harness, samples } = await harnessWith(config, async (root) => {
      dir = root;
      await writeFile(join(root, 'root.pem'), pki.root.pem);
      await writeFile(join(root, 'p12.pass'), 's3cret\n');
      await mkdir(join(root, 'stores'));
      await writeFile(join(root, 'stores/good.p12'), exportPkcs12({ chain: [pki.valid, pki.intermediate], password: 's3cret' }));
      await writeFile(join(root, 'stores/other-password.p12'), exportPkcs12({ chain: [pki.valid], password: 'other' }));
      await writeFile(join(root, 'stores/legacy.p12'), exportPkcs12({ chain: [pki.valid], password: 's3cret', flags: ['-legacy'] }));
    }, ['keystores']));
  });

  afterAll(async () => {
    await harness.close();
  });

  it('verifies the chain of an archive read with the password file', () => {
    const labels = { source: 'keystores', file: join(dir, 'stores/good.p12') };
    expect(value(samples, 'certexp_file_read_success', labels)).toBe(1);
    expect(value(samples, 'certexp_verify_success', labels)).toBe(1);
    expect(select(samples, 'certexp_cert_not_after_timestamp_seconds', labels)).toHaveLength(2);
  });

  it.each([
    ['other-password.p12', 'pkcs12_wrong_password'],
    ['legacy.p12', 'pkcs12_unsupported'],
  ])('reports %s as %s', (name, reason) => {
    const labels = { source: 'keystores', file: join(dir, 'stores', name) };
    expect(value(samples, 'certexp_file_read_success', labels)).toBe(0);
    expect(value(samples, 'certexp_file_read_errors_total', { ...labels, reason })).toBeGreaterThanOrEqual(1);
  });

  it('never writes the password to the log', () => {
    expect(JSON.stringify(harness.logs)).not.toContain('s3cret');
  });
});

describe('files: watched for changes', () => {
  let pki: TestPki;
  let harness: Harness;
  let dir: string;
  const labels = (name: string): Record<string, string> => ({ source: 'watched', file: join(dir, 'certs', name) });
  const scrape = async (): Promise<Sample[]> => (await harness.scrape()).samples;
  /** Waits for a change the watch must bring: the entry's interval is an hour. */
  const until = (what: string, check: (samples: Sample[]) => boolean): Promise<void> => waitFor(what, async () => check(await scrape()), 5000);

  beforeAll(async () => {
    pki = await buildTestPki();
    const config = 'defaults: { ca_file: root.pem }\nfiles:\n  - name: watched\n    paths: ["certs/*.pem", certs/fixed.crt]\n    interval: 1h\n';
    ({ harness } = await harnessWith(config, async (root) => {
      dir = root;
      await writeFile(join(root, 'root.pem'), pki.root.pem);
      await mkdir(join(root, 'certs'));
      await writeFile(join(root, 'certs/a.pem'), chainPem(pki.valid, pki.intermediate));
      await writeFile(join(root, 'certs/b.pem'), chainPem(pki.expiringSoon, pki.intermediate));
      await writeFile(join(root, 'certs/fixed.crt'), chainPem(pki.valid, pki.intermediate));
    }, ['watched']));
  });

  afterAll(async () => {
    await harness.close();
  });

  it('reads a new file at once', async () => {
    await writeFile(join(dir, 'certs/c.pem'), chainPem(pki.expired, pki.intermediate));
    await until('the new file', (s) => select(s, 'certexp_verify_failure', { ...labels('c.pem'), reason: 'expired' }).length === 1);
    expect(value(await scrape(), 'certexp_files_matched', { source: 'watched' })).toBe(4);
  });

  it('keeps the last chain and reports the error when a file turns to garbage, then recovers', async () => {
    await writeFile(join(dir, 'certs/b.pem'), 'half a write');
    await until('the read error', (s) => select(s, 'certexp_file_read_success', labels('b.pem'))[0]?.value === 0);
    const samples = await scrape();
    expect(value(samples, 'certexp_file_read_errors_total', { ...labels('b.pem'), reason: 'not_a_certificate' })).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'certexp_cert_remaining_days', labels('b.pem'))).toBeCloseTo((pki.expiringSoon.notAfter.getTime() - Date.now()) / DAY_MS, 1);
    await writeFile(join(dir, 'certs/b.pem'), chainPem(pki.valid, pki.intermediate));
    await until('the renewed file', (s) => select(s, 'certexp_file_read_success', labels('b.pem'))[0]?.value === 1);
    expect(value(await scrape(), 'certexp_cert_remaining_days', labels('b.pem'))).toBeCloseTo((pki.valid.notAfter.getTime() - Date.now()) / DAY_MS, 1);
  });

  it('drops every series of a file that is deleted; a configured path stays, as not_found', async () => {
    await rm(join(dir, 'certs/a.pem'));
    await until('the deleted file gone', (s) => s.every((x) => x.labels.file !== labels('a.pem').file));
    await rm(join(dir, 'certs/fixed.crt'));
    await until('the missing configured file', (s) => select(s, 'certexp_file_read_success', labels('fixed.crt'))[0]?.value === 0);
    const samples = await scrape();
    expect(value(samples, 'certexp_file_read_errors_total', { ...labels('fixed.crt'), reason: 'not_found' })).toBeGreaterThanOrEqual(1);
    expect(select(samples, 'certexp_cert_remaining_days', labels('fixed.crt'))).toEqual([]);
    expect(harness.logs.filter((l) => l.file === labels('a.pem').file).map((l) => l.msg)).toEqual(['certificate file ok', 'certificate file no longer matched; its series are gone']);
  });
});
