import { InternPool } from '../src/intern-pool';

describe('InternPool', () => {
  it('makes a value once per key and hands the same object back', () => {
    const pool = new InternPool<{ n: number }>(10);
    let made = 0;
    const make = (): { n: number } => ({ n: ++made });
    const first = pool.get('a', make);
    expect(pool.get('a', make)).toBe(first);
    expect(pool.get('b', make)).not.toBe(first);
    expect(made).toBe(2);
  });

  it('starts again from empty at its bound, so it never holds more than that', () => {
    const pool = new InternPool<string>(2);
    let made = 0;
    const make = (): string => `v${++made}`;
    pool.get('a', make);
    pool.get('b', make);
    pool.get('c', make);
    expect(made).toBe(3);
    // 'a' went with the reset: asked again, it is made again, while 'c' is still held.
    expect(pool.get('a', make)).toBe('v4');
    expect(pool.get('c', make)).toBe('v3');
  });
});
