/**
 * Process-level faults against the built daemon: a storm of SIGHUPs while probing, and SIGTERM
 * while a probe hangs on a silent server (it must drain, not abandon or hang).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { parseMetrics, select, value } from '../support/metrics-text';
import { waitFor } from '../support/daemon-harness';
import { freePort } from '../support/ports';
import { MAIN } from '../support/process';
import { startRawServer, type TlsTestServer } from '../support/tls-server';

interface Daemon {
  readonly child: ChildProcessWithoutNullStreams;
  readonly base: string;
  readonly logs: () => { level: number; msg: string }[];
  readonly exited: Promise<number | null>;
}

async function startDaemon(configFile: string): Promise<Daemon> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, `--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`]);
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code); }));
  const base = `http://127.0.0.1:${port}`;
  await waitFor('the daemon to be ready', async () => (await fetch(`${base}/-/ready`).catch(() => undefined))?.status === 200);
  return {
    child,
    base,
    exited,
    logs: () => stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { level: number; msg: string }),
  };
}

describe('process faults', () => {
  let dir: string;
  let silent: TlsTestServer;
  const accepted: Socket[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certexp-faults-'));
    silent = await startRawServer('127.0.0.1', (socket) => { accepted.push(socket); socket.resume(); });
  });

  afterAll(async () => {
    await silent.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('survives a storm of SIGHUPs while probing, and ends with the config loaded', async () => {
    const configFile = join(dir, 'storm.yml');
    await writeFile(configFile, `defaults: { interval: 500ms, timeout: 400ms }\ntargets:\n  - { name: silent, host: 127.0.0.1, port: ${silent.port} }\n  - { name: refused, host: 127.0.0.1, port: 1 }\n`);
    const daemon = await startDaemon(configFile);
    try {
      for (let i = 0; i < 50; i++) {
        daemon.child.kill('SIGHUP');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await waitFor('probes after the storm', async () => {
        const samples = parseMetrics(await (await fetch(`${daemon.base}/metrics`)).text());
        return select(samples, 'certexp_probes_total').every((s) => s.value >= 3) && select(samples, 'certexp_probes_total').length === 2;
      });
      const samples = parseMetrics(await (await fetch(`${daemon.base}/metrics`)).text());
      expect(value(samples, 'certexp_config_last_reload_successful')).toBe(1);
      const loads = daemon.logs().filter((l) => l.msg === 'config loaded').length;
      expect(loads).toBeGreaterThanOrEqual(2);
      expect(loads).toBeLessThanOrEqual(51);
      expect(daemon.logs().filter((l) => l.level >= 50)).toEqual([]);
      expect(daemon.child.exitCode).toBeNull();
    } finally {
      daemon.child.kill('SIGKILL');
    }
  });

  it('drains a probe in flight on SIGTERM: waits for its timeout, then exits 0', async () => {
    const configFile = join(dir, 'drain.yml');
    await writeFile(configFile, `defaults: { interval: 2s, timeout: 2s }\ntargets:\n  - { name: silent, host: 127.0.0.1, port: ${silent.port} }\n`);
    const before = accepted.length;
    const daemon = await startDaemon(configFile);
    await waitFor('a probe to be in flight', () => accepted.length > before, 5000);
    const signalled = Date.now();
    daemon.child.kill('SIGTERM');
    const code = await daemon.exited;
    const took = Date.now() - signalled;
    expect(code).toBe(0);
    // Not at once (the probe was waited for) and not past its 2 s timeout plus slack.
    expect(took).toBeGreaterThan(200);
    expect(took).toBeLessThan(4000);
    expect(daemon.logs().map((l) => l.msg)).toEqual(expect.arrayContaining(['stopping: draining probes in flight', 'stopped']));
  });
});
