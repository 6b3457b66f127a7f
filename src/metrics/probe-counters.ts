import { Counter } from 'prom-client';
import type { AnyRegistry } from './any-registry';
import type { ResultsStore, TargetCounts } from '../results/results-store';

/**
 * Counters whose values live in the results store and are copied out at scrape time: one
 * source of truth, and a target removed from the store takes its counter series with it.
 */
function snapshotCounter<L extends string>(
  registry: AnyRegistry,
  name: string,
  help: string,
  labelNames: readonly L[],
  store: ResultsStore,
  fill: (counter: Counter<L>, target: string, counts: Readonly<TargetCounts>) => void,
): void {
  new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [target, counts] of store.counts()) fill(this, target, counts);
    },
  });
}

export function registerProbeCounters(registry: AnyRegistry, store: ResultsStore): void {
  snapshotCounter(registry, 'certexp_probes_total', 'Probes run.', ['target'], store,
    (c, target, counts) => { c.inc({ target }, counts.probes); });
  snapshotCounter(registry, 'certexp_probe_failures_total', 'Probes that got no certificate chain, by reason.', ['target', 'reason'], store,
    (c, target, counts) => { for (const [reason, n] of counts.probeFailures) c.inc({ target, reason }, n); });
  snapshotCounter(registry, 'certexp_verify_failures_total', 'Probes whose chain failed verification, by reason.', ['target', 'reason'], store,
    (c, target, counts) => { for (const [reason, n] of counts.verifyFailures) c.inc({ target, reason }, n); });
}
