import { MinHeap } from '../../src/scheduling/min-heap';
import { seeded } from '../support/seeded-random';


const numbers = (): MinHeap<number> => new MinHeap<number>((a, b) => a < b);

function drain<T>(heap: MinHeap<T>): T[] {
  const out: T[] = [];
  for (let item = heap.pop(); item !== undefined; item = heap.pop()) out.push(item);
  return out;
}

describe('MinHeap', () => {
  it('returns undefined from peek and pop when empty', () => {
    const heap = numbers();
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
    expect(heap.size).toBe(0);
  });

  it('pops every item in ascending order when given random input with duplicates', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = seeded(seed);
      const input = Array.from({ length: 1000 }, () => Math.floor(random() * 200));
      const heap = numbers();
      for (const n of input) heap.push(n);
      expect(heap.size).toBe(input.length);
      expect(drain(heap)).toEqual([...input].sort((a, b) => a - b));
      expect(heap.size).toBe(0);
    }
  });

  it('peeks the smallest item without removing it when items were pushed in descending order', () => {
    const heap = numbers();
    for (let n = 50; n > 0; n--) heap.push(n);
    expect(heap.peek()).toBe(1);
    expect(heap.size).toBe(50);
    expect(heap.pop()).toBe(1);
    expect(heap.peek()).toBe(2);
  });

  it('matches a sorted reference when pushes and pops interleave', () => {
    const random = seeded(99);
    const heap = numbers();
    const reference: number[] = [];
    for (let i = 0; i < 5000; i++) {
      if (random() < 0.6 || reference.length === 0) {
        const n = Math.floor(random() * 1000);
        heap.push(n);
        reference.push(n);
        reference.sort((a, b) => a - b);
      } else {
        expect(heap.pop()).toBe(reference.shift());
      }
      expect(heap.size).toBe(reference.length);
      expect(heap.peek()).toBe(reference[0]);
    }
  });

  it('orders by the given comparator when it compares a field of objects', () => {
    const heap = new MinHeap<{ dueAt: number; key: string }>((a, b) => a.dueAt < b.dueAt);
    heap.push({ dueAt: 30, key: 'c' });
    heap.push({ dueAt: 10, key: 'a' });
    heap.push({ dueAt: 20, key: 'b' });
    expect(drain(heap).map((e) => e.key)).toEqual(['a', 'b', 'c']);
  });

  it('pops the largest first when the comparator is reversed', () => {
    const heap = new MinHeap<number>((a, b) => a > b);
    for (const n of [3, 9, 1, 7, 5]) heap.push(n);
    expect(drain(heap)).toEqual([9, 7, 5, 3, 1]);
  });

  it('empties the heap when cleared and keeps working afterwards', () => {
    const heap = numbers();
    for (const n of [5, 4, 3]) heap.push(n);
    heap.clear();
    expect(heap.size).toBe(0);
    expect(heap.pop()).toBeUndefined();
    heap.push(8);
    heap.push(2);
    expect(drain(heap)).toEqual([2, 8]);
  });
});
