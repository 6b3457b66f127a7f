import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describeWithTool } from '../support/tools';
import { DEPLOY, ROOT } from './shipped';

describeWithTool('yamllint', 'yamllint', 'yamllint on deploy/', () => {
  it('finds no error and no warning in any YAML file under deploy/', () => {
    const result = spawnSync('yamllint', ['--strict', '-f', 'parsable', '-c', join(ROOT, '.yamllint.yml'), DEPLOY], { encoding: 'utf8', timeout: 30_000 });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });
});
