import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { select, parseMetrics } from '../support/metrics-text';
import { waitFor } from '../support/daemon-harness';
import { freePort } from '../support/ports';
import { MAIN, runOnce } from '../support/process';
import { buildTestPki, chainPem } from '../support/scenarios';

describe('the certexp process', () => {
  let dir: string;
  let configFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certexp-process-'));
    configFile = join(dir, 'certexp.yml');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 from --config.check on the shipped default config', () => {
    const result = runOnce(['--config.check', '--config.file=config/certexp.yml']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('config/certexp.yml: OK, 1 targets\n');
    expect(result.status).toBe(0);
  });

  it('exits 1 from --config.check and names file, line and key when the config is broken', async () => {
    await writeFile(configFile, 'defaults:\n  interval: 5 minutes\ntargets:\n  - host: example.test\n');
    const result = runOnce(['--config.check', `--config.file=${configFile}`]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^${configFile}:2:13: defaults\\.interval: `));
  });

  it('runs certexp verify on files and exits 0 when the chain verifies, 1 when it does not', async () => {
    const pki = await buildTestPki();
    await writeFile(join(dir, 'chain.pem'), chainPem(pki.valid, pki.intermediate));
    await writeFile(join(dir, 'root.pem'), pki.root.pem);
    const common = [join(dir, 'chain.pem'), '--ca-file', join(dir, 'root.pem'), '--no-system-roots'];
    const ok = runOnce(['verify', ...common, '--name', 'localhost']);
    expect(ok.stdout).toMatch(/^OK: the chain verifies/m);
    expect(ok.status).toBe(0);
    const mismatch = runOnce(['verify', ...common, '--name', 'example.org', '--json']);
    expect((JSON.parse(mismatch.stdout) as { reasons: string[] }).reasons).toEqual(['hostname_mismatch']);
    expect(mismatch.status).toBe(1);
  });

  it('runs certexp check and exits 2 (CRITICAL) with the reason when nothing listens', () => {
    const result = runOnce(['check', '127.0.0.1:1']);
    expect(result.stdout).toMatch(/^CERTEXP CRITICAL - 127\.0\.0\.1:1: connection_refused$/m);
    expect(result.status).toBe(2);
  });

  it('exits 2 with the usage on an unknown flag', () => {
    const result = runOnce(['--no-such-flag']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/Unknown option '--no-such-flag'[\s\S]*Usage: certexp/);
  });

  describe('running as a daemon', () => {
    let child: ChildProcessWithoutNullStreams;
    let base: string;
    let stderr = '';
    const metrics = async (): Promise<ReturnType<typeof parseMetrics>> => parseMetrics(await (await fetch(`${base}/metrics`)).text());

    beforeAll(async () => {
      await writeFile(configFile, 'defaults: { interval: 1s, timeout: 1s }\ntargets:\n  - { name: first, host: 127.0.0.1, port: 1 }\n');
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      child = spawn(process.execPath, [MAIN, `--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`]);
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      child.stdout.resume();
      await waitFor('the daemon to be ready', async () => (await fetch(`${base}/-/ready`).catch(() => undefined))?.status === 200);
    });

    afterAll(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    it('serves health, readiness and a status page', async () => {
      expect((await fetch(`${base}/-/healthy`)).status).toBe(200);
      const page = await fetch(`${base}/`);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toMatch(/<tr class="target [^"]*" id="row-0" data-name="first"/);
    });

    it('reloads on SIGHUP, and keeps the last good config when the new one is broken', async () => {
      await waitFor('a probe of the first target', async () => select(await metrics(), 'certexp_probe_success', { target: 'first' }).length === 1);
      await writeFile(configFile, 'defaults: { interval: 1s, timeout: 1s }\ntargets:\n  - { name: second, host: 127.0.0.1, port: 1 }\n');
      child.kill('SIGHUP');
      await waitFor('the second target to replace the first', async () => {
        const now = await metrics();
        return select(now, 'certexp_probe_success', { target: 'second' }).length === 1 && select(now, 'certexp_probe_success', { target: 'first' }).length === 0;
      });
      await writeFile(configFile, 'targets: [ {host: 127.0.0.1, port: 99999} ]\n');
      child.kill('SIGHUP');
      await waitFor('the failed reload to show', async () => select(await metrics(), 'certexp_config_last_reload_successful')[0]?.value === 0);
      expect(select(await metrics(), 'certexp_probe_success', { target: 'second' })).toHaveLength(1);
      expect(stderr).toBe('');
    });

    it('stops cleanly on SIGTERM', async () => {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code); }));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    });
  });
});
