import type { ProbeFailureReason } from '../probing/probe-failure';
import type { VerifyFailureReason } from '../pki/verify-reasons';
import type { TargetResult } from './target-result';

export interface TargetCounts {
  probes: number;
  readonly probeFailures: Map<ProbeFailureReason, number>;
  readonly verifyFailures: Map<VerifyFailureReason, number>;
}

interface Entry {
  result: TargetResult;
  readonly counts: TargetCounts;
}

function increment<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * The latest result and running counts per target: the only state probes and scrapes share.
 * Scrapes read it as it is at that moment, so nothing is pushed into metric objects between scrapes.
 */
export class ResultsStore {
  private readonly entries = new Map<string, Entry>();

  /** Stores the result and returns the one it replaces. */
  record(result: TargetResult): TargetResult | undefined {
    let entry = this.entries.get(result.target);
    const previous = entry?.result;
    if (entry === undefined) {
      entry = { result, counts: { probes: 0, probeFailures: new Map(), verifyFailures: new Map() } };
      this.entries.set(result.target, entry);
    }
    entry.result = result;
    entry.counts.probes++;
    if (result.failure !== undefined) increment(entry.counts.probeFailures, result.failure.reason);
    else for (const reason of result.chain?.reasons ?? []) increment(entry.counts.verifyFailures, reason);
    return previous;
  }

  latest(target: string): TargetResult | undefined {
    return this.entries.get(target)?.result;
  }

  results(): IterableIterator<TargetResult> {
    return Array.from(this.entries.values(), (e) => e.result)[Symbol.iterator]();
  }

  counts(): IterableIterator<[string, Readonly<TargetCounts>]> {
    return Array.from(this.entries, ([target, e]): [string, TargetCounts] => [target, e.counts])[Symbol.iterator]();
  }

  /** Forgets every target not in `keep`, returning the names it forgot. */
  retain(keep: ReadonlySet<string>): string[] {
    const dropped = [...this.entries.keys()].filter((name) => !keep.has(name));
    for (const name of dropped) this.entries.delete(name);
    return dropped;
  }

  delete(target: string): void {
    this.entries.delete(target);
  }
}
