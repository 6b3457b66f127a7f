/**
 * How many scheduled probes may be in flight, adjusted to the event loop's delay. Once the CPU
 * is the bottleneck, more probes at once only queue: each handshake's callbacks wait behind all
 * the others', so its measured duration grows (82 ms against 11 ms at 10,000 targets flat out on
 * the bench fleet, with 256 in flight against 32), its objects live long enough to be promoted
 * and cost major collections, and fewer probes finish per CPU-second. Probes to far-away targets
 * leave the loop idle while they wait on the network, and keep the limit at its maximum.
 *
 * Multiplicative decrease while the loop is late, increase while it is calm, a band between
 * where the limit holds: it settles where the delay is about the target, and recovers within
 * seconds of a burst of other work (a scrape, a reload).
 */
export interface LimitSettings {
  /** The configured concurrency: the limit never goes above it. */
  readonly max: number;
  /** Mean event-loop delay (beyond the monitor's own period) above which the limit comes down. */
  readonly targetDelayMs: number;
}

/** Enough probes at once to batch a wakeup's work: at 8 the bench fleet took 10% more CPU per probe than at 32. */
export const MIN_LIMIT = 16;
const DECREASE = 0.8;
const INCREASE = 1.1;

export class ConcurrencyLimit {
  private value: number;

  constructor(private readonly settings: LimitSettings) {
    this.value = settings.max;
  }

  get current(): number {
    return this.value;
  }

  /** One window's mean event-loop delay, in ms beyond the monitor's period; returns the new limit. */
  observe(delayMs: number): number {
    const { max, targetDelayMs } = this.settings;
    if (delayMs > targetDelayMs) this.value = Math.max(Math.min(max, MIN_LIMIT), Math.floor(this.value * DECREASE));
    else if (delayMs <= targetDelayMs / 2) this.value = Math.min(max, Math.ceil(this.value * INCREASE));
    return this.value;
  }
}
