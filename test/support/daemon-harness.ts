import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Daemon, type DaemonOptions } from '../../src/daemon';
import type { Resolver } from '../../src/probing/resolver';
import { buildApp } from '../../src/web/app';
import { systemClock } from '../../src/clock';
import { parseMetrics, type Sample } from './metrics-text';

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export interface Harness {
  readonly dir: string;
  readonly configFile: string;
  readonly daemon: Daemon;
  readonly app: FastifyInstance;
  readonly logs: LogLine[];
  writeConfig(text: string): Promise<void>;
  scrape(accept?: string): Promise<{ contentType: string; body: string; samples: Sample[] }>;
  close(): Promise<void>;
}

/** Daemon options a test may set besides the config, the logger and the resolver. */
export type HarnessOptions = Partial<Pick<DaemonOptions, 'shard' | 'concurrency' | 'loopDelayTargetMs'>>;

/** A daemon and its HTTP app on a config in a temp dir, logs captured as parsed lines. */
export async function startHarness(configText: string, files: Record<string, string> = {}, resolver?: Resolver, options: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'certexp-'));
  const configFile = join(dir, 'certexp.yml');
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  await writeFile(configFile, configText);
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const daemon = new Daemon({ configFile, logger, concurrency: 16, ...options, ...(resolver === undefined ? {} : { resolver }) });
  await daemon.start();
  const app = buildApp({ daemon, clock: systemClock, logger });
  await app.ready();
  return {
    dir,
    configFile,
    daemon,
    app,
    logs,
    writeConfig: (text) => writeFile(configFile, text),
    async scrape(accept) {
      const response = await app.inject({ method: 'GET', url: '/metrics', headers: accept === undefined ? {} : { accept } });
      if (response.statusCode !== 200) throw new Error(`/metrics answered ${response.statusCode}`);
      const contentType = String(response.headers['content-type']);
      return { contentType, body: response.body, samples: contentType.startsWith('text/plain') ? parseMetrics(response.body) : [] };
    },
    async close() {
      await daemon.stop(2000);
      await app.close();
      await rm(dir, { recursive: true, force: true });
      // An exception escaping a probe or a pass over files is a bug even when the schedule survives it.
      const crashes = logs.filter((line) => line.msg === 'probe crashed' || line.msg === 'files pass crashed');
      if (crashes.length > 0) throw new Error(`probes crashed: ${JSON.stringify(crashes)}`);
    },
  };
}

/** Polls until `check` returns true; fails the test with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
