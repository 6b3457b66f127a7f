import { stableHash } from './stable-hash';

/**
 * A stable offset in [0, intervalMs) from the job's key, like Prometheus' scrape offsets: first
 * probes spread across the interval instead of bursting at start, and a target keeps its slot
 * across reloads and restarts.
 */
export function phaseOffset(key: string, intervalMs: number): number {
  return Math.floor((stableHash(key) / 0x1_0000_0000) * intervalMs);
}

/** The first time at or after `now` on the grid offset + k * interval. */
export function nextSlot(now: number, offset: number, intervalMs: number): number {
  const k = Math.ceil((now - offset) / intervalMs);
  return offset + k * intervalMs;
}
