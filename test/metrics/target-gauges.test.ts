import { renderResultFamilies } from '../../src/metrics/target-families';
import type { TargetResult } from '../../src/results/target-result';
import type { ChainAnalysis } from '../../src/pki/analyze-chain';
import { TrustStore } from '../../src/pki/trust-store';
import { parseMetrics, select, value } from '../support/metrics-text';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const DAY = 86_400_000;

function result(earliestNotAfter: number | undefined, target = 'shop'): TargetResult {
  const chain: ChainAnalysis = { presented: [], verified: false, reasons: ['expired'], path: [], trusted: true, earliestNotAfter, input: { chain: [], trust: new TrustStore([]), serverName: undefined, at: NOW }, stable: { from: NOW, until: NOW } };
  return { target, finishedAt: NOW - 1000, failure: undefined, address: '192.0.2.1', phases: { dns: 0.0012345678 }, tls: undefined, chain };
}

const scrape = (results: TargetResult[], now: number): ReturnType<typeof parseMetrics> => parseMetrics(renderResultFamilies(results, now, 'text'));

describe('per-target families', () => {
  it('computes remaining days at scrape time from the earliest notAfter, negative once expired', () => {
    const r = result(NOW + 30 * DAY + DAY / 2);
    expect(value(scrape([r], NOW), 'certexp_cert_remaining_days', { target: 'shop' })).toBe(30.5);
    expect(value(scrape([r], NOW + 31 * DAY), 'certexp_cert_remaining_days', { target: 'shop' })).toBe(-0.5);
  });

  it('exports no remaining days when no path could be built, and rounds durations to the microsecond', () => {
    const samples = scrape([result(undefined)], NOW);
    expect(select(samples, 'certexp_cert_remaining_days')).toEqual([]);
    expect(value(samples, 'certexp_verify_failure', { target: 'shop', reason: 'expired' })).toBe(1);
    expect(value(samples, 'certexp_last_probe_timestamp_seconds', { target: 'shop' })).toBe((NOW - 1000) / 1000);
    expect(value(samples, 'certexp_probe_duration_seconds', { target: 'shop', phase: 'dns' })).toBe(0.001235);
  });

  it('escapes label values and has no series for a target that is not in the results', () => {
    const text = renderResultFamilies([result(NOW + DAY, 'a "quoted"\\name\n')], NOW, 'text');
    expect(text).toContain('certexp_probe_success{target="a \\"quoted\\"\\\\name\\n"} 1');
    expect(renderResultFamilies([], NOW, 'text')).not.toMatch(/target=/);
  });

  it('names counter families without _total in OpenMetrics headers only', () => {
    expect(renderResultFamilies([], NOW, 'openmetrics')).toMatch(/^# TYPE certexp_probe_success gauge$/m);
  });
});
