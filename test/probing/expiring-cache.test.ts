import type { Clock } from '../../src/clock';
import { ExpiringCache } from '../../src/probing/expiring-cache';

/** A clock the test moves by hand. */
function manualClock(): Clock & { at: number } {
  const clock = { at: 1_000_000, now: () => clock.at, monotonic: () => clock.at };
  return clock;
}

describe('ExpiringCache', () => {
  it('loads once for callers asking at the same time, and again only after the answer expires', async () => {
    const clock = manualClock();
    const cache = new ExpiringCache<string>(clock, 10, (_value, now) => ({ until: now + 100, weight: 1 }));
    let loads = 0;
    const load = (): Promise<string> => Promise.resolve(`answer ${++loads}`);
    expect(await Promise.all([cache.get('k', load), cache.get('k', load), cache.get('k', load)])).toEqual(['answer 1', 'answer 1', 'answer 1']);
    clock.at += 99;
    expect(await cache.get('k', load)).toBe('answer 1');
    clock.at += 1;
    expect(await cache.get('k', load)).toBe('answer 2');
    expect(loads).toBe(2);
  });

  it('drops the answers stored longest ago once their weights pass the capacity, never the one just stored', async () => {
    const clock = manualClock();
    const cache = new ExpiringCache<number>(clock, 5, (weight, now) => ({ until: now + 1_000, weight }));
    const loads: string[] = [];
    const get = (key: string, weight: number): Promise<number> => cache.get(key, () => {
      loads.push(key);
      return Promise.resolve(weight);
    });
    await get('a', 2);
    await get('b', 2);
    await get('c', 3); // 7 > 5: a goes, 5 left
    await get('b', 2);
    await get('c', 3);
    expect(loads).toEqual(['a', 'b', 'c']);
    await get('a', 2); // reloaded; 7 > 5: b goes
    await get('d', 9); // alone over the capacity: everything else goes, d stays
    await get('d', 9);
    await get('c', 3);
    expect(loads).toEqual(['a', 'b', 'c', 'a', 'd', 'c']);
  });
});
