/**
 * `npm run bench`: certexp against a loopback TLS fleet of N names, side by side with
 * blackbox_exporter and with a bare tls.connect loop. See bench/README.md for how to read it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findBlackbox, runBlackbox, type BlackboxBinary, type BlackboxRun } from './blackbox-run';
import { runCertexp, type CertexpRun } from './certexp-run';
import { startFleet, type RunningFleet } from './fleet-control';
import { loadOrCreateFleetCerts } from './fleet-certs';
import { FLOOR_WARMUP, type FloorResult } from './floor';
import { firstLine, installCleanup, spawnTracked, stopAll, stopChild } from './proc';
import { shippedLaunch } from './launch';
import { formatSummary, summarizeProfile, type ProfileSummary } from './profile-summary';
import { formatReport, evaluateGoals, type Goal } from './report';

const repoRoot = resolve(__dirname, '..', '..');
const benchDist = __dirname;

export interface Options {
  readonly targets: readonly number[];
  readonly intervalSeconds: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly concurrency: number;
  /** undefined: no saturation run; 'auto' picks the interval from the floor's throughput. */
  readonly saturate: 'auto' | number | undefined;
  readonly saturateDurationSeconds: number;
  readonly fleetShards: number;
  readonly floorCount: number;
  readonly floorConcurrency: number;
  readonly scrapeRounds: number;
  readonly scrapers: number;
  readonly scraperRounds: number;
  readonly blackbox: string | undefined;
  readonly installBlackbox: boolean;
  readonly blackboxWarmupSeconds: number;
  readonly cpuProf: boolean;
  /** Extra node flags for the daemon under test, e.g. --max-old-space-size=192. */
  readonly nodeArgs: readonly string[];
  readonly out: string;
}

export interface SizeResult {
  readonly targets: number;
  readonly certGenerationSeconds: number | undefined;
  readonly floor: FloorResult;
  /** The same loop paced at the steady run's probe rate (N / interval), just before and just after certexp's steady run. */
  readonly floorPacedAround: readonly [FloorResult, FloorResult];
  readonly certexp: CertexpRun;
  readonly saturation: CertexpRun | undefined;
  /** The bare loop flat out just before and just after the saturation run. */
  readonly floorFlatOutAround: readonly [FloorResult, FloorResult] | undefined;
  readonly blackbox: BlackboxRun | undefined;
  /** Server-side CPU per 1000 handshakes, measured while the floor loop ran: context, not a goal. */
  readonly fleetCpuSecondsPer1000Handshakes: number;
  readonly profile: {
    readonly probing: ProfileSummary;
    readonly scraping: ProfileSummary | undefined;
    readonly saturated: ProfileSummary | undefined;
    readonly run: CertexpRun;
  } | undefined;
}

export interface BenchResult {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly host: { readonly cpus: number; readonly cpuModel: string; readonly kernel: string; readonly node: string; readonly clkTck: number };
  readonly certexpCommit: string;
  readonly blackbox: BlackboxBinary;
  readonly options: Options;
  /** Environment the daemon ran with besides the bench's own (package.json's start script). */
  readonly daemonEnv: Readonly<Record<string, string>>;
  readonly sizes: readonly SizeResult[];
  readonly goals: readonly Goal[];
}

const USAGE = `Usage: npm run bench -- [flags]

  --targets=1000,10000      fleet sizes to run (N names each)
  --interval=60             seconds: the steady-state probe interval
  --warmup=SECONDS          before measuring (default: one interval, so every target was probed once)
  --duration=SECONDS        measured window (default: one interval)
  --concurrency=256         certexp --probe.concurrency, and blackbox requests in flight
  --saturate=auto           a second certexp run at a faster interval: auto, SECONDS, or off
  --saturate-duration=20    seconds measured in the saturation run
  --fleet-shards=1          fleet server processes (names are split between them)
  --floor-count=4000        handshakes measured by the bare tls.connect loop
  --floor-concurrency=64
  --scrape-rounds=6         sequential /metrics scrapes (and half as many asking for text)
  --scrapers=10             concurrent scrapers ...
  --scraper-rounds=2        ... and scrapes each
  --blackbox=PATH|off       blackbox_exporter binary (default: found on PATH)
  --install-blackbox        apt-get install prometheus-blackbox-exporter when it is missing
  --blackbox-warmup=10      seconds of blackbox probing before its measured window
  --node-args="FLAGS"       node flags for the daemon under test instead of the shipped ones
                            (package.json's start script; its environment is always applied)
  --cpu-prof                extra certexp runs per size under node --cpu-prof (steady + scrapes, saturated), summarized
  --out=bench/results       where the JSON goes
  --quick                   smoke run: --targets=300 --interval=10 --scraper-rounds=1
`;

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      targets: { type: 'string', default: '1000,10000' },
      interval: { type: 'string', default: '60' },
      warmup: { type: 'string' },
      duration: { type: 'string' },
      concurrency: { type: 'string', default: '256' },
      saturate: { type: 'string', default: 'auto' },
      'saturate-duration': { type: 'string', default: '20' },
      'fleet-shards': { type: 'string', default: '1' },
      'floor-count': { type: 'string', default: '4000' },
      'floor-concurrency': { type: 'string', default: '64' },
      'scrape-rounds': { type: 'string', default: '6' },
      scrapers: { type: 'string', default: '10' },
      'scraper-rounds': { type: 'string', default: '2' },
      blackbox: { type: 'string' },
      'install-blackbox': { type: 'boolean', default: false },
      'blackbox-warmup': { type: 'string', default: '10' },
      'cpu-prof': { type: 'boolean', default: false },
      'node-args': { type: 'string' },
      out: { type: 'string', default: join(repoRoot, 'bench', 'results') },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const quick = values.quick;
  const num = (name: string, text: string, min: number): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name}=${text}: want a number of at least ${min}`);
    return value;
  };
  const targets = (quick ? '300' : values.targets).split(',').map((t) => num('targets', t.trim(), 1));
  const intervalSeconds = quick ? 10 : num('interval', values.interval, 0.1);
  const saturateText = values.saturate;
  return {
    targets,
    intervalSeconds,
    warmupSeconds: values.warmup === undefined ? intervalSeconds : num('warmup', values.warmup, 0),
    durationSeconds: values.duration === undefined ? intervalSeconds : num('duration', values.duration, 1),
    concurrency: num('concurrency', values.concurrency, 1),
    saturate: saturateText === 'off' ? undefined : saturateText === 'auto' ? 'auto' : num('saturate', saturateText, 0.1),
    saturateDurationSeconds: quick ? 10 : num('saturate-duration', values['saturate-duration'], 1),
    fleetShards: num('fleet-shards', values['fleet-shards'], 1),
    floorCount: quick ? 1000 : num('floor-count', values['floor-count'], 1),
    floorConcurrency: num('floor-concurrency', values['floor-concurrency'], 1),
    scrapeRounds: quick ? 3 : num('scrape-rounds', values['scrape-rounds'], 1),
    scrapers: num('scrapers', values.scrapers, 1),
    scraperRounds: quick ? 1 : num('scraper-rounds', values['scraper-rounds'], 1),
    blackbox: values.blackbox,
    installBlackbox: values['install-blackbox'],
    blackboxWarmupSeconds: num('blackbox-warmup', values['blackbox-warmup'], 0),
    cpuProf: values['cpu-prof'],
    nodeArgs: values['node-args'] === undefined ? shippedLaunch(repoRoot).nodeArgs : values['node-args'].split(' ').filter((arg) => arg !== ''),
    out: resolve(values.out),
  };
}

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function runFloor(fleet: RunningFleet, options: Options, count: number, rate: number): Promise<FloorResult> {
  const child = spawnTracked(process.execPath, [
    join(benchDist, 'floor.js'),
    `--targets=${fleet.targetsPath}`,
    `--count=${count}`,
    `--concurrency=${options.floorConcurrency}`,
    `--rate=${rate}`,
    '--max-seconds=60',
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    return JSON.parse(await firstLine(child, 120_000, 'floor loop')) as FloorResult;
  } finally {
    await stopChild(child);
  }
}

/**
 * A scheduled rate equal to what the bare loop does per CPU-second: certexp's main thread cannot
 * keep up with that (a probe costs it more than a bare handshake), so the run shows its ceiling.
 */
function saturationIntervalMs(options: Options, targets: number, floor: FloorResult): number | undefined {
  if (options.saturate === undefined) return undefined;
  if (options.saturate !== 'auto') return Math.round(options.saturate * 1000);
  return Math.max(1000, Math.ceil((targets / floor.handshakesPerCpuSecond) * 10) * 100);
}

/** cacheDir keeps the generated certificates between runs; workDir is this run's own (configs, logs, profiles). */
async function runSize(targets: number, options: Options, blackbox: BlackboxBinary, cacheDir: string, workDir: string): Promise<SizeResult> {
  log(`== N = ${targets} ==`);
  const { certs, path: certsPath, generatedMs } = await loadOrCreateFleetCerts(cacheDir, targets, log);
  const fleet = await startFleet({ certs, certsPath, shards: options.fleetShards, workDir, benchDist });
  try {
    log(`  fleet: ${options.fleetShards} process(es), ${targets} names on 127.0.0.1`);
    const fleetCpu0 = fleet.cpuSeconds();
    const floor = await runFloor(fleet, options, options.floorCount, 0);
    // The floor loop is the only client during its run: the fleet's CPU over it is the server side of a handshake.
    const fleetPer1000 = ((fleet.cpuSeconds() - fleetCpu0) / (floor.handshakes + floor.failures + FLOOR_WARMUP)) * 1000;
    log(`  floor: ${floor.handshakes} handshakes, ${floor.handshakesPerCpuSecond.toFixed(0)} per CPU-second (${floor.failures} failed)`);
    const intervalMs = options.intervalSeconds * 1000;
    const steadyRate = targets / options.intervalSeconds;
    // Paced just before and just after the steady run, which is set against their mean: the
    // machine's speed drifts over minutes (a VM's share of its host).
    const runPaced = async (): Promise<FloorResult> => {
      const paced = await runFloor(fleet, options, Math.max(50, Math.min(options.floorCount, Math.round(steadyRate * 15))), steadyRate);
      log(`  floor at ${steadyRate.toFixed(1)}/s: ${paced.handshakes} handshakes, ${paced.handshakesPerCpuSecond.toFixed(0)} per CPU-second`);
      return paced;
    };
    const pacedBefore = await runPaced();

    const certexp = await runCertexp({
      label: 'steady',
      fleet,
      repoRoot,
      workDir,
      intervalMs,
      warmupMs: options.warmupSeconds * 1000,
      firstRound: 'within-warm-up',
      durationMs: options.durationSeconds * 1000,
      concurrency: options.concurrency,
      scrapes: { sequentialRounds: options.scrapeRounds, concurrentScrapers: options.scrapers, concurrentRounds: options.scraperRounds, maxMs: 120_000 },
      cpuProfileDir: undefined,
      nodeArgs: options.nodeArgs,
      log,
    });
    log(`  certexp steady: ${certexp.probesCompleted}/${certexp.probesScheduled.toFixed(0)} probes, ${certexp.cpuSecondsPer1000Probes.toFixed(3)} CPU s per 1000`);
    const floorPacedAround = [pacedBefore, await runPaced()] as const;

    // Right after certexp's steady run: the two are compared, and the machine's speed drifts.
    let blackboxRun: BlackboxRun | undefined;
    if (blackbox.found) {
      blackboxRun = await runBlackbox({
        binaryPath: blackbox.path,
        fleet,
        workDir,
        intervalMs,
        warmupMs: options.blackboxWarmupSeconds * 1000,
        durationMs: options.durationSeconds * 1000,
        concurrency: options.concurrency,
        log,
      });
      log(`  blackbox: ${blackboxRun.probesCompleted}/${blackboxRun.probesScheduled} probes, ${blackboxRun.cpuSecondsPer1000Probes.toFixed(3)} CPU s per 1000`);
    }

    let saturation: CertexpRun | undefined;
    let floorFlatOutAround: SizeResult['floorFlatOutAround'];
    const aroundCount = Math.max(options.floorCount, Math.round(floor.handshakesPerCpuSecond * options.saturateDurationSeconds));
    // As for the steady run: the bare loop just before and just after, each about as long as the
    // window; the interval comes from the one just before, since the machine may have sped up since
    // the first (at 08:44 its 866 handshakes per CPU-second gave an interval certexp kept up with).
    const before = options.saturate === undefined ? undefined : await runFloor(fleet, options, aroundCount, 0);
    const satInterval = before === undefined ? undefined : saturationIntervalMs(options, targets, before);
    if (before !== undefined && satInterval !== undefined) {
      saturation = await runCertexp({
        label: 'saturation',
        fleet,
        repoRoot,
        workDir,
        intervalMs: satInterval,
        // Until every target's first (cold) probe is done, then long enough to settle.
        warmupMs: Math.max(5000, satInterval),
        firstRound: 'then-warm-up',
        durationMs: options.saturateDurationSeconds * 1000,
        concurrency: options.concurrency,
        scrapes: undefined,
        cpuProfileDir: undefined,
        nodeArgs: options.nodeArgs,
        log,
      });
      const after = await runFloor(fleet, options, aroundCount, 0);
      floorFlatOutAround = [before, after];
      log(`  certexp saturation (${satInterval} ms interval): ${saturation.probesPerSecond.toFixed(0)} probes/s on ${saturation.cpuCores.toFixed(2)} cores, ${saturation.cpuSecondsPer1000Probes.toFixed(3)} CPU s per 1000; `
        + `bare loop just before and after: ${before.cpuSecondsPer1000.toFixed(3)} and ${after.cpuSecondsPer1000.toFixed(3)}`);
    }

    let profile: SizeResult['profile'];
    if (options.cpuProf) {
      const profileDir = join(workDir, 'profiles');
      mkdirSync(profileDir, { recursive: true });
      const run = await runCertexp({
        label: 'profiled',
        fleet,
        repoRoot,
        workDir,
        intervalMs,
        warmupMs: options.warmupSeconds * 1000,
        firstRound: 'within-warm-up',
        durationMs: Math.min(options.durationSeconds, 30) * 1000,
        concurrency: options.concurrency,
        scrapes: { sequentialRounds: Math.min(options.scrapeRounds, 4), concurrentScrapers: 1, concurrentRounds: 1, maxMs: 60_000 },
        cpuProfileDir: profileDir,
        nodeArgs: options.nodeArgs,
        log,
      });
      const saturated = satInterval === undefined ? undefined : await runCertexp({
        label: 'profiled-saturation',
        fleet,
        repoRoot,
        workDir,
        intervalMs: satInterval,
        warmupMs: Math.max(5000, satInterval),
        firstRound: 'then-warm-up',
        durationMs: options.saturateDurationSeconds * 1000,
        concurrency: options.concurrency,
        scrapes: undefined,
        cpuProfileDir: profileDir,
        nodeArgs: options.nodeArgs,
        log,
      });
      if (run.profile !== undefined) {
        profile = {
          probing: summarizeProfile(run.profile.file, { fromUs: run.profile.windowStartUs, toUs: run.profile.windowEndUs }),
          scraping: run.profile.scrapeStartUs === undefined ? undefined
            : summarizeProfile(run.profile.file, { fromUs: run.profile.scrapeStartUs, toUs: run.profile.scrapeEndUs }),
          saturated: saturated?.profile === undefined ? undefined
            : summarizeProfile(saturated.profile.file, { fromUs: saturated.profile.windowStartUs, toUs: saturated.profile.windowEndUs }),
          run,
        };
        log(`  profiles written to ${relative(repoRoot, profileDir)}`);
      }
    }

    return {
      targets,
      certGenerationSeconds: generatedMs === undefined ? undefined : generatedMs / 1000,
      floor,
      floorPacedAround,
      certexp,
      saturation,
      floorFlatOutAround,
      blackbox: blackboxRun,
      fleetCpuSecondsPer1000Handshakes: fleetPer1000,
      profile,
    };
  } finally {
    await fleet.stop();
  }
}

/** The commit measured, marked when src/ differs from it (the build, just before, measures the working tree). */
function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha}+uncommitted-src` : sha;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  installCleanup();
  const options = parseOptions(process.argv.slice(2));
  const cacheDir = join(repoRoot, 'bench', '.cache');
  const startedAt = new Date();
  // Now, as `npm run bench` has just built dist/: src/ edited while the bench runs is not what it measures.
  const certexpCommit = gitCommit();
  const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  // A directory per run, so two runs in one checkout never overwrite each other's configs or fleet root.
  const workDir = join(cacheDir, 'runs', stamp);
  mkdirSync(workDir, { recursive: true });
  log(`work files (configs, logs, profiles): ${relative(process.cwd(), workDir)}`);
  const blackbox = findBlackbox(options.blackbox, options.installBlackbox, log);
  if (blackbox.found) log(`blackbox_exporter ${blackbox.version} at ${blackbox.path}`);
  else log(`blackbox_exporter ABSENT: ${blackbox.reason}. The comparison columns will be empty.`);
  if (availableParallelism() !== 2) log(`note: this machine has ${availableParallelism()} CPUs; the goals are stated for 2`);

  const sizes: SizeResult[] = [];
  for (const targets of options.targets) sizes.push(await runSize(targets, options, blackbox, cacheDir, workDir));

  const result: BenchResult = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    host: {
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      kernel: release(),
      node: process.version,
      clkTck: Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()),
    },
    certexpCommit,
    blackbox,
    options,
    daemonEnv: shippedLaunch(repoRoot).env,
    sizes,
    goals: evaluateGoals(sizes, blackbox, availableParallelism()),
  };
  process.stdout.write(`${formatReport(result)}\n`);
  for (const size of sizes) {
    if (size.profile === undefined) continue;
    process.stdout.write(`\n${formatSummary(size.profile.probing, `certexp profile, N=${size.targets}, probing window`)}\n`);
    if (size.profile.scraping !== undefined) process.stdout.write(`\n${formatSummary(size.profile.scraping, `certexp profile, N=${size.targets}, /metrics scrapes`)}\n`);
    if (size.profile.saturated !== undefined) process.stdout.write(`\n${formatSummary(size.profile.saturated, `certexp profile, N=${size.targets}, saturated probing window`)}\n`);
  }
  mkdirSync(options.out, { recursive: true });
  const outFile = join(options.out, `${stamp}.json`);
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nwritten: ${relative(process.cwd(), outFile)}\n`);
}

main().catch(async (error: unknown) => {
  log(`failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  await stopAll();
  process.exitCode = 1;
});
