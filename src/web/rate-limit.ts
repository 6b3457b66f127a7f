import type { Clock } from '../clock';
import type { RateLimit } from './web-config';

/**
 * exporter-toolkit's rate_limit: a token bucket (Go's rate.Limiter) that holds up to `burst`
 * requests and refills one token per interval.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly clock: Clock,
  ) {
    this.tokens = limit.burst;
    this.last = clock.monotonic();
  }

  /** True when a request may go ahead now, using up one token. */
  take(): boolean {
    const now = this.clock.monotonic();
    this.tokens = Math.min(this.limit.burst, this.tokens + (now - this.last) / this.limit.intervalMs);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
