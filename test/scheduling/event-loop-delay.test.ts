/**
 * The watcher on this process's own event loop: blocked by busy-waiting, then left idle. Bounds
 * are loose on the idle side (a busy CI machine delays timers too) and decided by the blocking.
 */
import { watchEventLoopDelay } from '../../src/scheduling/event-loop-delay';
import { keepLoopLate } from '../support/busy-loop';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('watchEventLoopDelay', () => {
  it('reports a late loop as a delay of tens of ms, an idle one as nearly none, once per window until stopped', async () => {
    const windows: number[] = [];
    const stop = watchEventLoopDelay(300, (delayMs) => { windows.push(delayMs); });
    try {
      // First window: the loop busy for 40 ms at a time, with a turn of the loop between.
      await keepLoopLate(280, 40);
      await sleep(50);
      // Second and third windows: idle.
      await sleep(600);
    } finally {
      stop();
    }
    expect(windows.length).toBeGreaterThanOrEqual(2);
    const [blocked, ...idle] = windows;
    // Each sample waited out most of a 40 ms block: the mean is well past the 10 ms period.
    expect(blocked).toBeGreaterThan(10);
    expect(Math.min(...idle)).toBeLessThan((blocked ?? 0) / 2);
    for (const delay of windows) expect(delay).toBeGreaterThanOrEqual(0);

    const count = windows.length;
    await sleep(400);
    expect(windows).toHaveLength(count);
  }, 5000);
});
