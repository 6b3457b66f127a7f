/**
 * The two modes of `npm run fuzz` (scripts/fuzz.ts, which parses the options and, for coverage
 * mode, starts V8's block coverage before this module brings src/ in).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import type { FuzzCorpus } from '../test/fuzz/corpus';
import { coverageFuzz, type BlockCoverage, type CoverageProgress } from '../test/fuzz/coverage';
import {
  byteMutation, caseEdits, chainRecipe, contextFor, editCase, materialize, mutate, signerLookup, type FuzzCase,
} from '../test/fuzz/mutations';
import { caseFromJson, caseToJson, judgeCase, loneCertificateCases, loneCulprit } from '../test/fuzz/oracle';
import type { Options } from './fuzz';

/** Writes bytes as <sha256>.<ext> in dir; returns the path, or undefined when that file is already there. */
function store(dir: string, bytes: Buffer, ext: string): string | undefined {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${createHash('sha256').update(bytes).digest('hex')}.${ext}`);
  if (existsSync(file)) return undefined;
  writeFileSync(file, bytes);
  return file;
}

/** A failing case as the smallest fixture that still fails; returns its path, or undefined when already kept. */
function keep(input: FuzzCase, dir: string): string | undefined {
  const lone = loneCulprit(input);
  return lone === undefined ? store(dir, Buffer.from(caseToJson(input)), 'json') : store(dir, lone, 'der');
}

function reportFailure(input: FuzzCase, violations: readonly string[], opts: Options): void {
  for (const violation of violations) console.log(`  ${violation}`);
  const file = keep(input, opts.out);
  console.log(file === undefined ? '  (already kept)' : `  kept as ${relative(opts.root, file)}`);
}

type Property = (corpus: FuzzCorpus) => fc.IProperty<[FuzzCase]>;

/** The chain property: any mutated chain, any trust store, clock, name and policy. */
const anyChain: Property = (corpus) => fc.property(chainRecipe(corpus).map((r) => materialize(r, corpus)), (input) => judgeCase(input).violations.length === 0);

/** The leaf property: a leaf changed in any way never verifies (unless it became another seed certificate). */
const changedLeaf: Property = (corpus) => {
  const seeds = corpus.seeds.map((s) => s.der);
  const known = new Set(seeds.map((d) => d.toString('hex')));
  const [leaf = 0, ...rest] = corpus.leaf.chain;
  const tail = rest.map((i) => seeds[i] ?? Buffer.alloc(0));
  const anchor = seeds[corpus.leaf.anchor] ?? Buffer.alloc(0);
  const cases = fc.array(byteMutation(seeds.length, { resign: false }), { minLength: 1, maxLength: 4 }).map((mutations): FuzzCase => {
    const changed = mutate(seeds[leaf] ?? Buffer.alloc(0), mutations, contextFor(corpus, leaf));
    return {
      chain: [changed, ...tail],
      anchors: [anchor],
      serverName: 'localhost',
      at: corpus.now,
      policy: undefined,
      maxDepth: undefined,
      mustNotVerify: !known.has(changed.toString('hex')),
    };
  });
  return fc.property(cases, (input) => judgeCase(input).violations.length === 0);
};

export function propertyMode(opts: Options, corpus: FuzzCorpus): number {
  const properties: [string, Property][] = [['any chain', anyChain], ['changed leaf', changedLeaf]];
  const deadline = Date.now() + opts.seconds * 1000;
  let failures = 0;
  let total = 0;
  let batch = 0;
  do {
    for (const [name, property] of properties) {
      const seed = opts.seed ?? (Math.random() * 0x7fffffff) | 0;
      const details = fc.check(property(corpus), { seed, numRuns: opts.runs });
      total += details.numRuns;
      if (!details.failed || details.counterexample === null) {
        console.log(`[${name}] seed ${seed}: ${details.numRuns} runs, no failure`);
        continue;
      }
      failures++;
      const [input] = details.counterexample;
      console.log(`[${name}] seed ${seed}: FAILED after ${details.numRuns} runs (replay: npm run fuzz -- --mode=property --seed ${seed} --runs ${opts.runs})`);
      reportFailure(input, judgeCase(input).violations, opts);
    }
    batch++;
  } while (opts.seed === undefined && Date.now() < deadline);
  console.log(`${total} cases in ${batch} batch(es), ${failures} failure(s)`);
  return failures === 0 ? 0 : 1;
}

/** The initial inputs of a coverage run: the seed chains, every regression fixture, and the kept corpus. */
function initialCases(corpus: FuzzCorpus, dirs: Pick<Options, 'regressions' | 'corpus'>): FuzzCase[] {
  const seeds = corpus.seeds.map((s) => s.der);
  const chains = corpus.chains.map((chain): FuzzCase => ({
    chain: chain.map((i) => seeds[i] ?? Buffer.alloc(0)),
    anchors: corpus.anchors.map((i) => seeds[i] ?? Buffer.alloc(0)),
    serverName: 'localhost',
    at: corpus.now,
    policy: undefined,
    maxDepth: undefined,
  }));
  const read = (dir: string): FuzzCase[] => {
    if (!existsSync(dir)) return [];
    return readdirSync(dir).sort().flatMap((file) => {
      const bytes = readFileSync(join(dir, file));
      if (file.endsWith('.der')) return loneCertificateCases(bytes);
      return file.endsWith('.json') ? [caseFromJson(bytes.toString('utf8'))] : [];
    });
  };
  return [...chains, ...read(dirs.regressions), ...read(dirs.corpus)];
}

/**
 * One bug, one fixture: a failure is its violations' first lines and the frames they were thrown
 * from, with the values (quoted text, numbers, paths) blanked, so the same throw or the same
 * misread field reached along many paths is kept once per run.
 */
function failureKey(violations: readonly string[]): string {
  return violations
    .map((v) => v.split('\n').slice(0, 2).join(' ').replace(/"[^"]*"/g, '""').replace(/\([^)]*\//g, '(').replace(/\d+/g, '#'))
    .sort()
    .join('\n');
}

function progressLine(p: CoverageProgress): string {
  const seconds = p.elapsedMs / 1000;
  return [
    `${seconds.toFixed(0).padStart(4)} s`, `${p.execs} execs (${(p.execs / Math.max(seconds, 0.001)).toFixed(0)}/s)`, `corpus ${p.corpus}`,
    `blocks ${p.blocks}`, `features ${p.features}`, `new coverage ${p.finds}`, `failures ${p.failures} (${p.uniqueFailures} kept)`,
  ].join(', ');
}

export function coverageMode(opts: Options, corpus: FuzzCorpus, coverage: BlockCoverage): number {
  const seed = opts.seed ?? (Math.random() * 0x7fffffff) | 0;
  // Donors for splices and swapped subtrees: the seeds, then every certificate of the corpus as it grows.
  const donors: Buffer[] = corpus.seeds.map((s) => s.der);
  const known = new Set(donors.map((d) => d.toString('hex')));
  let donated = 0;
  const donate = (kept: readonly FuzzCase[]): void => {
    for (const input of kept.slice(donated)) {
      for (const der of [...input.chain, ...input.anchors]) {
        const hex = der.toString('hex');
        if (known.has(hex)) continue;
        known.add(hex);
        donors.push(der);
      }
    }
    donated = kept.length;
  };
  const context = { corpus, donors, signerOf: signerLookup(corpus) };
  const initial = initialCases(corpus, opts);
  console.log(`coverage-guided, seed ${seed}, ${initial.length} initial cases, corpus in ${relative(opts.root, opts.corpus)}`);
  const summary = coverageFuzz(
    coverage,
    {
      // judgeCase's caches are shared, as in the daemon: a certificate seen before is a cache hit,
      // so the parser's coverage is that of the certificates a case adds, and a case costs ~2 ms,
      // not the ~12 ms of parsing all of them afresh.
      run: (input) => judgeCase(input).violations,
      edits: caseEdits(),
      apply: (input, edits, kept) => {
        donate(kept);
        return editCase(input, edits, context);
      },
    },
    initial,
    {
      seed,
      seconds: opts.seconds,
      ...(opts.execs === undefined ? {} : { maxExecs: opts.execs }),
      onProgress: (p) => { console.log(progressLine(p)); },
      onNew: (input) => { store(opts.corpus, Buffer.from(caseToJson(input)), 'json'); },
      failureKey,
      onFailure: (input, violations) => {
        console.log('FAILURE:');
        reportFailure(input, violations, opts);
      },
    },
  );
  console.log(progressLine(summary));
  console.log(`${summary.initial} of ${initial.length} initial cases added coverage; the corpus grew to ${summary.corpus} with ${summary.finds} new-coverage finds`);
  console.log(`${summary.failures} failing case(s), ${summary.uniqueFailures} distinct`);
  return summary.failures === 0 ? 0 : 1;
}

