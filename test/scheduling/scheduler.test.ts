/**
 * The scheduler with real timers and short intervals (100-400 ms). Expected times are computed
 * from phaseOffset/nextSlot, so each test checks *when* runs happen, not only that they do.
 * Tolerances are generous on the late side (a busy CI event loop delays timers) and strict on
 * the early side (the scheduler must never run a job before its slot).
 */
import { systemClock, type Clock } from '../../src/clock';
import { Scheduler, type Job, type SchedulerOptions } from '../../src/scheduling/scheduler';
import { nextSlot, phaseOffset } from '../../src/scheduling/phase';

/** Longest a timer may fire after its slot before a test calls it late. */
const LATE_MS = 60;
/** Per-test budget: every test here must finish well under it. */
const TEST_TIMEOUT_MS = 3000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 5 ms, for at most `limitMs`; returns whether it became true. */
async function waitFor(condition: () => boolean, limitMs: number): Promise<boolean> {
  const until = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > until) return false;
    await sleep(5);
  }
  return true;
}

/** How far after its grid slot (offset + k * interval) time `t` is, in [0, interval). */
function lateness(t: number, key: string, intervalMs: number): number {
  const offset = phaseOffset(key, intervalMs);
  return (((t - offset) % intervalMs) + intervalMs) % intervalMs;
}

const schedulers: Scheduler[] = [];
/** Resolvers of jobs left hanging by a test, released after it so no run outlives the test. */
const hanging: (() => void)[] = [];

function createScheduler(options: Partial<SchedulerOptions> = {}): Scheduler {
  const scheduler = new Scheduler({ clock: systemClock, concurrency: 100, ...options });
  schedulers.push(scheduler);
  return scheduler;
}

afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.stop(0)));
  for (const release of hanging.splice(0)) release();
});

/** A job that records the start (and end) time of every run and takes `durationMs`. */
function recordingJob(key: string, intervalMs: number, durationMs = 0) {
  const starts: number[] = [];
  const ends: number[] = [];
  const job: Job = {
    key,
    intervalMs,
    run: async () => {
      starts.push(Date.now());
      if (durationMs > 0) await sleep(durationMs);
      ends.push(Date.now());
    },
  };
  return { job, starts, ends };
}

describe('Scheduler', () => {
  it('starts each job at its own phase slot, spreading first runs across the interval, when 20 jobs are synced at once', async () => {
    const interval = 300;
    const recorders = Array.from({ length: 20 }, (_, i) => recordingJob(`spread-${i}`, interval));
    const scheduler = createScheduler();
    const syncedAt = Date.now();
    scheduler.sync(recorders.map((r) => r.job));
    await sleep(interval + LATE_MS);

    for (const r of recorders) {
      const first = r.starts[0];
      expect(first).toBeDefined();
      const expected = nextSlot(syncedAt, phaseOffset(r.job.key, interval), interval);
      // Never before the slot; at most a timer's lateness after it.
      expect(first).toBeGreaterThanOrEqual(expected);
      expect(first).toBeLessThanOrEqual(expected + LATE_MS);
    }
    const times = recorders.map((r) => r.starts[0] ?? 0);
    // All at start would put every first run within a few ms of syncedAt.
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(150);
    expect(times.filter((t) => t - syncedAt < 30).length).toBeLessThan(10);
  }, TEST_TIMEOUT_MS);

  it('runs a job again every interval, on its phase grid, when it finishes quickly', async () => {
    const { job, starts } = recordingJob('repeat', 100);
    const scheduler = createScheduler();
    scheduler.sync([job]);
    await sleep(650);

    expect(starts.length).toBeGreaterThanOrEqual(5);
    expect(starts.length).toBeLessThanOrEqual(7);
    for (const t of starts) expect(lateness(t, 'repeat', 100)).toBeLessThan(LATE_MS);
    for (let i = 1; i < starts.length; i++) {
      const gap = (starts[i] ?? 0) - (starts[i - 1] ?? 0);
      expect(gap).toBeGreaterThanOrEqual(100 - LATE_MS);
      expect(gap).toBeLessThanOrEqual(100 + LATE_MS);
    }
  }, TEST_TIMEOUT_MS);

  it('never runs more than `concurrency` jobs at once, and reaches the cap, when slow jobs outnumber it', async () => {
    const concurrency = 3;
    let running = 0;
    let maxRunning = 0;
    let maxActive = 0;
    const runs = new Map<string, number>();
    const scheduler = createScheduler({ concurrency });
    // 8 jobs x 150 ms every 250 ms want ~4.8 runs at once: more than the cap allows.
    const jobs: Job[] = Array.from({ length: 8 }, (_, i) => ({
      key: `cap-${i}`,
      intervalMs: 250,
      run: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        maxActive = Math.max(maxActive, scheduler.active);
        runs.set(`cap-${i}`, (runs.get(`cap-${i}`) ?? 0) + 1);
        await sleep(150);
        running--;
      },
    }));
    scheduler.sync(jobs);
    await sleep(1300);

    expect(maxRunning).toBe(concurrency);
    expect(maxActive).toBeLessThanOrEqual(concurrency);
    // Queued jobs are not starved: every job got at least one run.
    for (const job of jobs) expect(runs.get(job.key) ?? 0).toBeGreaterThanOrEqual(1);
  }, TEST_TIMEOUT_MS);

  it('starts no more than setLimit() allows, clamped to 1..concurrency, and starts the waiting runs as soon as the limit rises', async () => {
    const scheduler = createScheduler({ concurrency: 6 });
    scheduler.setLimit(2);
    expect(scheduler.currentLimit).toBe(2);
    // Each run hangs until the test lets it go: only the limit decides how many start.
    const jobs: Job[] = Array.from({ length: 6 }, (_, i) => ({
      key: `limit-${i}`,
      intervalMs: 200,
      run: () => new Promise<void>((resolve) => { hanging.push(resolve); }),
    }));
    scheduler.sync(jobs);
    await sleep(200 + LATE_MS);
    expect(scheduler.active).toBe(2);

    scheduler.setLimit(100);
    expect(scheduler.currentLimit).toBe(6);
    // setLimit drains at once: the four waiting runs start before any timer fires.
    expect(scheduler.active).toBe(6);

    scheduler.setLimit(0);
    expect(scheduler.currentLimit).toBe(1);
    // Lowering the limit stops no running job.
    expect(scheduler.active).toBe(6);
  }, TEST_TIMEOUT_MS);

  it('skips a slot and calls onSkip, never running the job twice at once, when a run outlasts its interval', async () => {
    const skips: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const starts: number[] = [];
    const ends: number[] = [];
    const scheduler = createScheduler({ onSkip: (key) => skips.push(key) });
    scheduler.sync([
      {
        key: 'slow',
        intervalMs: 100,
        run: async () => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          starts.push(Date.now());
          await sleep(250);
          ends.push(Date.now());
          inFlight--;
        },
      },
    ]);
    await sleep(900);

    expect(maxInFlight).toBe(1);
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(skips.length).toBeGreaterThanOrEqual(2);
    expect(new Set(skips)).toEqual(new Set(['slow']));
    for (let i = 1; i < starts.length; i++) expect(starts[i]).toBeGreaterThanOrEqual(ends[i - 1] ?? Infinity);
    // After a skipped slot the next run waits for the grid instead of starting the moment the last run ends.
    for (const t of starts) expect(lateness(t, 'slow', 100)).toBeLessThan(LATE_MS);
  }, TEST_TIMEOUT_MS);

  it('stops running a job when sync() is called without it, and keeps running the others', async () => {
    const stay = recordingJob('stay', 100);
    const go = recordingJob('go', 100);
    const scheduler = createScheduler();
    scheduler.sync([stay.job, go.job]);
    expect(await waitFor(() => stay.starts.length > 0 && go.starts.length > 0, 500)).toBe(true);

    // Counted, not timed: a start recorded in the same millisecond just before sync() is not a start after it.
    const goStarts = go.starts.length;
    const stayStarts = stay.starts.length;
    scheduler.sync([stay.job]);
    await sleep(400);

    expect(go.starts.length).toBe(goStarts);
    expect(stay.starts.length - stayStarts).toBeGreaterThanOrEqual(3);
  }, TEST_TIMEOUT_MS);

  describe('with one slot (concurrency 1) held by a long run', () => {
    const interval = 400;
    const blockerKey = 'blocker';
    const blockerOffset = phaseOffset(blockerKey, interval);
    /** A key whose slot comes 30-120 ms after the blocker's, so it finds the one slot busy. */
    const queuedKey = ((): string => {
      for (let i = 0; i < 10_000; i++) {
        const key = `queued-${i}`;
        const delta = (phaseOffset(key, interval) - blockerOffset + interval) % interval;
        if (delta >= 30 && delta <= 120) return key;
      }
      throw new Error('no key with a suitable phase');
    })();
    const queuedDelta = (phaseOffset(queuedKey, interval) - blockerOffset + interval) % interval;

    async function startBlocked(): Promise<{
      scheduler: Scheduler;
      blocker: ReturnType<typeof recordingJob>;
      queued: ReturnType<typeof recordingJob>;
      blockerStart: number;
    }> {
      const blocker = recordingJob(blockerKey, interval, 300);
      const queued = recordingJob(queuedKey, interval);
      const scheduler = createScheduler({ concurrency: 1 });
      scheduler.sync([blocker.job, queued.job]);
      expect(await waitFor(() => blocker.starts.length > 0, interval + LATE_MS)).toBe(true);
      const blockerStart = blocker.starts[0] ?? 0;
      // Past the queued job's slot, well before the blocker's run ends.
      await sleep(blockerStart + queuedDelta + 30 - Date.now());
      expect(scheduler.active).toBe(1);
      expect(queued.starts.filter((t) => t >= blockerStart)).toEqual([]);
      return { scheduler, blocker, queued, blockerStart };
    }

    it('runs a waiting job as soon as the slot frees when its own slot came while the cap was reached', async () => {
      const { blocker, queued, blockerStart } = await startBlocked();
      expect(await waitFor(() => queued.starts.some((t) => t >= blockerStart), 500)).toBe(true);

      const blockerEnd = blocker.ends[0] ?? Infinity;
      const queuedStart = queued.starts.find((t) => t >= blockerStart) ?? 0;
      expect(queuedStart).toBeGreaterThanOrEqual(blockerEnd);
      expect(queuedStart - blockerEnd).toBeLessThan(LATE_MS);
    }, TEST_TIMEOUT_MS);

    it('never runs a waiting job when sync() removes it before the slot frees', async () => {
      const { scheduler, blocker, queued, blockerStart } = await startBlocked();
      scheduler.sync([blocker.job]);
      await sleep(450);

      expect(blocker.ends.length).toBeGreaterThanOrEqual(1);
      expect(queued.starts.filter((t) => t >= blockerStart)).toEqual([]);
    }, TEST_TIMEOUT_MS);
  });

  it('keeps the phase and uses the new run function when sync() is called again with the same key', async () => {
    const first = recordingJob('keep', 200);
    const second = recordingJob('keep', 200);
    const scheduler = createScheduler();
    scheduler.sync([first.job]);
    expect(await waitFor(() => first.starts.length > 0, 200 + LATE_MS)).toBe(true);
    // The grid slot of the first run (the run itself may have started a few ms after it).
    const firstRun = (first.starts[0] ?? 0) - lateness(first.starts[0] ?? 0, 'keep', 200);

    // Mid-interval: a reset phase would run now or at now + 200, both ~100 ms off the grid.
    await sleep(firstRun + 100 - Date.now());
    scheduler.sync([second.job]);
    expect(await waitFor(() => second.starts.length > 0, 200 + LATE_MS)).toBe(true);

    const next = second.starts[0] ?? 0;
    expect(next).toBeGreaterThanOrEqual(firstRun + 200);
    expect(next).toBeLessThan(firstRun + 200 + LATE_MS);
    expect(first.starts).toHaveLength(1);
  }, TEST_TIMEOUT_MS);

  it('runs on the new interval when sync() changes the interval of a key', async () => {
    const slow = recordingJob('retime', 5000);
    const fast = recordingJob('retime', 100);
    const scheduler = createScheduler();
    scheduler.sync([slow.job]);
    scheduler.sync([fast.job]);
    await sleep(450);

    expect(slow.starts).toEqual([]);
    expect(fast.starts.length).toBeGreaterThanOrEqual(3);
    for (const t of fast.starts) expect(lateness(t, 'retime', 100)).toBeLessThan(LATE_MS);
  }, TEST_TIMEOUT_MS);

  it('starts no run while held, and starts the waiting one as soon as the hold is released', async () => {
    const interval = 200;
    const r = recordingJob('held', interval);
    const scheduler = createScheduler();
    const release = scheduler.hold();
    scheduler.sync([r.job]);
    // Past the first slot, well within the hold limit (1 s).
    await sleep(interval + LATE_MS);
    expect(r.starts).toEqual([]);
    const releasedAt = Date.now();
    release();
    expect(await waitFor(() => r.starts.length === 1, LATE_MS)).toBe(true);
    expect(r.starts[0]).toBeGreaterThanOrEqual(releasedAt);
    // A second release of the same hold does not undo another one.
    const other = scheduler.hold();
    release();
    await sleep(interval + LATE_MS);
    expect(r.starts).toHaveLength(1);
    other();
    expect(await waitFor(() => r.starts.length === 2, LATE_MS)).toBe(true);
  }, TEST_TIMEOUT_MS);

  it('starts a held run once it has waited holdLimitMs, when the hold is never released', async () => {
    const interval = 400;
    const holdLimitMs = 150;
    const r = recordingJob('held-too-long', interval);
    const scheduler = createScheduler({ holdLimitMs });
    scheduler.hold();
    const syncedAt = Date.now();
    scheduler.sync([r.job]);
    const slot = nextSlot(syncedAt, phaseOffset(r.job.key, interval), interval);
    expect(await waitFor(() => r.starts.length === 1, interval + holdLimitMs + LATE_MS)).toBe(true);
    expect(r.starts[0]).toBeGreaterThanOrEqual(slot + holdLimitMs);
    expect(r.starts[0]).toBeLessThanOrEqual(slot + holdLimitMs + LATE_MS);
  }, TEST_TIMEOUT_MS);

  it('starts the runs due within one batch window together, by its end and never before a slot', async () => {
    const interval = 400;
    const batchWindowMs = 100;
    const recorders = Array.from({ length: 12 }, (_, i) => recordingJob(`batch-${i}`, interval));
    const scheduler = createScheduler({ batchWindowMs });
    const syncedAt = Date.now();
    scheduler.sync(recorders.map((r) => r.job));
    await sleep(interval + batchWindowMs + LATE_MS);
    for (const r of recorders) {
      const first = r.starts[0];
      expect(first).toBeDefined();
      const slot = nextSlot(syncedAt, phaseOffset(r.job.key, interval), interval);
      expect(first).toBeGreaterThanOrEqual(slot);
      expect(first).toBeLessThanOrEqual(Math.ceil(slot / batchWindowMs) * batchWindowMs + LATE_MS);
    }
    // 12 slots spread over 400 ms fall into at most 5 windows: several start on one wakeup.
    expect(new Set(recorders.map((r) => r.starts[0])).size).toBeLessThanOrEqual(8);
  }, TEST_TIMEOUT_MS);

  it('keeps scheduling a job when its run rejects', async () => {
    let runs = 0;
    const skips: string[] = [];
    const scheduler = createScheduler({ onSkip: (key) => skips.push(key) });
    scheduler.sync([
      {
        key: 'rejects',
        intervalMs: 100,
        run: () => {
          runs++;
          return Promise.reject(new Error('boom'));
        },
      },
    ]);
    await sleep(450);

    expect(runs).toBeGreaterThanOrEqual(3);
    expect(skips).toEqual([]);
    expect(scheduler.active).toBe(0);
  }, TEST_TIMEOUT_MS);

  it('reads time from the injected clock when computing slots', async () => {
    // A clock 10 s ahead: slots are on its grid, and timers still fire after the real delay.
    const skew = 10_000;
    const clock: Clock = { now: () => Date.now() + skew, monotonic: () => systemClock.monotonic() };
    const { job, starts } = recordingJob('skewed', 200);
    const scheduler = createScheduler({ clock });
    const syncedAt = clock.now();
    scheduler.sync([job]);
    expect(await waitFor(() => starts.length > 0, 200 + LATE_MS)).toBe(true);

    const expected = nextSlot(syncedAt, phaseOffset('skewed', 200), 200);
    const first = (starts[0] ?? 0) + skew;
    expect(first).toBeGreaterThanOrEqual(expected);
    expect(first).toBeLessThan(expected + LATE_MS);
  }, TEST_TIMEOUT_MS);

  it('runs the missed slot once and then returns to the grid when the clock leaps ahead by several intervals', async () => {
    let skew = 0;
    const clock: Clock = { now: () => Date.now() + skew, monotonic: () => systemClock.monotonic() };
    const starts: number[] = [];
    const scheduler = createScheduler({ clock });
    scheduler.sync([{ key: 'leap', intervalMs: 200, run: () => { starts.push(clock.now()); return Promise.resolve(); } }]);
    expect(await waitFor(() => starts.length > 0, 200 + LATE_MS)).toBe(true);
    // The grid slot of the first run (the run itself may have started a few ms after it).
    const first = (starts[0] ?? 0) - lateness(starts[0] ?? 0, 'leap', 200);

    // 5.5 intervals pass in an instant (a suspended VM, a stepped clock): five slots are missed.
    skew = 1100;
    await sleep(550);

    const [catchUp, ...afterwards] = starts.slice(1);
    // The pending slot (first + 200) fires once, late; the missed ones are not replayed as a burst.
    // (Its real timer may fire a ms before Date.now() reaches the slot, hence the small slack.)
    expect(catchUp).toBeGreaterThanOrEqual(first + 1300 - 5);
    expect(catchUp).toBeLessThan(first + 1300 + LATE_MS);
    // Then back on the phase grid (first + 1400, first + 1600), not "catch-up time + interval".
    expect(afterwards.length).toBeGreaterThanOrEqual(2);
    for (const t of afterwards) {
      expect(t).toBeGreaterThanOrEqual(first + 1400);
      expect(lateness(t, 'leap', 200)).toBeLessThan(LATE_MS);
    }
  }, TEST_TIMEOUT_MS);

  describe('stop()', () => {
    it('waits for the running job to finish and starts no more runs', async () => {
      const { job, starts, ends } = recordingJob('draining', 100, 250);
      const scheduler = createScheduler();
      scheduler.sync([job]);
      expect(await waitFor(() => starts.length > 0, 100 + LATE_MS)).toBe(true);

      const stopCalled = Date.now();
      await scheduler.stop(2000);
      const stopped = Date.now();

      expect(ends.length).toBe(1);
      expect(stopped).toBeGreaterThanOrEqual(ends[0] ?? Infinity);
      expect(stopped - (ends[0] ?? 0)).toBeLessThan(LATE_MS);
      expect(stopped - stopCalled).toBeLessThan(400);
      expect(scheduler.active).toBe(0);

      await sleep(300);
      expect(starts.length).toBe(1);
    }, TEST_TIMEOUT_MS);

    it('returns at the deadline when a running job hangs, and starts nothing after', async () => {
      const starts: number[] = [];
      const scheduler = createScheduler();
      scheduler.sync([
        {
          key: 'hangs',
          intervalMs: 100,
          run: () => {
            starts.push(Date.now());
            return new Promise<void>((resolve) => {
              hanging.push(resolve);
            });
          },
        },
      ]);
      expect(await waitFor(() => starts.length > 0, 100 + LATE_MS)).toBe(true);

      const stopCalled = Date.now();
      await scheduler.stop(200);
      const elapsed = Date.now() - stopCalled;
      expect(elapsed).toBeGreaterThanOrEqual(190);
      expect(elapsed).toBeLessThan(200 + 300);
      expect(scheduler.active).toBe(1);

      // Once the hung run finishes, the stopped scheduler must still not start another.
      for (const release of hanging.splice(0)) release();
      await sleep(250);
      expect(starts.length).toBe(1);
      expect(scheduler.active).toBe(0);
    }, TEST_TIMEOUT_MS);

    it('resolves at once and no job runs when nothing is running', async () => {
      const recorders = Array.from({ length: 5 }, (_, i) => recordingJob(`idle-${i}`, 100));
      const scheduler = createScheduler();
      scheduler.sync(recorders.map((r) => r.job));

      const stopCalled = Date.now();
      await scheduler.stop(1000);
      expect(Date.now() - stopCalled).toBeLessThan(50);

      await sleep(250);
      for (const r of recorders) expect(r.starts).toEqual([]);
    }, TEST_TIMEOUT_MS);

    it('does not start jobs that were waiting for a free slot when stop() is called', async () => {
      const long = recordingJob('long-runner', 100, 300);
      const waiting = Array.from({ length: 4 }, (_, i) => recordingJob(`waiter-${i}`, 100));
      const scheduler = createScheduler({ concurrency: 1 });
      scheduler.sync([long.job, ...waiting.map((w) => w.job)]);
      expect(await waitFor(() => long.starts.length > 0, 100 + LATE_MS)).toBe(true);
      const longStart = long.starts[0] ?? 0;
      // Every waiter's slot comes within 100 ms, while the long run holds the only slot.
      await sleep(longStart + 120 - Date.now());

      await scheduler.stop(1000);
      await sleep(150);
      for (const w of waiting) expect(w.starts.filter((t) => t > longStart)).toEqual([]);
    }, TEST_TIMEOUT_MS);
  });
});
