import type { Clock } from '../clock';
import { MinHeap } from './min-heap';
import { nextSlot, phaseOffset } from './phase';

export interface Job {
  /** Stable identity: a job with the same key keeps its slot across sync() calls. */
  readonly key: string;
  readonly intervalMs: number;
  /** Must not throw; the scheduler does not judge outcomes. */
  run(): Promise<void>;
}

export interface SchedulerOptions {
  readonly clock: Clock;
  /** Probes allowed at once across all targets; setLimit() may lower it for a while. */
  readonly concurrency: number;
  /** Called when a job's slot comes while its previous run is still going (the run is skipped). */
  readonly onSkip?: (key: string) => void;
  /** Longest a hold() keeps a due run waiting; DEFAULT_HOLD_LIMIT_MS unless set. */
  readonly holdLimitMs?: number;
  /**
   * Runs due within one window of this many ms (on the clock's grid) start together at its end:
   * one timer wakeup for several handshakes costs less CPU each than a wakeup per handshake.
   * 0 (the default): each run starts at its slot.
   */
  readonly batchWindowMs?: number;
}

interface Slot {
  job: Job;
  offset: number;
  dueAt: number;
  /** Bumped when the slot is rescheduled or removed: heap entries with an old version are stale. */
  version: number;
  busy: boolean;
  removed: boolean;
  /** When the slot last joined the line of runs waiting to start. */
  queuedAt: number;
}

interface HeapEntry {
  readonly slot: Slot;
  readonly dueAt: number;
  readonly version: number;
}

/** Longest setTimeout Node accepts; longer waits are taken in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A held run starts at most this late: a second is nothing next to an interval, and runs due
 * while renders follow one another still start.
 */
const DEFAULT_HOLD_LIMIT_MS = 1000;

/**
 * Runs every job on its own interval, at a stable offset, never two runs of one job at once,
 * and never more than `concurrency` runs in all (the rest wait in FIFO order).
 */
export class Scheduler {
  private readonly slots = new Map<string, Slot>();
  private readonly heap = new MinHeap<HeapEntry>((a, b) => a.dueAt < b.dueAt);
  private readonly waiting: Slot[] = [];
  private running = 0;
  private limit: number;
  private holds = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Wakes drain() when the first waiting run has been held for the hold limit. */
  private holdTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: SchedulerOptions) {
    this.limit = options.concurrency;
  }

  get active(): number {
    return this.running;
  }

  /** Runs allowed at once now: the configured concurrency, or less since setLimit(). */
  get currentLimit(): number {
    return this.limit;
  }

  /** Allows `limit` runs at once, at least 1 and at most the configured concurrency; running ones go on. */
  setLimit(limit: number): void {
    this.limit = Math.max(1, Math.min(this.options.concurrency, Math.floor(limit)));
    this.drain();
  }

  /** Makes the job set exactly `jobs`: new ones get a slot, changed ones keep theirs, missing ones go. */
  sync(jobs: readonly Job[]): void {
    const now = this.options.clock.now();
    const keep = new Set(jobs.map((j) => j.key));
    for (const [key, slot] of this.slots) {
      if (keep.has(key)) continue;
      slot.removed = true;
      slot.version++;
      this.slots.delete(key);
    }
    for (const job of jobs) {
      const existing = this.slots.get(job.key);
      if (existing !== undefined && existing.job.intervalMs === job.intervalMs) {
        existing.job = job;
        continue;
      }
      const offset = phaseOffset(job.key, job.intervalMs);
      const slot: Slot = existing ?? { job, offset, dueAt: 0, version: 0, busy: false, removed: false, queuedAt: 0 };
      slot.job = job;
      slot.offset = offset;
      this.slots.set(job.key, slot);
      this.schedule(slot, nextSlot(now, offset, job.intervalMs));
    }
    this.arm();
  }

  /**
   * Starts no run until the returned release is called, unless one has waited the hold limit:
   * for the few hundred milliseconds of a /metrics body at thousands of targets. Handshakes
   * started meanwhile would be timed across its slices of work, and would stretch it.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.drain();
    };
  }

  /** Stops starting runs and resolves once the running ones finish, or at `deadlineMs`. */
  async stop(deadlineMs: number): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    this.heap.clear();
    for (const slot of this.waiting.splice(0)) slot.busy = false;
    if (this.running === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, deadlineMs);
      this.idleWaiters.push(() => { clearTimeout(timer); resolve(); });
    });
  }

  private schedule(slot: Slot, dueAt: number): void {
    slot.dueAt = dueAt;
    slot.version++;
    this.heap.push({ slot, dueAt, version: slot.version });
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.heap.peek();
    if (next === undefined) return;
    const window = this.options.batchWindowMs ?? 0;
    const startAt = window > 0 ? Math.ceil(next.dueAt / window) * window : next.dueAt;
    const delay = Math.min(Math.max(0, startAt - this.options.clock.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => { this.tick(); }, delay);
    // The scheduler alone must not keep the process alive: the web server does that.
    this.timer.unref();
  }

  private tick(): void {
    const now = this.options.clock.now();
    for (let entry = this.heap.peek(); entry !== undefined && entry.dueAt <= now; entry = this.heap.peek()) {
      this.heap.pop();
      const { slot } = entry;
      if (slot.removed || entry.version !== slot.version) continue;
      // Catch up to the grid: after a long stall, the next run is one interval ahead, not a burst.
      this.schedule(slot, nextSlot(now + 1, slot.offset, slot.job.intervalMs));
      if (slot.busy) {
        this.options.onSkip?.(slot.job.key);
        continue;
      }
      slot.busy = true;
      slot.queuedAt = now;
      this.waiting.push(slot);
    }
    this.drain();
    this.arm();
  }

  private drain(): void {
    while (!this.stopped && this.running < this.limit) {
      const slot = this.waiting[0];
      if (slot === undefined) return;
      if (this.holds > 0 && !slot.removed && this.stillHeld(slot)) return;
      this.waiting.shift();
      if (slot.removed) continue;
      this.running++;
      void slot.job.run().catch(() => undefined).finally(() => {
        this.running--;
        slot.busy = false;
        if (this.running === 0) for (const wake of this.idleWaiters.splice(0)) wake();
        this.drain();
      });
    }
  }

  /** Whether a hold still keeps `slot` (first in line) waiting; if so, drain() runs again when it no longer does. */
  private stillHeld(slot: Slot): boolean {
    const wait = slot.queuedAt + (this.options.holdLimitMs ?? DEFAULT_HOLD_LIMIT_MS) - this.options.clock.now();
    if (wait <= 0) return false;
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      this.drain();
    }, wait);
    this.holdTimer.unref();
    return true;
  }
}
