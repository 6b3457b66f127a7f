/** Running the built daemon (`dist/main.js`, as `npm start` and the Dockerfile run it; npm test builds it first). */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

/** certexp with args, to the end: exit status and everything it printed. */
export function runOnce(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
