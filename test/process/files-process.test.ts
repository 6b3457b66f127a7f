import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, waitUntilServing, type RunningProcess } from '../e2e/processes';
import { waitFor } from '../support/daemon-harness';
import { parseMetrics, select, value, type Sample } from '../support/metrics-text';
import { freePort } from '../support/ports';
import { MAIN, runOnce } from '../support/process';
import { buildTestPki, chainPem, type TestPki } from '../support/scenarios';
import { createSecretVolume, updateSecretVolume } from '../support/secret-volume';

const DAY_MS = 86_400_000;

describe('the certexp process reading certificate files', () => {
  let dir: string;
  let pki: TestPki;
  let daemon: RunningProcess;
  let base: string;
  const scrape = async (): Promise<Sample[]> => parseMetrics(await (await fetch(`${base}/metrics`)).text());
  const secret = (name: string): Record<string, string> => ({ source: 'k8s', file: join(dir, 'tls', name, 'tls.crt') });

  beforeAll(async () => {
    pki = await buildTestPki();
    dir = await mkdtemp(join(tmpdir(), 'certexp-files-process-'));
    await writeFile(join(dir, 'root.pem'), pki.root.pem);
    await createSecretVolume(join(dir, 'tls', 'shop'), { 'tls.crt': chainPem(pki.expired, pki.intermediate), 'tls.key': pki.expired.key.privateKeyPem });
    await createSecretVolume(join(dir, 'tls', 'api'), { 'tls.crt': chainPem(pki.valid, pki.intermediate), 'tls.key': pki.valid.key.privateKeyPem });
    // An hour between scheduled reads: what the test sees after a change, the watch brought.
    await writeFile(join(dir, 'certexp.yml'), 'defaults: { ca_file: root.pem }\nfiles:\n  - name: k8s\n    paths: ["tls/*/tls.crt"]\n    interval: 1h\n');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    daemon = startProcess('certexp', process.execPath, [MAIN, `--config.file=${join(dir, 'certexp.yml')}`, `--web.listen-address=127.0.0.1:${port}`]);
    await waitUntilServing(daemon, `${base}/-/ready`);
  });

  afterAll(async () => {
    await daemon.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts the files entries in --config.check, and names file, line and key of a bad one', async () => {
    const ok = runOnce(['--config.check', `--config.file=${join(dir, 'certexp.yml')}`]);
    expect([ok.status, ok.stdout]).toEqual([0, `${join(dir, 'certexp.yml')}: OK, 0 targets, 1 files entries\n`]);
    await writeFile(join(dir, 'bad.yml'), 'files:\n  - paths: [a.p12]\n    pkcs12_password_file: nowhere.pass\n');
    const bad = runOnce(['--config.check', `--config.file=${join(dir, 'bad.yml')}`]);
    expect([bad.status, bad.stderr]).toEqual([1, `${join(dir, 'bad.yml')}:3:27: files[0].pkcs12_password_file: cannot read "${join(dir, 'nowhere.pass')}": ENOENT\n`]);
  });

  it('exports an expired certificate in a mounted secret: negative days, verification failed', async () => {
    let samples: Sample[] = [];
    await waitFor('both secrets read', async () => {
      samples = await scrape();
      return select(samples, 'certexp_file_read_success', { source: 'k8s' }).length === 2;
    });
    expect(value(samples, 'certexp_files_matched', { source: 'k8s' })).toBe(2);
    expect(value(samples, 'certexp_cert_remaining_days', secret('shop'))).toBeCloseTo((pki.expired.notAfter.getTime() - Date.now()) / DAY_MS, 1);
    expect(select(samples, 'certexp_verify_failure', secret('shop')).map((s) => s.labels.reason)).toEqual(['expired']);
    expect(value(samples, 'certexp_verify_success', secret('api'))).toBe(1);
  });

  it('follows the kubelet\'s swap of ..data to the renewed certificate at once, under the same file label', async () => {
    await updateSecretVolume(join(dir, 'tls', 'shop'), { 'tls.crt': chainPem(pki.valid, pki.intermediate), 'tls.key': pki.valid.key.privateKeyPem });
    await waitFor('the renewed certificate', async () => (await scrape()).some((s) => s.name === 'certexp_verify_success' && s.labels.file === secret('shop').file && s.value === 1), 5000);
    const samples = await scrape();
    expect(select(samples, 'certexp_cert_not_after_timestamp_seconds', { ...secret('shop'), depth: '0' }).map((s) => s.labels.fingerprint_sha256)).toEqual([pki.valid.fingerprintSha256]);
    expect(select(samples, 'certexp_verify_failure', secret('shop'))).toEqual([]);
    expect(daemon.output()).not.toMatch(/"level":(50|60)/);
  });
});
