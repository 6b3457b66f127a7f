/**
 * Real processes for the end-to-end and deployment tests: started on loopback ports, their
 * output kept for the failure message, and stopped (SIGTERM, then SIGKILL) by the test that
 * started them.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { waitFor } from '../support/daemon-harness';

/** How much of a process's output is kept: the end is what explains a failure. */
const OUTPUT_KEPT = 20_000;

export interface RunningProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The last few kilobytes of stdout and stderr, interleaved. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export function startProcess(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): RunningProcess {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // A missing binary surfaces as an 'error' event; keep it for the message instead of crashing jest.
  child.on('error', (error) => { output += `\n[${name}: ${error.message}]`; });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('close', () => { resolve(); });
  });
  return {
    name,
    child,
    output: () => output,
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until GET `url` answers 200, failing with the process's output if it exits or the time runs out. */
export async function waitUntilServing(process: RunningProcess, url: string, timeoutMs = 20_000): Promise<void> {
  try {
    await waitFor(`${process.name} to serve ${url}`, async () => {
      if (process.child.exitCode !== null) throw new Error(`${process.name} exited with ${process.child.exitCode}`);
      const response = await fetch(url).catch(() => undefined);
      return response?.status === 200;
    }, timeoutMs);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- ${process.name} output:\n${process.output()}`);
  }
}
