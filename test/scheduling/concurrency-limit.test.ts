import { ConcurrencyLimit, MIN_LIMIT } from '../../src/scheduling/concurrency-limit';

/** The limits after each window's delay, in order. */
const run = (limit: ConcurrencyLimit, delays: readonly number[]): number[] => delays.map((delay) => limit.observe(delay));

describe('ConcurrencyLimit', () => {
  it('starts at the configured maximum and keeps it while the event loop is calm', () => {
    const limit = new ConcurrencyLimit({ max: 256, targetDelayMs: 10 });
    expect(limit.current).toBe(256);
    expect(run(limit, [0, 1, 5])).toEqual([256, 256, 256]);
  });

  it('comes down by a fifth per late window, to MIN_LIMIT and no lower', () => {
    const limit = new ConcurrencyLimit({ max: 256, targetDelayMs: 10 });
    expect(run(limit, [11, 11, 50])).toEqual([204, 163, 130]);
    expect(run(limit, Array.from({ length: 30 }, () => 1000)).at(-1)).toBe(MIN_LIMIT);
  });

  it('holds between half the target and the target, and rises by a tenth (at least 1) per calm window, back to the maximum', () => {
    const limit = new ConcurrencyLimit({ max: 40, targetDelayMs: 10 });
    for (let i = 0; i < 10; i++) limit.observe(100);
    expect(limit.current).toBe(MIN_LIMIT);
    expect(run(limit, [5.1, 10])).toEqual([MIN_LIMIT, MIN_LIMIT]);
    expect(run(limit, [5, 0, 0])).toEqual([18, 20, 22]);
    expect(run(limit, Array.from({ length: 20 }, () => 0)).at(-1)).toBe(40);
  });

  it('never goes below a maximum smaller than MIN_LIMIT, nor above it', () => {
    const limit = new ConcurrencyLimit({ max: 4, targetDelayMs: 10 });
    expect(run(limit, [100, 100, 0, 0])).toEqual([4, 4, 4, 4]);
  });
});
