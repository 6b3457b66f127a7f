import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../support/daemon-harness';
import { describeWithTool } from '../support/tools';
import { freePort } from '../support/ports';
import { startProcess, waitUntilServing, type RunningProcess } from '../e2e/processes';
import { ALERTMANAGER_FILE, alertRules } from './shipped';

function amtool(...args: string[]): { status: number | null; stdout: string } {
  const result = spawnSync('amtool', args, { encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: `${result.stdout}${result.stderr}` };
}

interface ActiveAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly status: { readonly state: string; readonly inhibitedBy: readonly string[] };
}

describeWithTool('amtool', 'prometheus-alertmanager', 'the shipped alertmanager.yml, checked by amtool', () => {
  it('passes amtool check-config', () => {
    const result = amtool('check-config', ALERTMANAGER_FILE);
    expect([result.status, result.stdout]).toEqual([0, expect.stringContaining('SUCCESS')]);
  });

  it('routes every critical alert to the pager and every warning to tickets', () => {
    for (const rule of alertRules()) {
      const severity = rule.labels?.severity ?? '';
      const result = amtool('config', 'routes', 'test', `--config.file=${ALERTMANAGER_FILE}`, `alertname=${rule.alert}`, `severity=${severity}`, 'target=shop');
      expect([rule.alert, result.stdout.split('\n')[0]]).toEqual([rule.alert, severity === 'critical' ? 'tls-pager' : 'tls-tickets']);
    }
  });
});

describeWithTool('prometheus-alertmanager', 'prometheus-alertmanager', 'the shipped alertmanager.yml in a real Alertmanager', () => {
  let dir: string | undefined;
  let alertmanager: RunningProcess | undefined;
  let url: string;

  beforeAll(async () => {
    const data = await mkdtemp(join(tmpdir(), 'certexp-am-'));
    dir = data;
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const started = startProcess('alertmanager', 'prometheus-alertmanager', [
      `--config.file=${ALERTMANAGER_FILE}`, `--storage.path=${data}`, `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=', '--log.level=warn',
    ]);
    alertmanager = started;
    await waitUntilServing(started, `${url}/-/ready`);
  }, 30_000);

  afterAll(async () => {
    await alertmanager?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('silences the milder expiry alerts of a target whose certificate has expired, and no other target, for client certificates too', async () => {
    const alert = (alertname: string, severity: string, target: string): object => ({ labels: { alertname, severity, target } });
    const posted = await fetch(`${url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        alert('CertificateExpired', 'critical', 'shop'),
        alert('CertificateExpiryCritical', 'critical', 'shop'),
        alert('CertificateExpiringSoon', 'warning', 'shop'),
        alert('CertificateExpiringSoon', 'warning', 'blog'),
        alert('ClientCertificateExpiryCritical', 'critical', 'broker'),
        alert('ClientCertificateExpiringSoon', 'warning', 'broker'),
      ]),
    });
    expect(posted.status).toBe(200);
    const states = async (): Promise<string[]> => {
      const active = (await (await fetch(`${url}/api/v2/alerts`)).json()) as ActiveAlert[];
      return active.map((a) => `${a.labels.target ?? ''} ${a.labels.alertname ?? ''} ${a.status.state}`).sort();
    };
    // Inhibition is computed when the alerts are listed; give the six alerts a moment to land.
    await waitFor('the six alerts', async () => (await states()).length === 6, 5000);
    expect(await states()).toEqual([
      'blog CertificateExpiringSoon active',
      'broker ClientCertificateExpiringSoon suppressed',
      'broker ClientCertificateExpiryCritical active',
      'shop CertificateExpired active',
      'shop CertificateExpiringSoon suppressed',
      'shop CertificateExpiryCritical suppressed',
    ]);
  });

  it('silences the milder expiry alerts of an expired certificate file on the same host only, and no target\'s', async () => {
    const file = '/etc/tls/api/tls.crt';
    const alert = (alertname: string, severity: string, labels: Record<string, string>): object => ({ labels: { alertname, severity, ...labels } });
    const posted = await fetch(`${url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        alert('CertificateExpired', 'critical', { source: 'k8s', file, instance: 'a:9745', job: 'certexp' }),
        alert('CertificateExpiringSoon', 'warning', { source: 'k8s', file, instance: 'a:9745', job: 'certexp' }),
        alert('CertificateExpiringSoon', 'warning', { source: 'k8s', file, instance: 'b:9745', job: 'certexp' }),
        alert('CertificateExpiringSoon', 'warning', { target: 'api' }),
      ]),
    });
    expect(posted.status).toBe(200);
    const states = async (): Promise<string[]> => {
      const active = (await (await fetch(`${url}/api/v2/alerts`)).json()) as ActiveAlert[];
      return active.filter((a) => a.labels.file !== undefined || a.labels.target === 'api')
        .map((a) => `${a.labels.target ?? `${a.labels.file ?? ''}@${a.labels.instance ?? ''}`} ${a.labels.alertname ?? ''} ${a.status.state}`).sort();
    };
    await waitFor('the four alerts', async () => (await states()).length === 4, 5000);
    expect(await states()).toEqual([
      `${file}@a:9745 CertificateExpired active`,
      `${file}@a:9745 CertificateExpiringSoon suppressed`,
      `${file}@b:9745 CertificateExpiringSoon active`,
      'api CertificateExpiringSoon active',
    ]);
  });
});
