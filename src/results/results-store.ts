import type { ProbeFailureReason } from '../probing/probe-failure';
import type { VerifyFailureReason } from '../pki/verify-reasons';
import type { TargetResult } from './target-result';

export interface HandshakeHistogram {
  /** Cumulative: bucketCounts[i] counts handshakes of at most buckets[i] seconds. */
  readonly bucketCounts: number[];
  sum: number;
  count: number;
}

export interface TargetCounts {
  probes: number;
  probeFailures: ReadonlyMap<ProbeFailureReason, number>;
  verifyFailures: ReadonlyMap<VerifyFailureReason, number>;
  readonly handshake: HandshakeHistogram;
}

/** Most targets never fail: they share this empty map until their first failure, not a map each. */
const NONE: ReadonlyMap<never, never> = new Map<never, never>();

/**
 * Few buckets: each is a series per target. 2 s is the line the shipped slow-handshake alert
 * draws, and a bucket above it lets histogram_quantile report a p95 beyond it.
 */
export const DEFAULT_HANDSHAKE_BUCKETS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2, 5];

/** A target's metric lines as metrics/ encoded them from a result, and that result. */
export interface Rendered {
  readonly bytes: Buffer;
  readonly from: TargetResult;
}

interface Entry {
  result: TargetResult;
  readonly counts: TargetCounts;
  /** The target's metric lines as metrics/ encoded them, from the result `from` and the counts then. */
  rendered: Rendered | undefined;
}

/** The counts with `key` one higher: the same map once the target has one of its own. */
function increment<K>(counts: ReadonlyMap<K, number>, key: K): ReadonlyMap<K, number> {
  const own = counts === NONE ? new Map<K, number>() : (counts as Map<K, number>);
  own.set(key, (own.get(key) ?? 0) + 1);
  return own;
}

/**
 * The latest result and running counts per target: the only state probes and scrapes share.
 * Scrapes read it as it is at that moment, so nothing is pushed into metric objects between scrapes.
 */
export class ResultsStore {
  private readonly entries = new Map<string, Entry>();

  constructor(readonly handshakeBuckets: readonly number[] = DEFAULT_HANDSHAKE_BUCKETS) {}

  /** Stores the result and returns the one it replaces. */
  record(result: TargetResult): TargetResult | undefined {
    let entry = this.entries.get(result.target);
    const previous = entry?.result;
    if (entry === undefined) {
      const handshake = { bucketCounts: this.handshakeBuckets.map(() => 0), sum: 0, count: 0 };
      entry = { result, counts: { probes: 0, probeFailures: NONE, verifyFailures: NONE, handshake }, rendered: undefined };
      this.entries.set(result.target, entry);
    }
    entry.result = result;
    entry.counts.probes++;
    const { counts } = entry;
    if (result.failure !== undefined) counts.probeFailures = increment(counts.probeFailures, result.failure.reason);
    else for (const reason of result.chain?.reasons ?? []) counts.verifyFailures = increment(counts.verifyFailures, reason);
    const seconds = result.failure === undefined ? result.phases.handshake : undefined;
    if (seconds !== undefined) this.observe(entry.counts.handshake, seconds);
    return previous;
  }

  private observe(histogram: HandshakeHistogram, seconds: number): void {
    this.handshakeBuckets.forEach((bound, i) => {
      if (seconds <= bound) histogram.bucketCounts[i] = (histogram.bucketCounts[i] ?? 0) + 1;
    });
    histogram.sum += seconds;
    histogram.count++;
  }

  latest(target: string): TargetResult | undefined {
    return this.entries.get(target)?.result;
  }

  countsOf(target: string): Readonly<TargetCounts> | undefined {
    return this.entries.get(target)?.counts;
  }

  /**
   * Keeps `rendered` (bytes derived from `result` and the target's counts) with the target while
   * `result` is its latest, and it goes with the target.
   */
  attachRendered(result: TargetResult, rendered: Buffer): void {
    const entry = this.entries.get(result.target);
    if (entry?.result !== result) return;
    entry.rendered = { bytes: rendered, from: result };
  }

  /** What attachRendered() left for the target's latest result, if anything. */
  renderedOf(target: string): Buffer | undefined {
    const entry = this.entries.get(target);
    return entry !== undefined && entry.rendered?.from === entry.result ? entry.rendered.bytes : undefined;
  }

  /** The bytes attached for an earlier result, and that result: the next encoding may write over them, or keep some. None while they are current. */
  staleRendered(target: string): Rendered | undefined {
    const entry = this.entries.get(target);
    return entry !== undefined && entry.rendered?.from !== entry.result ? entry.rendered : undefined;
  }

  results(): TargetResult[] {
    return Array.from(this.entries.values(), (e) => e.result);
  }

  /** Forgets every target not in `keep`. */
  retain(keep: ReadonlySet<string>): void {
    for (const name of this.entries.keys()) if (!keep.has(name)) this.entries.delete(name);
  }

  delete(target: string): void {
    this.entries.delete(target);
  }
}
