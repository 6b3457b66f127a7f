import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FILE_READ_REASONS } from '../../src/files/file-read-reasons';
import { ROOT, alertRules } from './shipped';

const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** The first column of the markdown tables under `heading`, up to the next heading, backticks removed. */
function tableKeys(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(heading);
  if (start < 0) throw new Error(`no heading ${heading}`);
  const next = markdown.indexOf('\n## ', start + heading.length);
  const section = markdown.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1] ?? '');
}

describe('the alert documentation', () => {
  const alertsDoc = read('docs/alerts.md');
  const alerts = alertRules();

  it('gives every shipped alert a section of its own in docs/alerts.md, in the order of rules.yml', () => {
    const sections = [...alertsDoc.matchAll(/^## (\w+)$/gm)].map((m) => m[1]).filter((name) => name !== 'Thresholds');
    expect(sections).toEqual(alerts.map((rule) => rule.alert));
  });

  it('states each alert\'s severity in its section', () => {
    for (const rule of alerts) {
      const section = alertsDoc.split(/^## /m).find((s) => s.startsWith(`${rule.alert}\n`)) ?? '';
      const severity = rule.labels?.severity ?? '?';
      expect([rule.alert, section]).toEqual([rule.alert, expect.stringContaining(`**${severity[0]?.toUpperCase() ?? ''}${severity.slice(1)}.**`)]);
    }
  });

  it('tells what to do for every verification reason of docs/metrics.md, where CertificateVerificationFailed points', () => {
    const reasons = tableKeys(read('docs/metrics.md'), '## Verification failure reasons');
    expect(reasons).toContain('missing_intermediate');
    const documented = tableKeys(alertsDoc, '## CertificateVerificationFailed');
    expect(reasons.filter((reason) => reason !== 'expired' && !documented.includes(reason))).toEqual([]);
  });

  it('tells what to check for every probe failure reason of docs/metrics.md under TLSProbeFailing', () => {
    const reasons = tableKeys(read('docs/metrics.md'), '## Probe failure reasons');
    const section = alertsDoc.slice(alertsDoc.indexOf('## TLSProbeFailing'), alertsDoc.indexOf('## TLSHandshakeSlow'));
    expect(reasons.filter((reason) => !section.includes(`\`${reason}\``))).toEqual([]);
  });

  it('lists every shipped alert with its severity in the README', () => {
    const readme = read('README.md');
    for (const rule of alerts) expect(readme).toContain(`| \`${rule.alert}\` | ${rule.labels?.severity ?? '?'} |`);
  });
});

describe('the metrics documentation', () => {
  it('explains every file read reason certexp has, and no other', () => {
    expect(tableKeys(read('docs/metrics.md'), '## File read reasons')).toEqual(Object.keys(FILE_READ_REASONS));
  });
});
