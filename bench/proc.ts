/**
 * Measuring processes from the outside (/proc) and owning them: every child the bench starts is
 * registered here and killed when the bench ends, normally, on error or on a signal.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

let ticksPerSecond: number | undefined;

/** getconf CLK_TCK: the unit of utime and stime in /proc/<pid>/stat (100 on Linux). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of the process (all its threads), in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 (utime) and 15 (stime) of proc(5), the first after ')' being field 3.
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

/** CPU seconds the whole machine has spent busy (all CPUs, from the first line of /proc/stat). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal ...: busy is everything but idle and iowait.
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((sum, t) => sum + t, 0);
  return (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) / clockTicks();
}

export interface Memory {
  /** Resident set size now, bytes. */
  readonly rss: number;
  /** Peak resident set size over the process's life (VmHWM), bytes. */
  readonly peakRss: number;
}

export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    return match === null ? 0 : Number(match[1]) * 1024;
  };
  return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
}

/** Samples RSS every `everyMs` so a window's mean (steady RSS) can be taken afterwards. */
export class RssSampler {
  private readonly samples: { at: number; rss: number }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number, everyMs = 500) {
    this.timer = setInterval(() => { this.sample(); }, everyMs);
    this.timer.unref();
    this.sample();
  }

  private sample(): void {
    try {
      this.samples.push({ at: performance.now(), rss: memory(this.pid).rss });
    } catch {
      // The process is gone; its samples so far stand.
    }
  }

  /** Mean RSS of the samples taken in [from, to] (performance.now() times), bytes. */
  meanBetween(from: number, to: number): number {
    const inside = this.samples.filter((s) => s.at >= from && s.at <= to);
    return inside.length === 0 ? 0 : inside.reduce((sum, s) => sum + s.rss, 0) / inside.length;
  }

  maxBetween(from: number, to: number): number {
    return this.samples.filter((s) => s.at >= from && s.at <= to).reduce((max, s) => Math.max(max, s.rss), 0);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

const children = new Set<ChildProcess>();

/** spawn(), with the child registered for killAll(). */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, options);
  children.add(child);
  child.once('exit', () => { children.delete(child); });
  return child;
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (!alive(child)) return;
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve(); }); });
  child.kill('SIGTERM');
  const timer = setTimeout(() => { if (alive(child)) child.kill('SIGKILL'); }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Kills every child still running (synchronously: usable from an 'exit' handler). */
export function killAllNow(): void {
  for (const child of children) if (alive(child)) child.kill('SIGKILL');
}

export async function stopAll(): Promise<void> {
  await Promise.all(Array.from(children, (child) => stopChild(child)));
}

/** Makes sure no child outlives the bench, whatever ends it. */
export function installCleanup(): void {
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      killAllNow();
      process.exit(130);
    });
  }
}

/** A TCP port free on 127.0.0.1 right now (the kernel's pick for an ephemeral bind). */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('unexpected address'));
        else resolve(address.port);
      });
    });
  });
}

/** Resolves with the first line the child writes on stdout, or rejects when it exits or times out first. */
export function firstLine(child: ChildProcess, timeoutMs: number, what: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => { finish(new Error(`${what}: no output within ${timeoutMs} ms`)); }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('utf8');
      const end = buffer.indexOf('\n');
      if (end >= 0) finish(undefined, buffer.slice(0, end));
    };
    const onExit = (code: number | null): void => { finish(new Error(`${what}: exited (code ${code}) before it was ready`)); };
    const finish = (error: Error | undefined, line?: string): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (error !== undefined) reject(error);
      else resolve(line ?? '');
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise<void>((resolve) => { setTimeout(resolve, ms); });
}
