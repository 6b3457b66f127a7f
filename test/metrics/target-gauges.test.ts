import { Registry } from 'prom-client';
import { registerTargetGauges } from '../../src/metrics/target-gauges';
import type { TargetResult } from '../../src/results/target-result';
import type { ChainAnalysis } from '../../src/pki/analyze-chain';
import { parseMetrics, value } from '../support/metrics-text';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const DAY = 86_400_000;

function result(earliestNotAfter: number | undefined): TargetResult {
  const chain: ChainAnalysis = { presented: [], verified: false, reasons: ['expired'], path: [], trusted: true, earliestNotAfter };
  return { target: 'shop', finishedAt: NOW - 1000, failure: undefined, address: '192.0.2.1', phases: { dns: 0.001 }, tls: undefined, chain };
}

async function scrape(results: TargetResult[], now: number): Promise<ReturnType<typeof parseMetrics>> {
  const registry = new Registry();
  registerTargetGauges(registry, () => results, { now: () => now, monotonic: () => 0 });
  return parseMetrics(await registry.metrics());
}

describe('target gauges', () => {
  it('computes remaining days at scrape time from the earliest notAfter, negative once expired', async () => {
    const r = result(NOW + 30 * DAY + DAY / 2);
    expect(value(await scrape([r], NOW), 'certexp_cert_remaining_days', { target: 'shop' })).toBe(30.5);
    expect(value(await scrape([r], NOW + 31 * DAY), 'certexp_cert_remaining_days', { target: 'shop' })).toBe(-0.5);
  });

  it('exports no remaining days when no path could be built', async () => {
    const samples = await scrape([result(undefined)], NOW);
    expect(samples.filter((s) => s.name === 'certexp_cert_remaining_days')).toEqual([]);
    expect(value(samples, 'certexp_verify_failure', { target: 'shop', reason: 'expired' })).toBe(1);
    expect(value(samples, 'certexp_last_probe_timestamp_seconds', { target: 'shop' })).toBe((NOW - 1000) / 1000);
  });

  it('drops the series of a target once it leaves the results', async () => {
    const results = [result(NOW + DAY)];
    const registry = new Registry();
    registerTargetGauges(registry, () => results, { now: () => NOW, monotonic: () => 0 });
    expect(await registry.metrics()).toMatch(/target="shop"/);
    results.length = 0;
    expect(await registry.metrics()).not.toMatch(/target="shop"/);
  });
});
