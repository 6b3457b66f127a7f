import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithTool } from '../support/tools';
import { PROMETHEUS_FILE, RULES_FILE, RULES_TEST_FILE, alertRules, readYaml, ruleGroups } from './shipped';

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
      'CertExporterTargetStale',
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

  it('name the target in every per-target alert, and the days left in every expiry alert', () => {
    for (const rule of alerts.filter((r) => !r.alert.startsWith('CertExporter'))) {
      expect([rule.alert, rule.annotations?.summary]).toEqual([rule.alert, expect.stringContaining('{{ $labels.target }}')]);
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
