import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithTool } from '../support/tools';
import { shippedLaunch } from '../../bench/launch';
import { DEPLOY, ROOT } from './shipped';

const UNIT = join(DEPLOY, 'systemd', 'certexp.service');

/** The [Service] section's settings, each key with every value it is given. */
function serviceSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const line of text.split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line);
    if (header !== null) section = header[1] ?? '';
    const setting = /^(\w+)=(.*)$/.exec(line);
    if (section === 'Service' && setting !== null) settings.set(setting[1] ?? '', [...(settings.get(setting[1] ?? '') ?? []), setting[2] ?? '']);
  }
  return settings;
}

describe('the systemd unit', () => {
  const settings = serviceSettings(readFileSync(UNIT, 'utf8'));

  it('runs certexp sandboxed as a dynamic user with no privileges', () => {
    for (const [key, expected] of Object.entries({
      DynamicUser: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', PrivateDevices: 'yes',
      NoNewPrivileges: 'yes', CapabilityBoundingSet: '', RestrictSUIDSGID: 'yes', ProtectKernelTunables: 'yes',
      ProtectControlGroups: 'yes', LockPersonality: 'yes',
    })) expect([key, settings.get(key)]).toEqual([key, [expected]]);
  });

  it('leaves V8 the writable and executable memory its JIT needs', () => {
    expect(settings.has('MemoryDenyWriteExecute')).toBe(false);
  });

  it('starts the built daemon on the default port, as npm start does, and reloads it with SIGHUP', () => {
    const launch = shippedLaunch(ROOT);
    expect(settings.get('ExecStart')).toEqual([
      ['/usr/bin/node', ...launch.nodeArgs, '/opt/certexp/dist/main.js', '--config.file=/etc/certexp/certexp.yml', '--web.listen-address=:9745'].join(' '),
    ]);
    expect(settings.get('Environment')).toEqual(expect.arrayContaining(Object.entries(launch.env).map(([name, value]) => `${name}=${value}`)));
    expect(settings.get('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
  });
});

describeWithTool('systemd-analyze', 'systemd', 'systemd-analyze on the systemd unit', () => {
  let dir: string;
  let unit: string;

  beforeAll(async () => {
    // The same unit with ExecStart on this machine's node, wherever it is installed here.
    dir = await mkdtemp(join(tmpdir(), 'certexp-systemd-'));
    unit = join(dir, 'certexp.service');
    await writeFile(unit, readFileSync(UNIT, 'utf8').replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('passes systemd-analyze verify', () => {
    const result = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', timeout: 20_000 });
    expect([result.status, result.stderr]).toEqual([0, '']);
  });

  it('rates the sandbox OK (exposure 2.0 or lower) in systemd-analyze security', () => {
    const result = spawnSync('systemd-analyze', ['security', '--offline=yes', '--threshold=20', '--no-pager', unit], { encoding: 'utf8', timeout: 20_000 });
    expect([result.status, /Overall exposure level for certexp\.service: ([\d.]+)/.exec(result.stdout)?.[1]]).toEqual([0, expect.stringMatching(/^[0-1]\.\d|^2\.0/)]);
  });
});
