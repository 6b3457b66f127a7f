/**
 * `npm run fuzz`: the certificate pipeline (DER → parse → ChainAnalyzer → verdict) under a fuzzer
 * for minutes, every failure kept as a regression fixture under test/fuzz/regressions/: the lone
 * certificate as <sha256>.der when it fails on its own, else the whole case as <sha256>.json.
 *
 * --mode=coverage (default): coverage-guided. V8's block coverage of src/, read through
 * node:inspector after every case (test/fuzz/coverage.ts), decides which mutants join the corpus;
 * the corpus starts from the seed chains (test/fuzz/corpus.ts), the regression fixtures and what
 * earlier runs kept in test/fuzz/.corpus/ (git-ignored), and grows there, so runs resume.
 * --mode=property: the properties of test/fuzz/chain-properties.test.ts, with a fresh seed per
 * batch (printed, so any batch can be replayed).
 *
 * Jazzer.js, the usual coverage-guided fuzzer for Node, does not run here: @jazzer.js/fuzzer@4's
 * only Linux x64 prebuild needs glibc 2.38 (this image has Debian's 2.36), and 1.x/2.x fetch
 * prebuilds from GitHub or build with cmake-js, which downloads Node headers and LLVM's
 * compiler-rt; only the npm registry and Debian packages are reachable (test/fuzz/README.md).
 *
 *   npm run fuzz                                 60 s, coverage-guided, random seed (printed)
 *   npm run fuzz -- --seconds 600                longer
 *   npm run fuzz -- --seed 7 --execs 20000       the same edits drawn in the same order, 20000 mutants
 *   npm run fuzz -- --mode=property --seed 42 --runs 500   replay one property batch
 *   npm run fuzz -- --out /tmp/found             keep failures elsewhere (exploring)
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { buildFuzzCorpus } from '../test/fuzz/corpus';
import { BlockCoverage } from '../test/fuzz/coverage';

/** The repository: the nearest folder above the compiled script that holds a package.json. */
function repositoryRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return process.cwd();
}

const ROOT = repositoryRoot();
const REGRESSIONS = join(ROOT, 'test', 'fuzz', 'regressions');
/** src/ as compiled beside this script (scripts/tsconfig.fuzz.json): the only code whose coverage counts. */
const SRC = `${pathToFileURL(resolve(__dirname, '..', 'src')).href}/`;

const MODES = ['coverage', 'property'] as const;
type Mode = (typeof MODES)[number];

export interface Options {
  readonly root: string;
  /** The fixtures every coverage run starts from. */
  readonly regressions: string;
  readonly mode: Mode;
  readonly seconds: number;
  /** Property mode: cases per batch. */
  readonly runs: number;
  /** Coverage mode: stop after this many mutants. */
  readonly execs: number | undefined;
  readonly seed: number | undefined;
  /** Where failing cases are kept. */
  readonly out: string;
  /** Coverage mode: where the corpus lives between runs. */
  readonly corpus: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'coverage' },
      seconds: { type: 'string', default: '60' },
      runs: { type: 'string', default: '2000' },
      execs: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string', default: REGRESSIONS },
      corpus: { type: 'string', default: join(ROOT, 'test', 'fuzz', '.corpus') },
    },
  });
  const number = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} wants a whole number, not ${text}`);
    return value;
  };
  const mode = MODES.find((m) => m === values.mode);
  if (mode === undefined) throw new Error(`--mode wants ${MODES.join(' or ')}, not ${values.mode}`);
  return {
    root: ROOT,
    regressions: REGRESSIONS,
    mode,
    seconds: number('seconds', values.seconds),
    runs: number('runs', values.runs),
    execs: values.execs === undefined ? undefined : number('execs', values.execs),
    seed: values.seed === undefined ? undefined : number('seed', values.seed),
    out: values.out,
    corpus: values.corpus,
  };
}

async function main(): Promise<number> {
  const opts = options();
  // V8 counts blocks only in code compiled after precise coverage started: start it before src/ loads.
  const coverage = opts.mode === 'coverage' ? new BlockCoverage((url) => url.startsWith(SRC)) : undefined;
  const [modes, corpus] = await Promise.all([import('./fuzz-modes'), buildFuzzCorpus()]);
  return coverage === undefined ? modes.propertyMode(opts, corpus) : modes.coverageMode(opts, corpus, coverage);
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
