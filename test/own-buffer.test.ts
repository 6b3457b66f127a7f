import { ownBuffer } from '../src/own-buffer';

describe('ownBuffer', () => {
  it('keeps a buffer that owns its whole memory as it is', () => {
    const whole = Buffer.allocUnsafeSlow(100).fill(7);
    expect(ownBuffer(whole)).toBe(whole);
  });

  it.each([
    ['a view into a larger buffer', Buffer.allocUnsafeSlow(4096).fill(3).subarray(10, 110)],
    ['a slice of Node\'s shared pool', Buffer.from('a short string, pooled')],
  ])('copies %s into memory of its own, at its exact size', (_what, view) => {
    const own = ownBuffer(view);
    expect(own.equals(view)).toBe(true);
    expect(own.buffer).not.toBe(view.buffer);
    expect(own.byteOffset).toBe(0);
    expect(own.buffer.byteLength).toBe(view.length);
  });
});
