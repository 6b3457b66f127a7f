import { nextSlot, phaseOffset } from '../../src/scheduling/phase';
import { seeded } from '../support/seeded-random';


describe('phaseOffset', () => {
  it('returns the same offset when called again with the same key and interval', () => {
    for (const key of ['shop', 'example.com:443', '[::1]:8443', '']) {
      expect(phaseOffset(key, 60_000)).toBe(phaseOffset(key, 60_000));
    }
  });

  it('keeps a known key on the same slot when the process restarts (the hash is part of the contract with dashboards)', () => {
    // Pinned values: a change of hash would move every target's probe time on upgrade.
    expect(phaseOffset('shop', 300_000)).toBe(165_893);
    expect(phaseOffset('example.com:443', 60_000)).toBe(10_680);
    expect(phaseOffset('[::1]:8443', 1000)).toBe(348);
  });

  it('returns an integer in [0, interval) when given many keys and intervals', () => {
    for (const interval of [1, 2, 7, 100, 1000, 60_000, 86_400_000]) {
      for (let i = 0; i < 200; i++) {
        const offset = phaseOffset(`target-${i}`, interval);
        expect(Number.isInteger(offset)).toBe(true);
        expect(offset).toBeGreaterThanOrEqual(0);
        expect(offset).toBeLessThan(interval);
      }
    }
  });

  it('returns 0 when the interval is 1 ms', () => {
    expect(phaseOffset('anything', 1)).toBe(0);
  });

  it('covers all 10 deciles of the interval when given 1000 keys', () => {
    const interval = 1000;
    const deciles = new Array<number>(10).fill(0);
    for (let i = 0; i < 1000; i++) {
      const offset = phaseOffset(`host-${i}.example.com:443`, interval);
      const decile = Math.floor(offset / 100);
      deciles[decile] = (deciles[decile] ?? 0) + 1;
    }
    // A uniform spread puts ~100 in each; a clustered one (e.g. all at 0) leaves deciles empty.
    for (const count of deciles) {
      expect(count).toBeGreaterThan(60);
      expect(count).toBeLessThan(140);
    }
  });

  it('gives distinct keys distinct offsets when the interval is large', () => {
    const offsets = new Set<number>();
    for (let i = 0; i < 1000; i++) offsets.add(phaseOffset(`k${i}`, 86_400_000));
    expect(offsets.size).toBeGreaterThan(990);
  });

  it('scales with the interval when the same key is used with another interval', () => {
    // Same hash fraction: the offset over 2x the interval is about twice as far in.
    const small = phaseOffset('shop', 1_000_000);
    const large = phaseOffset('shop', 2_000_000);
    expect(Math.abs(large - 2 * small)).toBeLessThanOrEqual(2);
  });
});

describe('nextSlot', () => {
  it.each<[string, number, number, number, number]>([
    ['returns the next grid point', 1000, 250, 1000, 1250],
    ['returns now when now is on the grid', 1250, 250, 1000, 1250],
    ['returns the following slot when now is 1 ms past the grid', 1251, 250, 1000, 2250],
    ['returns the offset when now is before the first slot', 0, 250, 1000, 250],
    ['returns now when the offset is 0 and now is a multiple', 5000, 0, 1000, 5000],
    ['returns the offset + k*interval when now is large', 1_700_000_000_123, 40_000, 60_000, 1_700_000_020_000],
  ])('%s (now=%d offset=%d interval=%d)', (_label, now, offset, interval, expected) => {
    expect(nextSlot(now, offset, interval)).toBe(expected);
  });

  it('returns a slot at or after now, less than one interval ahead and on the offset grid when given random inputs', () => {
    const random = seeded(42);
    for (let i = 0; i < 2000; i++) {
      const interval = 1 + Math.floor(random() * 100_000);
      const offset = Math.floor(random() * interval);
      const now = Math.floor(random() * 2_000_000_000_000);
      const slot = nextSlot(now, offset, interval);
      expect(slot).toBeGreaterThanOrEqual(now);
      expect(slot - now).toBeLessThan(interval);
      expect((slot - offset) % interval).toBe(0);
    }
  });
});
