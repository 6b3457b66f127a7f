/**
 * A bound on /probe requests probing at once, apart from the scheduler's own: scrapes of /probe,
 * however many, then cannot take the sockets and CPU scheduled probes need. A request waits in
 * order for a slot, but only as long as its signal allows.
 */
export class ProbeSlots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** True once a slot is held (give it back with release()), false when `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<boolean> {
    if (this.used < this.limit) {
      this.used++;
      return Promise.resolve(true);
    }
    if (signal.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      };
      const onAbort = (): void => {
        const index = this.waiting.indexOf(grant);
        if (index >= 0) this.waiting.splice(index, 1);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  /** Hands the slot to the longest waiter, or frees it. */
  release(): void {
    const next = this.waiting.shift();
    if (next === undefined) this.used--;
    else next();
  }
}
