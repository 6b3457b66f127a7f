import { probeBudgetMs } from '../../src/web/probe-budget';
import { ProbeSlots } from '../../src/web/probe-slots';

describe('probeBudgetMs', () => {
  it.each<[number, string | undefined, number, number]>([
    [10_000, undefined, 500, 10_000],
    [10_000, '1.5', 500, 1000],
    [10_000, '15', 500, 10_000],
    [2000, '10', 500, 2000],
    [10_000, '0.4', 500, 200],
    [10_000, '3', 0, 3000],
  ])('target timeout %d ms, header %j, offset %d ms: %d ms', (timeout, header, offset, expected) => {
    expect(probeBudgetMs(timeout, header, offset)).toEqual({ budgetMs: expected });
  });

  it.each([['abc'], ['0'], ['-1'], [''], ['1e3'], [['1', '2']]])('refuses the header %j', (header) => {
    const budget = probeBudgetMs(10_000, header, 500);
    expect('error' in budget ? budget.error : budget).toMatch(/^X-Prometheus-Scrape-Timeout-Seconds .*: want one positive number of seconds$/);
  });
});

describe('ProbeSlots', () => {
  it('holds at most the limit, hands a freed slot to the first waiter, and lets a waiter give up', async () => {
    const slots = new ProbeSlots(2);
    const never = new AbortController().signal;
    expect(await slots.acquire(never)).toBe(true);
    expect(await slots.acquire(never)).toBe(true);
    const giveUp = new AbortController();
    const first = slots.acquire(giveUp.signal);
    const second = slots.acquire(never);
    giveUp.abort();
    expect(await first).toBe(false);
    slots.release();
    expect(await second).toBe(true);
    // Still two held: a third waits until its signal ends.
    expect(await slots.acquire(AbortSignal.timeout(20))).toBe(false);
    slots.release();
    slots.release();
    expect(await slots.acquire(AbortSignal.abort())).toBe(true);
  });
});
