/**
 * The whole chain with the real servers: a TLS server whose certificate expires in 10 days,
 * the built certexp probing it, Prometheus (Debian's `prometheus`) scraping certexp with the
 * shipped prometheus.yml and evaluating the shipped rules.yml, and Alertmanager (Debian's
 * `prometheus-alertmanager`) routing with the shipped alertmanager.yml to a webhook in this test.
 *
 * What differs from the shipped files is only what a test must change: ports and paths,
 * intervals of 1 s, every `for:` shortened to 1 s, and the receivers' URLs pointing here.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { derToPem } from '../../src/pki/pem';
import { waitFor } from '../support/daemon-harness';
import { buildTestPki } from '../support/scenarios';
import { startTlsServer, type TlsTestServer } from '../support/tls-server';
import { describeWithTool } from '../support/tools';
import {
  ALERTMANAGER_FILE,
  PROMETHEUS_FILE,
  ROOT,
  alertRules,
  allPanels,
  dashboard,
  expandGrafanaVariables,
  labelValuesQuery,
  readYaml,
  ruleGroups,
  rulesWithFor,
} from '../deploy/shipped';
import { freePort } from '../support/ports';
import { startProcess, waitUntilServing, type RunningProcess } from './processes';

const TARGET = 'e2e-shop';
const DAY_MS = 86_400_000;
/** Every wait below is bounded by this, so that the whole file stays well under two minutes. */
const ARRIVAL_TIMEOUT_MS = 45_000;

interface WebhookAlert {
  readonly status: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

interface WebhookPayload {
  readonly receiver: string;
  readonly status: string;
  readonly alerts: readonly WebhookAlert[];
}

interface PromResponse<T> {
  readonly status: string;
  readonly error?: string;
  readonly data: T;
}

interface PromSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: [number, string];
}

interface RuleState {
  readonly name: string;
  readonly type: 'alerting' | 'recording';
  readonly health: string;
  readonly lastError?: string;
  readonly state?: string;
}

interface AlertmanagerConfig {
  route: { receiver: string; group_wait?: string; group_interval?: string; repeat_interval?: string };
  receivers: { name: string; webhook_configs?: { url: string; send_resolved?: boolean }[] }[];
}

interface ScrapeConfig {
  job_name: string;
  scrape_interval?: string;
  scrape_timeout?: string;
  static_configs: { targets: string[] }[];
  relabel_configs?: { target_label?: string; replacement?: string }[];
}

interface PrometheusConfig {
  global: Record<string, string>;
  rule_files: string[];
  alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
  scrape_configs: ScrapeConfig[];
}

/** The receivers' URLs point at the test's webhook, one path per receiver; timings shrink to seconds. */
function alertmanagerConfig(webhookPort: number): string {
  const config = readYaml(ALERTMANAGER_FILE) as AlertmanagerConfig;
  Object.assign(config.route, { group_wait: '1s', group_interval: '1s', repeat_interval: '1h' });
  for (const receiver of config.receivers) {
    receiver.webhook_configs = [{ url: `http://127.0.0.1:${webhookPort}/${receiver.name}`, send_resolved: false }];
  }
  return stringify(config);
}

/** The shipped scrape jobs, pointed at this certexp and target, at a 1 s pace. */
function prometheusConfig(rulesFile: string, alertmanagerPort: number, certexpPort: number): string {
  const config = readYaml(PROMETHEUS_FILE) as PrometheusConfig;
  config.global = { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
  config.rule_files = [rulesFile];
  config.alerting.alertmanagers = [{ static_configs: [{ targets: [`127.0.0.1:${alertmanagerPort}`] }] }];
  const certexp = `127.0.0.1:${certexpPort}`;
  for (const job of config.scrape_configs) {
    delete job.scrape_interval;
    delete job.scrape_timeout;
    if (job.relabel_configs === undefined) {
      job.static_configs = [{ targets: [certexp] }];
      continue;
    }
    // The multi-target form: the target is a name from certexp's config, the address is certexp.
    job.static_configs = [{ targets: [TARGET] }];
    const toExporter = job.relabel_configs.find((relabel) => relabel.target_label === '__address__');
    if (toExporter === undefined) throw new Error(`${job.job_name}: no relabelling to the exporter's address`);
    toExporter.replacement = certexp;
  }
  return stringify(config);
}

describeWithTool('prometheus', 'prometheus', 'certexp with a real Prometheus and Alertmanager', () => {
  describeWithTool('prometheus-alertmanager', 'prometheus-alertmanager', 'the shipped rules, configs and dashboard', () => {
    let dir: string | undefined;
    let tls: TlsTestServer | undefined;
    let webhook: Server | undefined;
    let notAfter: Date;
    const payloads: WebhookPayload[] = [];
    const processes: RunningProcess[] = [];
    let promUrl = '';
    let amUrl = '';

    const promQuery = async <T>(path: string, params: Record<string, string>): Promise<PromResponse<T>> => {
      const response = await fetch(`${promUrl}${path}?${new URLSearchParams(params).toString()}`);
      return (await response.json()) as PromResponse<T>;
    };
    const received = (): WebhookAlert[] => payloads.flatMap((payload) => payload.alerts);
    const diagnostics = (): string => processes.map((p) => `--- ${p.name}:\n${p.output()}`).join('\n');

    beforeAll(async () => {
      const work = await mkdtemp(join(tmpdir(), 'certexp-e2e-'));
      dir = work;
      const pki = await buildTestPki();
      notAfter = pki.expiringSoon.notAfter;
      const server = await startTlsServer({ key: pki.expiringSoon.key, chain: [pki.expiringSoon, pki.intermediate] });
      tls = server;

      const hook = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => { body += chunk.toString(); });
        request.on('end', () => {
          payloads.push(JSON.parse(body) as WebhookPayload);
          response.end();
        });
      });
      webhook = hook;
      await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
      const webhookAddress = hook.address();
      if (webhookAddress === null || typeof webhookAddress === 'string') throw new Error('webhook has no port');

      const [certexpPort, promPort, amPort] = [await freePort(), await freePort(), await freePort()];
      promUrl = `http://127.0.0.1:${promPort}`;
      amUrl = `http://127.0.0.1:${amPort}`;
      const rulesFile = join(work, 'rules.yml');
      await Promise.all([
        writeFile(join(work, 'root.pem'), derToPem(pki.root.der)),
        // A 2 s interval keeps the stale alert (3 intervals) clear of scheduling jitter on a busy machine.
        writeFile(join(work, 'certexp.yml'), `defaults: { interval: 2s, timeout: 1s, ca_file: root.pem }
targets:
  - { name: ${TARGET}, host: 127.0.0.1, port: ${server.port}, server_name: localhost }
`),
        writeFile(rulesFile, rulesWithFor('1s')),
        writeFile(join(work, 'alertmanager.yml'), alertmanagerConfig(webhookAddress.port)),
        writeFile(join(work, 'prometheus.yml'), prometheusConfig(rulesFile, amPort, certexpPort)),
      ]);

      const certexp = startProcess('certexp', process.execPath, [
        join(ROOT, 'dist', 'main.js'), `--config.file=${join(work, 'certexp.yml')}`, `--web.listen-address=127.0.0.1:${certexpPort}`,
      ]);
      const alertmanager = startProcess('alertmanager', 'prometheus-alertmanager', [
        `--config.file=${join(work, 'alertmanager.yml')}`, `--storage.path=${join(work, 'alertmanager-data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=', '--log.level=warn',
      ]);
      const prometheus = startProcess('prometheus', 'prometheus', [
        `--config.file=${join(work, 'prometheus.yml')}`, `--storage.tsdb.path=${join(work, 'prometheus-data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`, '--rules.alert.resend-delay=1s', '--log.level=warn',
      ]);
      processes.push(certexp, alertmanager, prometheus);
      await Promise.all([
        waitUntilServing(certexp, `http://127.0.0.1:${certexpPort}/-/ready`),
        waitUntilServing(alertmanager, `${amUrl}/-/ready`),
        waitUntilServing(prometheus, `${promUrl}/-/ready`),
      ]);
    }, 60_000);

    afterAll(async () => {
      await Promise.all(processes.map((p) => p.stop()));
      await Promise.all([
        tls?.close(),
        new Promise((resolve) => { if (webhook === undefined) resolve(undefined); else webhook.close(resolve); }),
      ]);
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    it('delivers CertificateExpiringSoon to the warning receiver with the target and its days left when 10 days are left', async () => {
      const isExpiringSoon = (alert: WebhookAlert): boolean => alert.labels.alertname === 'CertificateExpiringSoon';
      try {
        await waitFor('CertificateExpiringSoon at the webhook', () => received().some(isExpiringSoon), ARRIVAL_TIMEOUT_MS);
      } catch (error) {
        throw new Error(`${String(error)}\nwebhook got: ${JSON.stringify(payloads)}\n${diagnostics()}`);
      }
      const days = ((notAfter.getTime() - Date.now()) / DAY_MS).toFixed(1);
      const payload = payloads.find((p) => p.alerts.some(isExpiringSoon));
      expect(payload?.receiver).toBe('tls-tickets');
      expect(payload?.alerts.filter(isExpiringSoon)).toEqual([{
        status: 'firing',
        labels: { alertname: 'CertificateExpiringSoon', severity: 'warning', target: TARGET },
        annotations: {
          summary: `TLS certificate of ${TARGET} expires in ${days} days`,
          description: expect.stringContaining(`has ${days} days left until its earliest notAfter, below the warning threshold of 30 days`) as unknown,
        },
        startsAt: expect.any(String) as unknown,
        endsAt: expect.any(String) as unknown,
        generatorURL: expect.any(String) as unknown,
        fingerprint: expect.any(String) as unknown,
      }]);
    }, ARRIVAL_TIMEOUT_MS + 5_000);

    it('raises nothing but CertificateExpiringSoon, and no critical alert, when the certificate has 10 days left', async () => {
      // By now the warning has fired (the test above): every rule has had the time to fire too.
      const active = (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as { labels: Record<string, string> }[];
      const firing = await promQuery<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts', {});
      expect(received().filter((alert) => alert.labels.severity === 'critical')).toEqual([]);
      expect(active.map((alert) => alert.labels.alertname)).toEqual(['CertificateExpiringSoon']);
      expect(firing.data.alerts.map((alert) => `${alert.labels.alertname} ${alert.state}`)).toEqual(['CertificateExpiringSoon firing']);
      expect(new Set(received().map((alert) => alert.labels.alertname))).toEqual(new Set(['CertificateExpiringSoon']));
    });

    it('loads and evaluates every shipped rule without error', async () => {
      const rules = await promQuery<{ groups: { name: string; rules: RuleState[] }[] }>('/api/v1/rules', {});
      const loaded = rules.data.groups.flatMap((group) => group.rules);
      const shipped = ruleGroups().flatMap((group) => group.rules.map((rule) => rule.alert ?? rule.record ?? ''));
      expect(loaded.map((rule) => rule.name).sort()).toEqual(shipped.sort());
      await waitFor('every rule to be evaluated once', async () => {
        const now = await promQuery<{ groups: { rules: RuleState[] }[] }>('/api/v1/rules', {});
        return now.data.groups.flatMap((group) => group.rules).every((rule) => rule.health !== 'unknown');
      }, 10_000);
      const evaluated = (await promQuery<{ groups: { rules: RuleState[] }[] }>('/api/v1/rules', {})).data.groups.flatMap((g) => g.rules);
      expect(evaluated.filter((rule) => rule.health !== 'ok')).toEqual([]);
      expect(evaluated.filter((rule) => rule.type === 'alerting').map((rule) => rule.name).sort()).toEqual(alertRules().map((rule) => rule.alert).sort());
    });

    it('scrapes a target through /probe with the relabelling of the shipped prometheus.yml', async () => {
      const probed = async (): Promise<PromSample[]> =>
        (await promQuery<{ result: PromSample[] }>('/api/v1/query', { query: 'certexp_probe_success{job="certexp-probe"}' })).data.result;
      await waitFor('a scrape of /probe', async () => (await probed()).length > 0, 10_000);
      expect((await probed()).map((sample) => ({ ...sample.metric, value: sample.value[1] }))).toEqual([
        { __name__: 'certexp_probe_success', instance: TARGET, job: 'certexp-probe', target: TARGET, value: '1' },
      ]);
    });

    it('answers every query of the Grafana dashboard without error, and its table lists the target with its days left', async () => {
      const board = dashboard();
      const end = Date.now() / 1000;
      const failures: string[] = [];
      for (const panel of allPanels(board)) {
        for (const target of panel.targets ?? []) {
          const query = expandGrafanaVariables(target.expr, '10s');
          const instant = await promQuery<unknown>('/api/v1/query', { query });
          const range = await promQuery<unknown>('/api/v1/query_range', { query, start: String(end - 30), end: String(end), step: '1' });
          for (const answer of [instant, range]) {
            if (answer.status !== 'success') failures.push(`${panel.title} ${target.refId}: ${query}: ${answer.error ?? answer.status}`);
          }
        }
      }
      for (const variable of board.templating.list.filter((v) => v.type === 'query')) {
        const { selector, label } = labelValuesQuery(variable);
        const series = await promQuery<Record<string, string>[]>('/api/v1/series', { 'match[]': expandGrafanaVariables(selector, '10s') });
        if (series.status !== 'success') failures.push(`variable ${variable.name}: ${series.error ?? series.status}`);
        else if (!series.data.some((labels) => labels[label] !== undefined)) failures.push(`variable ${variable.name}: no ${label} values`);
      }
      expect(failures).toEqual([]);

      const table = allPanels(board).find((panel) => panel.title === 'Targets by days left');
      const daysLeft = table?.targets?.find((target) => target.refId === 'A');
      const answer = await promQuery<{ result: PromSample[] }>('/api/v1/query', { query: expandGrafanaVariables(daysLeft?.expr ?? '', '10s') });
      expect(answer.data.result.map((sample) => [sample.metric.target, Number(sample.value[1]).toFixed(0)])).toEqual([[TARGET, '10']]);
    });
  });
});
