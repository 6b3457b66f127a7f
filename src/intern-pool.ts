/**
 * One shared value per key, for values that thousands of targets hold alike (an issuer's name,
 * an intermediate's DER, a protocol and cipher pair), so each is stored once. A bound, not an
 * LRU: past it, the pool starts again from empty, and values are shared again from then on.
 */
export class InternPool<T> {
  private readonly values = new Map<string, T>();

  constructor(private readonly max: number) {}

  get(key: string, make: () => T): T {
    let value = this.values.get(key);
    if (value === undefined) {
      if (this.values.size >= this.max) this.values.clear();
      value = make();
      this.values.set(key, value);
    }
    return value;
  }
}
