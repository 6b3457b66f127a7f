/** Keeps the thread busy for `ms`: no timer or I/O callback runs meanwhile, as on a saturated daemon. */
export function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* spinning on purpose */ }
}

/** Keeps the event loop late for `totalMs`: busy `blockMs` at a time, with a turn of the loop between. */
export async function keepLoopLate(totalMs: number, blockMs: number): Promise<void> {
  const until = performance.now() + totalMs;
  while (performance.now() < until) {
    busyFor(blockMs);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
