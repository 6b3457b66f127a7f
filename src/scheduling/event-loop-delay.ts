import { monitorEventLoopDelay } from 'node:perf_hooks';

/** The monitor's period: its samples measure this much plus the delay. */
const RESOLUTION_MS = 10;

/**
 * Calls `onWindow` every `windowMs` with the mean event-loop delay over that window, in ms beyond
 * the monitor's period (0 on an idle loop). Returns the function that stops watching.
 */
export function watchEventLoopDelay(windowMs: number, onWindow: (delayMs: number) => void): () => void {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  const timer = setInterval(() => {
    // No sample in the window (mean NaN): the monitor's timer has not fired since the last reset, as just after enable().
    const mean = histogram.count === 0 ? RESOLUTION_MS : histogram.mean / 1e6;
    histogram.reset();
    onWindow(Math.max(0, mean - RESOLUTION_MS));
  }, windowMs);
  // Watching alone must not keep the process alive.
  timer.unref();
  return () => {
    clearInterval(timer);
    histogram.disable();
  };
}
