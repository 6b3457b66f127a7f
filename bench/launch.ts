import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** How the shipped launchers start the daemon: environment and node flags before dist/main.js. */
export interface Launch {
  readonly env: Readonly<Record<string, string>>;
  readonly nodeArgs: readonly string[];
}

/**
 * The `start` script of package.json, read as `[NAME=value ...] node [--flag ...] dist/main.js`:
 * the one place the memory settings are written down, which the bench runs the daemon with and
 * the Dockerfile and systemd unit are tested against.
 */
export function shippedLaunch(repoRoot: string): Launch {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const words = (pkg.scripts?.start ?? '').split(/\s+/).filter((word) => word !== '');
  const node = words.indexOf('node');
  const main = words.indexOf('dist/main.js');
  if (node === -1 || main < node) throw new Error(`package.json start is not "[NAME=value ...] node [flags] dist/main.js": ${words.join(' ')}`);
  const env = Object.fromEntries(words.slice(0, node).map((word) => {
    const [name = '', ...value] = word.split('=');
    return [name, value.join('=')];
  }));
  return { env, nodeArgs: words.slice(node + 1, main) };
}
