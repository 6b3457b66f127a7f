/**
 * `npm run fuzz`: the properties of test/fuzz/chain-properties.test.ts, run for minutes instead
 * of seconds, with a fresh seed per batch (printed, so any batch can be replayed), and every
 * failure kept as a regression fixture under test/fuzz/regressions/: the lone certificate as
 * <sha256>.der when it fails on its own, else the whole case as <sha256>.json.
 *
 * Coverage-guided fuzzing (Jazzer.js) would be the better tool; its native fuzzer does not load
 * on this machine's glibc (see test/fuzz/README.md), so this is the stand-in.
 *
 *   npm run fuzz                          60 s, random seeds
 *   npm run fuzz -- --seconds 600         longer
 *   npm run fuzz -- --seed 42 --runs 500  replay one batch
 *   npm run fuzz -- --out /tmp/found      keep failures elsewhere (exploring)
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { buildFuzzCorpus, type FuzzCorpus } from '../test/fuzz/corpus';
import { byteMutation, chainRecipe, contextFor, materialize, mutate, type FuzzCase } from '../test/fuzz/mutations';
import { caseToJson, judgeCase, loneCulprit } from '../test/fuzz/oracle';

/** The repository: the nearest folder above the compiled script that holds a package.json. */
function repositoryRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return process.cwd();
}

const ROOT = repositoryRoot();

interface Options {
  readonly seconds: number;
  readonly runs: number;
  readonly seed: number | undefined;
  /** Where failing cases are kept. */
  readonly out: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      runs: { type: 'string', default: '2000' },
      seed: { type: 'string' },
      out: { type: 'string', default: join(ROOT, 'test', 'fuzz', 'regressions') },
    },
  });
  const number = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} wants a whole number, not ${text}`);
    return value;
  };
  return {
    seconds: number('seconds', values.seconds),
    runs: number('runs', values.runs),
    seed: values.seed === undefined ? undefined : number('seed', values.seed),
    out: values.out,
  };
}

/** A failing case as the smallest fixture that still fails; returns its path, or undefined when already kept. */
function keep(input: FuzzCase, dir: string): string | undefined {
  mkdirSync(dir, { recursive: true });
  const lone = loneCulprit(input);
  const [bytes, ext] = lone === undefined ? [Buffer.from(caseToJson(input)), 'json'] : [lone, 'der'];
  const file = join(dir, `${createHash('sha256').update(bytes).digest('hex')}.${ext}`);
  if (existsSync(file)) return undefined;
  writeFileSync(file, bytes);
  return file;
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

async function main(): Promise<number> {
  const opts = options();
  const corpus = await buildFuzzCorpus();
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
      const outcome = judgeCase(input);
      const file = keep(input, opts.out);
      console.log(`[${name}] seed ${seed}: FAILED after ${details.numRuns} runs (replay: npm run fuzz -- --seed ${seed} --runs ${opts.runs})`);
      for (const violation of outcome.violations) console.log(`  ${violation}`);
      console.log(file === undefined ? '  (already kept)' : `  kept as ${relative(ROOT, file)}`);
    }
    batch++;
  } while (opts.seed === undefined && Date.now() < deadline);
  console.log(`${total} cases in ${batch} batch(es), ${failures} failure(s)`);
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  },
);
