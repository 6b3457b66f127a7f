import { performance } from 'node:perf_hooks';

/** The program's only view of time, so that tests and `verify --at` can set it. */
export interface Clock {
  /** Wall-clock epoch milliseconds: certificate dates are compared with this. */
  now(): number;
  /** Monotonic milliseconds: durations are measured with this, immune to clock steps. */
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};
