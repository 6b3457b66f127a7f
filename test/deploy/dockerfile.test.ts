import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMetrics, value } from '../support/metrics-text';
import { freePort } from '../support/ports';
import { startProcess, waitUntilServing, type RunningProcess } from '../e2e/processes';
import { shippedLaunch } from '../../bench/launch';
import { buildDockerfile, dockerIgnored, type Stage } from './dockerfile';
import { ROOT } from './shipped';

/** The image's default port: the HEALTHCHECK and EXPOSE name it. */
const IMAGE_PORT = 9745;

interface PackageJson {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

describe('the Dockerfile, repeated step by step outside Docker', () => {
  let dir: string | undefined;
  let image: Stage;
  let daemon: RunningProcess | undefined;
  let port: number;
  const app = (...path: string[]): string => join(image.root, image.workdir, ...path);
  /** ENTRYPOINT + CMD as `docker run` would start them, with `node` being this machine's. */
  const command = (stage: Stage, extra: string[] = []): [string, string[]] => {
    const [program = '', ...args] = [...stage.entrypoint, ...stage.cmd, ...extra];
    return [program === 'node' ? process.execPath : program, args];
  };
  /** The HEALTHCHECK command, on the port this test's daemon listens on. */
  const healthcheck = (): number | null => {
    const [program, args] = command({ ...image, entrypoint: image.healthcheck?.command ?? [], cmd: [] });
    const result = spawnSync(program, args.map((arg) => arg.replace(`:${IMAGE_PORT}/`, `:${port}/`)), { cwd: app(), timeout: 10_000 });
    return result.status;
  };

  beforeAll(async () => {
    const work = await mkdtemp(join(tmpdir(), 'certexp-docker-'));
    dir = work;
    // npm ci works from the local cache here; --prefer-offline keeps it from asking the registry.
    const stages = buildDockerfile(join(ROOT, 'Dockerfile'), { context: ROOT, into: work, runEnv: { npm_config_prefer_offline: 'true' } });
    image = stages[stages.length - 1] as Stage;
    port = await freePort();
    const [program, args] = command(image, [`--web.listen-address=127.0.0.1:${port}`]);
    daemon = startProcess('certexp in the image layout', program, args, { cwd: app(), env: { ...process.env, ...image.env } });
    await waitUntilServing(daemon, `http://127.0.0.1:${port}/-/ready`);
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('builds on a Node.js base image of the major version the tests run on, in both stages', () => {
    const major = process.versions.node.split('.')[0] ?? '';
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8').match(/^FROM \S+/gm)).toEqual([`FROM node:${major}-bookworm-slim`, `FROM node:${major}-bookworm-slim`]);
  });

  it('ships production dependencies only when the build stage has pruned', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
    expect(Object.keys(pkg.dependencies).filter((name) => !existsSync(app('node_modules', name)))).toEqual([]);
    expect(Object.keys(pkg.devDependencies).filter((name) => existsSync(app('node_modules', name)))).toEqual([]);
    expect(existsSync(app('node_modules', '.bin', 'tsc'))).toBe(false);
    expect(existsSync(app('src'))).toBe(false);
    expect(existsSync(app('dist', 'main.js'))).toBe(true);
  });

  it('starts node with the memory settings of npm start', () => {
    const launch = shippedLaunch(ROOT);
    expect(image.entrypoint).toEqual(['node', ...launch.nodeArgs, 'dist/main.js']);
    expect(image.env).toEqual(expect.objectContaining(launch.env));
  });

  it('runs as a numeric non-root user, so Kubernetes runAsNonRoot can check it', () => {
    expect(image.user).toMatch(/^[1-9]\d*(:\d+)?$/);
    expect(image.env.NODE_ENV).toBe('production');
    expect(image.exposed).toEqual([IMAGE_PORT]);
  });

  it('serves /metrics and /-/healthy when started as the image starts it, on the shipped config', async () => {
    const healthy = await fetch(`http://127.0.0.1:${port}/-/healthy`);
    expect(healthy.status).toBe(200);
    const samples = parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    expect(value(samples, 'certexp_build_info', { version: (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version })).toBe(1);
    expect(value(samples, 'certexp_probe_interval_seconds', { target: 'local-https' })).toBe(60);
  });

  it('passes its HEALTHCHECK while the daemon runs, and fails it once the daemon is gone', async () => {
    expect(image.healthcheck?.options).toMatchObject({ interval: '30s', timeout: '5s' });
    expect(healthcheck()).toBe(0);
    await daemon?.stop();
    expect(healthcheck()).toBe(1);
  });

  it('keeps everything but what the Dockerfile copies out of the build context', () => {
    const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    for (const kept of ['package.json', 'package-lock.json', 'tsconfig.build.json', 'src/main.ts', 'config/certexp.yml']) {
      expect([kept, dockerIgnored(patterns, kept)]).toEqual([kept, false]);
    }
    for (const dropped of ['.git/config', 'node_modules/jest/package.json', 'dist/main.js', 'test/e2e/alerting.test.ts', '.env', 'deploy/kubernetes/certexp.yml']) {
      expect([dropped, dockerIgnored(patterns, dropped)]).toEqual([dropped, true]);
    }
  });
});
