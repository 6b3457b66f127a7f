/** Starting and stopping the fleet processes (bench/fleet.ts), and the target list they serve. */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FleetCerts } from './fleet-certs';
import type { FloorTarget } from './floor';
import { cpuSeconds, firstLine, spawnTracked, stopChild } from './proc';

export interface FleetTarget {
  readonly name: string;
  readonly port: number;
}

export interface RunningFleet {
  readonly targets: readonly FleetTarget[];
  /** PEM of the fleet's root: certexp trusts it through ca_file, so verification succeeds. */
  readonly rootPemPath: string;
  /** JSON list of {name, port}, for the floor loop. */
  readonly targetsPath: string;
  readonly pids: readonly number[];
  /** CPU seconds used by all fleet processes so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export async function startFleet(opts: {
  readonly certs: FleetCerts;
  readonly certsPath: string;
  readonly shards: number;
  readonly workDir: string;
  readonly benchDist: string;
}): Promise<RunningFleet> {
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  try {
    for (let shard = 0; shard < opts.shards; shard++) {
      const child = spawnTracked(process.execPath, [
        join(opts.benchDist, 'fleet.js'), `--certs=${opts.certsPath}`, `--shard=${shard}`, `--shards=${opts.shards}`,
      ], { stdio: ['pipe', 'pipe', 'inherit'] });
      children.push(child);
    }
    for (const [shard, child] of children.entries()) {
      const line = await firstLine(child, 60_000, `fleet shard ${shard}`);
      ports.push((JSON.parse(line) as { port: number }).port);
    }
  } catch (error) {
    await Promise.all(children.map((child) => stopChild(child)));
    throw error;
  }
  const targets = opts.certs.names.map((name, i): FleetTarget => {
    const port = ports[i % opts.shards];
    if (port === undefined) throw new Error('fleet shard without a port');
    return { name, port };
  });
  const rootPemPath = join(opts.workDir, 'fleet-root.pem');
  writeFileSync(rootPemPath, opts.certs.rootPem);
  const targetsPath = join(opts.workDir, `fleet-targets-${targets.length}.json`);
  writeFileSync(targetsPath, JSON.stringify(targets.map((t): FloorTarget => ({ name: t.name, port: t.port }))));
  const pids = children.map((child) => child.pid ?? 0);
  return {
    targets,
    rootPemPath,
    targetsPath,
    pids,
    cpuSeconds: () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0),
    stop: async () => { await Promise.all(children.map((child) => stopChild(child))); },
  };
}
