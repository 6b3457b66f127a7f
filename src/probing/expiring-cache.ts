import type { Clock } from '../clock';

/** How long an answer is good for, and what it costs the cache. */
export interface Keep {
  /** Epoch milliseconds after which the answer is loaded again. */
  readonly until: number;
  /** Its share of the capacity, at least 1. */
  readonly weight: number;
}

interface Entry<V> extends Keep {
  readonly value: V;
}

/**
 * Answers from a remote source (OCSP responses, CRLs) kept until a time each answer names, each
 * loaded once however many callers ask for it at the same time; past the capacity, the answers
 * stored longest ago go first.
 */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly pending = new Map<string, Promise<V>>();
  private weight = 0;

  constructor(
    private readonly clock: Clock,
    private readonly capacity: number,
    private readonly keep: (value: V, now: number) => Keep,
  ) {}

  /** The answer for `key`: the kept one while it is good, else the one `load` is getting (one load at a time per key). */
  async get(key: string, load: () => Promise<V>): Promise<V> {
    const cached = this.entries.get(key);
    if (cached !== undefined && this.clock.now() < cached.until) return cached.value;
    let loading = this.pending.get(key);
    if (loading === undefined) {
      loading = load().then((value) => {
        this.remember(key, value);
        return value;
      }).finally(() => { this.pending.delete(key); });
      this.pending.set(key, loading);
    }
    return loading;
  }

  private remember(key: string, value: V): void {
    const keep = this.keep(value, this.clock.now());
    this.forget(key);
    this.entries.set(key, { value, ...keep });
    this.weight += keep.weight;
    for (const oldest of this.entries.keys()) {
      if (this.weight <= this.capacity || oldest === key) break;
      this.forget(oldest);
    }
  }

  private forget(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.weight -= entry.weight;
  }
}
