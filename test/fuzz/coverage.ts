/**
 * A coverage-guided fuzzer without native code: V8's own block coverage, read through
 * node:inspector after every input, decides which inputs are worth mutating further.
 *
 * The loop is AFL's: take an input from the corpus, mutate it, run the target, and keep the
 * mutant when it ran a block of the code under test that no input ran before, or ran a known
 * block a number of times in a new bucket (1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+). Inputs the
 * target reports violations for never enter the corpus; each is handed to `onFailure` when its
 * `failureKey` is new, so one bug reached along many paths is reported once.
 *
 * Edits are drawn from a fast-check arbitrary in batches seeded from `seed`, so the same seed,
 * initial inputs and exec count replay the same run.
 */
import { Session } from 'node:inspector';
import fc from 'fast-check';

/** Which blocks of the included scripts one run executed: `script:start:end` to its hit-count bucket. */
export type BlockHits = Map<string, number>;

export interface CoverageReport {
  readonly hits: BlockHits;
  /**
   * Blocks this report named for the first time, each with the innermost block known before that
   * holds it. Until now the block ran exactly as often as that one (else V8 would have named it),
   * so every bucket seen for the holder was, unnamed, seen for the block too.
   */
  readonly learned: ReadonlyMap<string, string>;
}

const BUCKETS = 8;

/** AFL's hit-count buckets, 1 to BUCKETS. */
function bucket(count: number): number {
  if (count <= 3) return count;
  if (count < 8) return 4;
  if (count < 16) return 5;
  if (count < 32) return 6;
  return count < 128 ? 7 : BUCKETS;
}

interface Range {
  readonly startOffset: number;
  readonly endOffset: number;
  readonly count: number;
}

interface ScriptCoverage {
  readonly scriptId: string;
  readonly url: string;
  readonly functions: readonly { readonly ranges: readonly Range[] }[];
}

/** The narrowest of `ranges` that holds `span` (V8 nests a function's ranges, the function's own first). */
function innermost(ranges: readonly Range[], span: Range): Range | undefined {
  let best: Range | undefined;
  for (const range of ranges) {
    if (range.startOffset > span.startOffset || span.endOffset > range.endOffset) continue;
    if (best === undefined || range.endOffset - range.startOffset < best.endOffset - best.startOffset) best = range;
  }
  return best;
}

/**
 * V8 precise block coverage with call counts, for the scripts `include` accepts. Each `take`
 * answers what ran since the previous one and resets the counts.
 *
 * V8 puts block counters only into functions compiled while precise coverage is on: start it
 * before the code under test is loaded, or at least before any of its functions first runs.
 */
export class BlockCoverage {
  private readonly session = new Session();
  /**
   * Every block ever reported, per function (only the offsets matter). V8 leaves out a block
   * whose count equals its enclosing range's, so a run's report alone does not name every block it ran.
   */
  private readonly known = new Map<string, ReadonlyMap<string, Range>>();

  constructor(private readonly include: (url: string) => boolean) {
    this.session.connect();
    this.call((done) => { this.session.post('Profiler.enable', done); });
    this.call((done) => { this.session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true }, done); });
  }

  /**
   * An inspector session on the main thread dispatches synchronously: the callback has run when
   * `post` returns. Relying on that keeps one exec free of promise turns.
   */
  private call<R>(post: (done: (error: Error | null, result?: R) => void) => void): R | undefined {
    const answer: { given: boolean; error: Error | null; result: R | undefined } = { given: false, error: null, result: undefined };
    post((error, result) => {
      answer.given = true;
      answer.error = error;
      answer.result = result;
    });
    if (!answer.given) throw new Error('the inspector answered asynchronously; BlockCoverage needs a main-thread session');
    if (answer.error !== null) throw answer.error;
    return answer.result;
  }

  take(): CoverageReport {
    const hits: BlockHits = new Map();
    const learned = new Map<string, string>();
    const coverage = this.call<{ result: ScriptCoverage[] }>((done) => { this.session.post('Profiler.takePreciseCoverage', done); });
    for (const script of coverage?.result ?? []) {
      if (!this.include(script.url)) continue;
      for (const { ranges } of script.functions) {
        const [whole] = ranges;
        if (whole === undefined || whole.count === 0) continue;
        const name = (range: Range): string => `${script.scriptId}:${range.startOffset}:${range.endOffset}`;
        const key = `${script.scriptId}:${whole.startOffset}`;
        const known = this.known.get(key);
        const blocks = new Map(known);
        for (const range of ranges) {
          if (blocks.has(name(range))) continue;
          blocks.set(name(range), range);
          const holder = known === undefined ? undefined : innermost([...known.values()], range);
          if (holder !== undefined) learned.set(name(range), name(holder));
        }
        this.known.set(key, blocks);
        for (const [block, span] of blocks) {
          const count = innermost(ranges, span)?.count ?? 0;
          if (count > 0) hits.set(block, bucket(count));
        }
      }
    }
    return { hits, learned };
  }

  stop(): void {
    this.call((done) => { this.session.post('Profiler.stopPreciseCoverage', done); });
    this.session.disconnect();
  }
}

/** What the loop fuzzes. */
export interface CoverageTarget<T, E> {
  /** Runs one input; answers what went wrong, nothing when it held. */
  run(input: T): readonly string[];
  /** The edits one exec applies to a corpus input. */
  readonly edits: fc.Arbitrary<E>;
  /** Applies edits to an input; may draw on the whole corpus (splicing). Must not run included code. */
  apply(input: T, edits: E, corpus: readonly T[]): T;
}

export interface CoverageProgress {
  readonly elapsedMs: number;
  readonly execs: number;
  readonly corpus: number;
  /** Distinct blocks of the included scripts ever run. */
  readonly blocks: number;
  /** Distinct (block, hit-count bucket) pairs ever seen: what "new coverage" means. */
  readonly features: number;
  /** Mutants kept for new coverage (the initial inputs not counted). */
  readonly finds: number;
  /** Inputs the target reported violations for, and how many of them were reported (a new `failureKey`). */
  readonly failures: number;
  readonly uniqueFailures: number;
}

export interface CoverageOptions<T> {
  readonly seed: number;
  readonly seconds: number;
  /** Stop after this many execs of mutants (the initial inputs not counted). */
  readonly maxExecs?: number;
  /** Stop as soon as this holds, e.g. at the first failure. */
  readonly stopWhen?: (progress: CoverageProgress) => boolean;
  readonly progressEveryMs?: number;
  readonly onProgress?: (progress: CoverageProgress) => void;
  /** A mutant kept for new coverage (to persist it). */
  readonly onNew?: (input: T) => void;
  readonly onFailure?: (input: T, violations: readonly string[]) => void;
  /** Which failures are the same bug; by default, the same violations. */
  readonly failureKey?: (violations: readonly string[]) => string;
}

export interface CoverageSummary<T> extends CoverageProgress {
  /** How many of the initial inputs were kept (the others added no coverage). */
  readonly initial: number;
  readonly kept: readonly T[];
  /** Progress at each progressEveryMs, and at the end: the coverage growth curve. */
  readonly curve: readonly CoverageProgress[];
}

const BATCH = 256;

/**
 * Runs the loop over `initial` (run first, kept when they add coverage) until time or execs run
 * out. `coverage` is the caller's, started before the code under test loaded.
 */
export function coverageFuzz<T, E>(coverage: BlockCoverage, target: CoverageTarget<T, E>, initial: readonly T[], options: CoverageOptions<T>): CoverageSummary<T> {
  const started = Date.now();
  const deadline = started + options.seconds * 1000;
  const maxExecs = options.maxExecs ?? Number.POSITIVE_INFINITY;
  const everyMs = options.progressEveryMs ?? 10_000;
  const corpus: T[] = [];
  const features = new Set<string>();
  const failureKeys = new Set<string>();
  const failureKey = options.failureKey ?? ((violations: readonly string[]): string => violations.join('\n'));
  const blocks = new Set<string>();
  const curve: CoverageProgress[] = [];
  let execs = 0;
  let finds = 0;
  let failures = 0;
  let uniqueFailures = 0;

  /** Adds the hits' features to those seen; answers whether any was new. */
  const novel = (hits: BlockHits): boolean => {
    let fresh = false;
    for (const [block, count] of hits) {
      const feature = `${block}#${count}`;
      if (features.has(feature)) continue;
      features.add(feature);
      fresh = true;
    }
    return fresh;
  };
  const inherit = (learned: ReadonlyMap<string, string>): void => {
    for (const [block, holder] of learned) {
      if (blocks.has(holder)) blocks.add(block);
      for (let b = 1; b <= BUCKETS; b++) if (features.has(`${holder}#${b}`)) features.add(`${block}#${b}`);
    }
  };
  /** Runs one input; answers whether it was kept. */
  const execute = (input: T): boolean => {
    const violations = target.run(input);
    const { hits, learned } = coverage.take();
    inherit(learned);
    for (const block of hits.keys()) blocks.add(block);
    if (violations.length > 0) {
      failures++;
      const key = failureKey(violations);
      if (!failureKeys.has(key)) {
        failureKeys.add(key);
        uniqueFailures++;
        options.onFailure?.(input, violations);
        inherit(coverage.take().learned); // whatever onFailure ran is not the next input's coverage
      }
      return false;
    }
    if (!novel(hits)) return false;
    corpus.push(input);
    return true;
  };
  const progress = (): CoverageProgress => ({
    elapsedMs: Date.now() - started, execs, corpus: corpus.length, blocks: blocks.size, features: features.size, finds, failures, uniqueFailures,
  });

  inherit(coverage.take().learned); // counts from before the loop
  for (const input of initial) execute(input);
  const initialKept = corpus.length;
  const draws = fc.tuple(fc.nat(), target.edits);
  let batch: [number, E][] = [];
  let batches = 0;
  let nextReport = Date.now() + everyMs;
  while (corpus.length > 0 && execs < maxExecs && Date.now() < deadline && options.stopWhen?.(progress()) !== true) {
    if (batch.length === 0) batch = fc.sample(draws, { seed: (options.seed + Math.imul(++batches, 0x9e3779b1)) | 0, numRuns: BATCH });
    const [which, edits] = batch.pop() ?? [0, undefined];
    const parent = corpus[which % corpus.length];
    if (parent === undefined || edits === undefined) break;
    execs++;
    const child = target.apply(parent, edits, corpus);
    if (execute(child)) {
      finds++;
      options.onNew?.(child);
    }
    if (Date.now() >= nextReport) {
      nextReport += everyMs;
      const now = progress();
      curve.push(now);
      options.onProgress?.(now);
    }
  }
  const end = progress();
  curve.push(end);
  return { ...end, initial: initialKept, kept: corpus, curve };
}
