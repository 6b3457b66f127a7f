import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithTool } from '../support/tools';
import { PROBE_SHARDED_FILE, PROMETHEUS_FILE, RULES_FILE, RULES_TEST_FILE, alertRules, readYaml, ruleGroups } from './shipped';

interface RuleTestFile {
  rule_files: string[];
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

/** promtool's output, failing the test with it when the exit status is not 0. */
function promtool(...args: string[]): string {
  const result = spawnSync('promtool', args, { encoding: 'utf8', timeout: 30_000 });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`promtool ${args.join(' ')} exited ${String(result.status)}:\n${output}`);
  return output;
}

const DURATION = /^\d+[smh]$/;

describe('the shipped alerting rules', () => {
  const alerts = alertRules();

  it('ship every alert the issue asks for', () => {
    expect(alerts.map((rule) => rule.alert)).toEqual(expect.arrayContaining([
      'CertificateExpiringSoon', 'CertificateExpiryCritical', 'CertificateExpired', 'CertificateVerificationFailed',
      'TLSProbeFailing', 'TLSHandshakeSlow', 'TLSHandshakeFailureRateHigh', 'CertExporterConfigReloadFailed',
      'CertExporterTargetStale', 'ClientCertificateExpiringSoon', 'ClientCertificateExpiryCritical', 'RevocationCheckFailing',
      'CertificateDiffersAcrossAddresses', 'TLSOldProtocolAccepted',
    ]));
  });

  it('give every alert a severity, a for: of a minute or more, and a summary and description', () => {
    for (const rule of alerts) {
      expect([rule.alert, rule.labels?.severity]).toEqual([rule.alert, expect.stringMatching(/^(warning|critical)$/)]);
      expect([rule.alert, rule.for]).toEqual([rule.alert, expect.stringMatching(DURATION)]);
      expect([rule.alert, rule.for?.endsWith('s')]).toEqual([rule.alert, false]);
      expect([rule.alert, Object.keys(rule.annotations ?? {}).sort()]).toEqual([rule.alert, ['description', 'summary']]);
    }
  });

  it('name the target (or the certificate file) in every per-target alert, and the days left in every expiry alert', () => {
    for (const rule of alerts.filter((r) => !r.alert.startsWith('CertExporter'))) {
      const about = rule.alert.startsWith('CertificateFile') ? /\{\{ \$labels\.(file|source) \}\}/ : /\{\{ \$labels\.target \}\}/;
      expect([rule.alert, rule.annotations?.summary]).toEqual([rule.alert, expect.stringMatching(about)]);
    }
    for (const name of ['CertificateExpiringSoon', 'CertificateExpiryCritical', 'CertificateExpired']) {
      const rule = alerts.find((r) => r.alert === name);
      expect([name, rule?.annotations?.summary]).toEqual([name, expect.stringMatching(/\{\{ printf "%\.1f" \$value \}\} days/)]);
    }
  });

  it('keep each expiry threshold in one recording rule that the alerts read', () => {
    const records = ruleGroups().flatMap((group) => group.rules).filter((rule) => rule.record?.startsWith('certexp:expiry_') === true);
    expect(records.map((rule) => [rule.record, rule.expr])).toEqual([
      ['certexp:expiry_warning_threshold_days', 'vector(30)'],
      ['certexp:expiry_critical_threshold_days', 'vector(7)'],
    ]);
    expect(readFileSync(RULES_FILE, 'utf8')).not.toMatch(/[<>]=?\s*(30|7)\b/);
  });

  it('have a unit test in which each alert fires and one in which it stays silent', () => {
    const file = readYaml(RULES_TEST_FILE) as RuleTestFile;
    const cases = file.tests.flatMap((test) => test.alert_rule_test ?? []);
    for (const { alert } of alerts) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect([alert, mine.some((c) => (c.exp_alerts ?? []).length > 0), mine.some((c) => (c.exp_alerts ?? []).length === 0)])
        .toEqual([alert, true, true]);
    }
  });
});

describeWithTool('promtool', 'prometheus', 'promtool on the shipped Prometheus files', () => {
  it('passes promtool check rules', () => {
    expect(promtool('check', 'rules', RULES_FILE)).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('passes every unit test of rules.test.yml', () => {
    expect(promtool('test', 'rules', RULES_TEST_FILE)).toMatch(/SUCCESS/);
  });

  it('passes promtool check config on prometheus.yml, rules included', () => {
    expect(promtool('check', 'config', PROMETHEUS_FILE)).toMatch(/is valid prometheus config file syntax/);
  });

  it('passes promtool check config on probe-sharded.yml, its example target list included', () => {
    const output = promtool('check', 'config', PROBE_SHARDED_FILE);
    expect(output).toMatch(/SUCCESS: .*probe-sharded\.yml is valid prometheus config file syntax/);
    expect(output).not.toMatch(/WARNING/);
  });

  it('sends each of 300 targets of probe-sharded.yml to exactly one replica, by Prometheus\' own relabelling', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certexp-hashmod-'));
    try {
      const names = Array.from({ length: 300 }, (_, i) => `host-${i}.example.com:443`);
      await writeFile(join(dir, 'probe-sharded.yml'), readFileSync(PROBE_SHARDED_FILE, 'utf8'));
      await mkdir(join(dir, 'targets'));
      await writeFile(join(dir, 'targets', 'tls-all.yml'), `- targets: [${names.join(', ')}]\n`);
      const jobs = (readYaml(PROBE_SHARDED_FILE) as { scrape_configs: { job_name: string; metrics_path?: string }[] }).scrape_configs
        .filter((job) => job.metrics_path === '/probe').map((job) => job.job_name);
      expect(jobs).toEqual(['certexp-probe-0', 'certexp-probe-1', 'certexp-probe-2']);
      const seen: string[] = [];
      for (const [index, job] of jobs.entries()) {
        // promtool runs the job's discovery and relabelling and prints what it would scrape; file
        // discovery answers at once, and promtool waits out --timeout for more.
        const result = spawnSync('promtool', ['check', 'service-discovery', '--timeout=2s', 'probe-sharded.yml', job], { cwd: dir, encoding: 'utf8', timeout: 15_000 });
        expect([job, result.status]).toEqual([job, 0]);
        const kept = (JSON.parse(result.stdout) as { labels: Record<string, string> }[]).map((t) => t.labels).filter((l) => Object.keys(l).length > 0);
        for (const labels of kept) {
          expect(labels).toMatchObject({ __address__: `certexp-${index}.example:9745`, __metrics_path__: '/probe', instance: labels.__param_target });
        }
        // An even split is about 100 each; md5 over 300 names stays well inside this.
        expect([job, kept.length > 60 && kept.length < 140]).toEqual([job, true]);
        seen.push(...kept.map((l) => l.__param_target ?? ''));
      }
      expect(seen.sort()).toEqual([...names].sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('fires the expiry warning at 60 days left when its one threshold is changed to 90 days', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certexp-rules-'));
    try {
      await writeFile(join(dir, 'rules.yml'), readFileSync(RULES_FILE, 'utf8').replace('expr: vector(30)', 'expr: vector(90)'));
      await writeFile(join(dir, 'rules.test.yml'), `rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'certexp_cert_remaining_days{target="pci",instance="a:9745",job="certexp"}'
        values: '60x30'
    alert_rule_test:
      - eval_time: 20m
        alertname: CertificateExpiringSoon
        exp_alerts:
          - exp_labels: {severity: warning, target: pci}
            exp_annotations:
              summary: TLS certificate of pci expires in 60.0 days
              description: >-
                The chain that pci serves has 60.0 days left until its earliest notAfter, below the warning threshold
                of 90 days. Renew the certificate and deploy the new chain (leaf and intermediates).
`);
      expect(promtool('test', 'rules', join(dir, 'rules.test.yml'))).toMatch(/SUCCESS/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
