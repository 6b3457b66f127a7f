import { execFileSync } from 'node:child_process';

export function hasTool(command: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$0"', command], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A describe block for tests that need a binary npm cannot install (promtool, openssl,
 * prometheus). .ci/run installs them; under CI=true a missing one fails every test in the block,
 * and elsewhere the block is skipped with the install hint in its title, so `npm test` on a bare
 * machine still says what it did not run.
 */
export function describeWithTool(command: string, debianPackage: string, title: string, body: () => void): void {
  const present = hasTool(command);
  if (!present && process.env.CI !== 'true') {
    describe.skip(`${title} [skipped: ${command} not installed; apt-get install ${debianPackage}]`, body);
    return;
  }
  describe(title, () => {
    beforeAll(() => {
      if (!present) throw new Error(`${command} is required under CI=true: apt-get install ${debianPackage}`);
    });
    body();
  });
}
