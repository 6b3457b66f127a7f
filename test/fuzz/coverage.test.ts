/**
 * The coverage-guided loop of `npm run fuzz` (coverage.ts) on a target small enough to know what
 * it must find: a failure three one-byte steps deep, each step visible only as new V8 block coverage.
 */
import fc from 'fast-check';
import { BlockCoverage, coverageFuzz, type CoverageTarget } from './coverage';

interface ByteEdit {
  readonly at: number;
  readonly value: number;
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

let coverage: BlockCoverage;
let target: CoverageTarget<Uint8Array, ByteEdit>;

beforeAll(async () => {
  // Started before the target loads: V8 counts blocks only in code compiled after that.
  coverage = new BlockCoverage((url) => url.endsWith('/magic-bytes.ts'));
  const { magicBytes } = await import('./magic-bytes');
  target = {
    run: magicBytes,
    // One of 3 bytes set to one of 16 letters: 1 chance in 48 per step, so a few hundred execs
    // (inspector round trips under jest take milliseconds each).
    edits: fc.record({ at: fc.nat({ max: 2 }), value: fc.integer({ min: 0x41, max: 0x50 }) }),
    apply: (input, { at, value }) => {
      const out = Uint8Array.from(input);
      out[at] = value;
      return out;
    },
  };
});

afterAll(() => {
  coverage.stop();
});

describe('the coverage-guided fuzz loop', () => {
  it('climbs one new block at a time to a failure that one edit of the seed cannot reach', () => {
    const failures: string[] = [];
    const found: string[] = [];
    const summary = coverageFuzz(coverage, target, [new Uint8Array(3)], {
      seed: 7,
      seconds: 20,
      maxExecs: 2_000,
      stopWhen: (progress) => progress.uniqueFailures > 0,
      onNew: (input) => found.push(text(input)),
      onFailure: (input, violations) => failures.push(`${text(input)}: ${violations.join()}`),
    });
    expect(failures).toEqual(['BAD: reached "BAD"']);
    expect(summary.initial).toBe(1);
    expect(summary.kept.slice(1).map(text)).toEqual(found);
    // "B" and then "BA" were kept for their new blocks; nothing else was new.
    expect(found.map((input) => (input.startsWith('BA') ? 'BA' : input.slice(0, 1)))).toEqual(['B', 'BA']);
    expect(summary.finds).toBe(2);
    expect(summary.uniqueFailures).toBe(1);
    expect(summary.blocks).toBeGreaterThanOrEqual(4);
    expect(summary.curve.at(-1)?.execs).toBe(summary.execs);
  });

  it('replays the same run from the same seed', () => {
    const run = (): string[] => coverageFuzz(coverage, target, [new Uint8Array(3)], { seed: 11, seconds: 20, maxExecs: 200 }).kept.map(text);
    const first = run();
    expect(first.length).toBeGreaterThan(1);
    expect(run()).toEqual(first);
  });
});
