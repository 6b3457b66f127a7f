/** certexp.yml from lines, loaded from an in-memory file system, for tests of config messages. */
import { ConfigError } from '../../src/config/config-error';
import type { Config } from '../../src/config/config-types';
import { loadConfig } from '../../src/config/load-config';

export const CONFIG_FILE = '/etc/certexp/certexp.yml';

export function yaml(...lines: string[]): string {
  return lines.map((line) => `${line}\n`).join('');
}

/** Loads `text` as CONFIG_FILE; other paths come from `files`, or fail with ENOENT. */
export function loadText(text: string, files: Readonly<Record<string, string>> = {}): Promise<Config> {
  return loadConfig(CONFIG_FILE, (path) => {
    const content = path === CONFIG_FILE ? text : files[path];
    return content === undefined ? Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' })) : Promise.resolve(content);
  });
}

/** Every issue of `text` as "line:column: key: message"; fails the test when it loads. */
export async function issuesOf(text: string, files: Readonly<Record<string, string>> = {}): Promise<string[]> {
  try {
    await loadText(text, files);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.line}:${i.column}: ${i.key}: ${i.message}`);
    throw error;
  }
  throw new Error('expected a ConfigError');
}
