/**
 * One measured run of the real daemon (dist/main.js) against the fleet, from the outside: CPU
 * from /proc/<pid>/stat, RSS from /proc/<pid>/status, probes and event-loop delay from its own
 * /metrics, skipped probes from its log.
 */
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningFleet } from './fleet-control';
import { countSamples, get, PROMETHEUS_ACCEPT, sampleValue, scrapeLatency, sumSamples, TEXT_ACCEPT, type ScrapeStats } from './http';
import { shippedLaunch } from './launch';
import { cpuSeconds, freePort, machineBusySeconds, memory, RssSampler, sleep, spawnTracked, stopChild } from './proc';

export interface ScrapePlan {
  /** Back-to-back scrapes by one scraper. */
  readonly sequentialRounds: number;
  /** Scrapers at once, and scrapes each of them makes. */
  readonly concurrentScrapers: number;
  readonly concurrentRounds: number;
  /** Bound on each scrape phase, ms. */
  readonly maxMs: number;
}

export interface CertexpRunOptions {
  readonly label: string;
  readonly fleet: RunningFleet;
  readonly repoRoot: string;
  readonly workDir: string;
  readonly intervalMs: number;
  readonly warmupMs: number;
  /**
   * Every target is probed once (waited for up to 5 min) before the window opens: cold probes
   * parse and verify a new chain, and a first round that overran the warm-up on a slow machine
   * would put its backlog in the window. `then-warm-up`: the whole warm-up follows the first round;
   * `within-warm-up`: the warm-up counts from the start, and at least 5 s follow the first round.
   */
  readonly firstRound: 'then-warm-up' | 'within-warm-up';
  readonly durationMs: number;
  readonly concurrency: number;
  readonly scrapes: ScrapePlan | undefined;
  /** Write a V8 CPU profile of the daemon here (node --cpu-prof). */
  readonly cpuProfileDir: string | undefined;
  /** Extra node flags for the daemon. */
  readonly nodeArgs: readonly string[];
  readonly log: (line: string) => void;
}

export interface ScrapeFigures {
  /** Prometheus' own Accept and Accept-Encoding headers: certexp answers in OpenMetrics, gzipped. */
  readonly sequential: ScrapeStats;
  /** Plain text, uncompressed: the most bytes a scraper can ask for. */
  readonly sequentialText: ScrapeStats;
  readonly concurrent: ScrapeStats;
  readonly concurrentText: ScrapeStats;
  readonly textBodyBytes: number;
  /** Daemon CPU per scrape over all the scrape phases (probing continues meanwhile), seconds. */
  readonly cpuSecondsPerScrape: number;
  /** Probes that failed while the scrapes ran (a blocked event loop times handshakes out). */
  readonly probeFailuresDuringScrapes: number;
  /** Event-loop delay over the concurrent phase (the text registry's monitor, last reset by the text scrapes before it). */
  readonly eventLoopP99MsConcurrent: number | undefined;
  readonly eventLoopMaxMsConcurrent: number | undefined;
  readonly heapUsedAfterBytes: number | undefined;
  readonly rssAfterBytes: number;
}

/** Process-monotonic microseconds (CLOCK_MONOTONIC, the clock V8 stamps profiles with). */
export interface ProfileMarks {
  readonly file: string;
  readonly windowStartUs: number;
  readonly windowEndUs: number;
  readonly scrapeStartUs: number | undefined;
  readonly scrapeEndUs: number | undefined;
}

export interface CertexpRun {
  readonly label: string;
  readonly targets: number;
  readonly intervalSeconds: number;
  readonly concurrency: number;
  readonly startupSeconds: number;
  /** Warm-up actually spent (longer than asked when waiting for every target's first probe). */
  readonly warmupSeconds: number;
  readonly windowSeconds: number;
  /** Between the two /metrics reads that bound the window (their collect times): what completed/scheduled compare over. */
  readonly countSpanSeconds: number;
  readonly probesScheduled: number;
  readonly probesCompleted: number;
  /** Probes the scheduler skipped in the window because the target's previous probe was still running or queued. */
  readonly skippedInWindow: number;
  readonly skippedTotal: number;
  /** Targets whose last probe, at the window's end, is older than one interval (plus 2 s slack). */
  readonly staleTargets: number;
  readonly probeSuccessTargets: number;
  readonly verifySuccessTargets: number;
  readonly probeFailuresTotal: number;
  readonly probeFailuresInWindow: number;
  readonly verifyFailuresTotal: number;
  readonly cpuSeconds: number;
  readonly cpuSecondsPer1000Probes: number;
  readonly cpuCores: number;
  /** The fleet's CPU over the window, in cores. */
  readonly fleetCores: number;
  /** Everything else the machine ran during the window (the bench itself, other users' jobs), in cores. */
  readonly otherCores: number;
  readonly probesPerSecond: number;
  readonly rssSteadyBytes: number;
  readonly rssPeakBytes: number;
  /** prom-client's monitorEventLoopDelay figures over the window; they include its 10 ms sampling resolution (idle reads ~10 ms). */
  readonly eventLoopP50Ms: number | undefined;
  readonly eventLoopP99Ms: number | undefined;
  readonly eventLoopMaxMs: number | undefined;
  readonly metricsBodyBytes: number;
  /** prom-client's process figures at the window's end. */
  readonly heapUsedBytes: number | undefined;
  readonly heapTotalBytes: number | undefined;
  readonly externalBytes: number | undefined;
  readonly scrape: ScrapeFigures | undefined;
  readonly profile: ProfileMarks | undefined;
}

function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function formatInterval(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function writeConfig(path: string, fleet: RunningFleet, intervalMs: number): void {
  const timeoutMs = Math.min(10_000, intervalMs);
  const lines = [
    '# Generated by bench/run.ts: the loopback fleet, trusted through its own root.',
    'defaults:',
    `  interval: ${formatInterval(intervalMs)}`,
    `  timeout: ${formatInterval(timeoutMs)}`,
    `  ca_file: ${JSON.stringify(fleet.rootPemPath)}`,
    'targets:',
  ];
  for (const target of fleet.targets) {
    lines.push(`  - host: 127.0.0.1\n    port: ${target.port}\n    server_name: ${target.name}\n    name: ${target.name}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

async function waitReady(base: string, deadlineMs: number, exited: () => boolean): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  while (performance.now() < deadline) {
    if (exited()) throw new Error('certexp exited before it was ready (see its log)');
    try {
      if ((await get(`${base}/-/ready`, { timeoutMs: 2000 })).status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`certexp not ready within ${deadlineMs} ms`);
}

interface LogCounts {
  readonly skippedTotal: number;
  readonly skippedInWindow: number;
  readonly crashes: number;
}

function countLog(path: string, from: number, to: number): LogCounts {
  let skippedTotal = 0;
  let skippedInWindow = 0;
  let crashes = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.includes('probe crashed')) crashes++;
    if (!line.includes('probe skipped')) continue;
    skippedTotal++;
    try {
      const at = Date.parse((JSON.parse(line) as { time: string }).time);
      if (at >= from && at <= to) skippedInWindow++;
    } catch {
      // Not a JSON log line.
    }
  }
  return { skippedTotal, skippedInWindow, crashes };
}

/** Targets that have a state yet: each one's first probe logs a transition line naming it. */
function targetsProbed(logPath: string): number {
  const seen = new Set<string>();
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    if (!line.includes('"msg":"target ')) continue;
    const match = /"target":"([^"]+)"/.exec(line);
    if (match?.[1] !== undefined) seen.add(match[1]);
  }
  return seen.size;
}

function lastProbeTimestamps(body: string): number[] {
  const values: number[] = [];
  for (const line of body.split('\n')) {
    if (!line.startsWith('certexp_last_probe_timestamp_seconds{')) continue;
    values.push(Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return values;
}

export async function runCertexp(opts: CertexpRunOptions): Promise<CertexpRun> {
  const n = opts.fleet.targets.length;
  const configPath = join(opts.workDir, `certexp-${opts.label}-${n}.yml`);
  const logPath = join(opts.workDir, `certexp-${opts.label}-${n}.log`);
  writeConfig(configPath, opts.fleet, opts.intervalMs);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const profileName = `certexp-${opts.label}-${n}-${Date.now()}.cpuprofile`;
  const nodeArgs = opts.cpuProfileDir === undefined ? [...opts.nodeArgs] : [...opts.nodeArgs, '--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`, `--cpu-prof-name=${profileName}`];
  const logFd = openSync(logPath, 'w');
  const started = performance.now();
  const child = spawnTracked(process.execPath, [
    ...nodeArgs,
    join(opts.repoRoot, 'dist', 'main.js'),
    `--config.file=${configPath}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--probe.concurrency=${opts.concurrency}`,
    '--log.level=info',
  ], { stdio: ['ignore', logFd, logFd], cwd: opts.repoRoot, env: { ...process.env, ...shippedLaunch(opts.repoRoot).env } });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error('certexp did not start');
  let exited = false;
  child.once('exit', () => { exited = true; });
  const rss = new RssSampler(pid);
  try {
    await waitReady(base, 120_000, () => exited);
    const startupSeconds = (performance.now() - started) / 1000;
    const warmup = opts.firstRound === 'then-warm-up' ? 'until every target was probed, then ' : 'at least until every target was probed and ';
    opts.log(`  certexp ${opts.label}: ready in ${startupSeconds.toFixed(1)} s; warming up ${warmup}${(opts.warmupMs / 1000).toFixed(0)} s, then measuring ${(opts.durationMs / 1000).toFixed(0)} s`);
    const warmupStarted = performance.now();
    const deadline = performance.now() + 300_000;
    while (targetsProbed(logPath) < n && performance.now() < deadline) await sleep(2000);
    const firstRoundMs = performance.now() - warmupStarted;
    if (opts.firstRound === 'within-warm-up' && firstRoundMs > opts.warmupMs) opts.log(`  certexp ${opts.label}: the first round of probes took ${(firstRoundMs / 1000).toFixed(0)} s, longer than the warm-up`);
    await sleep(opts.firstRound === 'then-warm-up' ? opts.warmupMs : Math.max(5000, opts.warmupMs - firstRoundMs));
    const warmupSeconds = (performance.now() - warmupStarted) / 1000;

    // CPU is taken over the window, from just after the first /metrics read to just before the
    // last, so the cost of those two reads stays out. Probe counts are snapshots taken when each
    // read is served (at once: the daemon is not scraped otherwise), so they span from one send
    // to the other; the rate over that span, times the window, is what the CPU is divided by.
    const send0 = performance.now();
    const first = await get(`${base}/metrics`, { accept: TEXT_ACCEPT, timeoutMs: 60_000 });
    const probes0 = sumSamples(first.body, 'certexp_probes_total');
    const failures0 = sumSamples(first.body, 'certexp_probe_failures_total');
    const cpu0 = cpuSeconds(pid);
    const machine0 = machineBusySeconds();
    const fleet0 = opts.fleet.cpuSeconds();
    const t0 = performance.now();
    const epoch0 = Date.now();
    const windowStartUs = monotonicUs();
    await sleep(opts.durationMs);
    const cpu1 = cpuSeconds(pid);
    const machine1 = machineBusySeconds();
    const fleet1 = opts.fleet.cpuSeconds();
    const t1 = performance.now();
    const epoch1 = Date.now();
    const windowEndUs = monotonicUs();
    const send1 = performance.now();
    const last = await get(`${base}/metrics`, { accept: TEXT_ACCEPT, timeoutMs: 60_000 });
    const probes1 = sumSamples(last.body, 'certexp_probes_total');
    const windowSeconds = (t1 - t0) / 1000;
    const countSpanSeconds = (send1 - send0) / 1000;
    const probesCompleted = probes1 - probes0;
    const probeRate = probesCompleted / countSpanSeconds;
    const cpu = cpu1 - cpu0;
    const staleBefore = epoch1 / 1000 - opts.intervalMs / 1000 - 2;
    const staleTargets = n - lastProbeTimestamps(last.body).filter((at) => at >= staleBefore).length;
    const eventLoopP50 = sampleValue(last.body, 'nodejs_eventloop_lag_p50_seconds');
    const eventLoopP99 = sampleValue(last.body, 'nodejs_eventloop_lag_p99_seconds');
    const eventLoopMax = sampleValue(last.body, 'nodejs_eventloop_lag_max_seconds');

    let scrape: ScrapeFigures | undefined;
    let scrapeStartUs: number | undefined;
    let scrapeEndUs: number | undefined;
    if (opts.scrapes !== undefined) {
      const plan = opts.scrapes;
      opts.log(`  certexp ${opts.label}: scraping /metrics (${plan.sequentialRounds} sequential, then ${plan.concurrentScrapers} scrapers x ${plan.concurrentRounds})`);
      scrapeStartUs = monotonicUs();
      const cpuS0 = cpuSeconds(pid);
      const sequential = await scrapeLatency(`${base}/metrics`, 1, plan.sequentialRounds, PROMETHEUS_ACCEPT, true, plan.maxMs);
      // Before the text scrapes that reset the text registry's event-loop monitor, so the read after the gzip phase covers that phase alone.
      const concurrentText = await scrapeLatency(`${base}/metrics`, plan.concurrentScrapers, plan.concurrentRounds, TEXT_ACCEPT, false, plan.maxMs);
      const sequentialText = await scrapeLatency(`${base}/metrics`, 1, Math.max(1, Math.ceil(plan.sequentialRounds / 2)), TEXT_ACCEPT, false, plan.maxMs);
      const concurrent = await scrapeLatency(`${base}/metrics`, plan.concurrentScrapers, plan.concurrentRounds, PROMETHEUS_ACCEPT, true, plan.maxMs);
      const cpuS1 = cpuSeconds(pid);
      scrapeEndUs = monotonicUs();
      const after = await get(`${base}/metrics`, { accept: TEXT_ACCEPT, timeoutMs: 120_000 });
      const scrapes = sequential.scrapes + concurrentText.scrapes + sequentialText.scrapes + concurrent.scrapes;
      const p99 = sampleValue(after.body, 'nodejs_eventloop_lag_p99_seconds');
      const max = sampleValue(after.body, 'nodejs_eventloop_lag_max_seconds');
      scrape = {
        sequential,
        sequentialText,
        concurrent,
        concurrentText,
        textBodyBytes: sequentialText.bodyBytes,
        cpuSecondsPerScrape: scrapes === 0 ? Number.NaN : (cpuS1 - cpuS0) / scrapes,
        probeFailuresDuringScrapes: sumSamples(after.body, 'certexp_probe_failures_total') - sumSamples(last.body, 'certexp_probe_failures_total'),
        eventLoopP99MsConcurrent: p99 === undefined ? undefined : p99 * 1000,
        eventLoopMaxMsConcurrent: max === undefined ? undefined : max * 1000,
        heapUsedAfterBytes: sampleValue(after.body, 'nodejs_heap_size_used_bytes'),
        rssAfterBytes: memory(pid).rss,
      };
    }

    const mem = memory(pid);
    await stopChild(child, 20_000);
    rss.stop();
    const logCounts = countLog(logPath, epoch0, epoch1);
    if (logCounts.crashes > 0) opts.log(`  certexp ${opts.label}: WARNING ${logCounts.crashes} 'probe crashed' lines in ${logPath}`);
    const probesScheduled = n * (countSpanSeconds * 1000) / opts.intervalMs;
    return {
      label: opts.label,
      targets: n,
      intervalSeconds: opts.intervalMs / 1000,
      concurrency: opts.concurrency,
      startupSeconds,
      warmupSeconds,
      windowSeconds,
      countSpanSeconds,
      probesScheduled,
      probesCompleted,
      skippedInWindow: logCounts.skippedInWindow,
      skippedTotal: logCounts.skippedTotal,
      staleTargets,
      probeSuccessTargets: countSamples(last.body, 'certexp_probe_success', '1'),
      verifySuccessTargets: countSamples(last.body, 'certexp_verify_success', '1'),
      probeFailuresTotal: sumSamples(last.body, 'certexp_probe_failures_total'),
      probeFailuresInWindow: sumSamples(last.body, 'certexp_probe_failures_total') - failures0,
      verifyFailuresTotal: sumSamples(last.body, 'certexp_verify_failures_total'),
      cpuSeconds: cpu,
      cpuSecondsPer1000Probes: probesCompleted === 0 ? Number.NaN : (cpu / (probeRate * windowSeconds)) * 1000,
      cpuCores: cpu / windowSeconds,
      fleetCores: (fleet1 - fleet0) / windowSeconds,
      otherCores: (machine1 - machine0 - cpu - (fleet1 - fleet0)) / windowSeconds,
      probesPerSecond: probeRate,
      rssSteadyBytes: rss.meanBetween(t0, t1),
      rssPeakBytes: mem.peakRss,
      eventLoopP50Ms: eventLoopP50 === undefined ? undefined : eventLoopP50 * 1000,
      eventLoopP99Ms: eventLoopP99 === undefined ? undefined : eventLoopP99 * 1000,
      eventLoopMaxMs: eventLoopMax === undefined ? undefined : eventLoopMax * 1000,
      metricsBodyBytes: last.bytes,
      heapUsedBytes: sampleValue(last.body, 'nodejs_heap_size_used_bytes'),
      heapTotalBytes: sampleValue(last.body, 'nodejs_heap_size_total_bytes'),
      externalBytes: sampleValue(last.body, 'nodejs_external_memory_bytes'),
      scrape,
      profile: opts.cpuProfileDir === undefined ? undefined : { file: join(opts.cpuProfileDir, profileName), windowStartUs, windowEndUs, scrapeStartUs, scrapeEndUs },
    };
  } finally {
    rss.stop();
    await stopChild(child, 20_000);
  }
}
