/** The printed table and the verdict on each of the issue's targets. */
import type { BlackboxBinary } from './blackbox-run';
import type { FloorResult } from './floor';
import type { BenchResult, SizeResult } from './run';

export interface Goal {
  readonly goal: string;
  readonly value: string;
  /** undefined when the run could not decide it (blackbox absent, no 10,000-target run). */
  readonly met: boolean | undefined;
}

const MB = 1e6;
const DASH = '-';

function fixed(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? DASH : value.toFixed(digits);
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? DASH : `${(a / b).toFixed(2)}x`;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

function sizeTable(size: SizeResult): string {
  const c = size.certexp;
  const b = size.blackbox;
  const f = size.floor;
  const [fp] = size.floorPacedAround;
  const pacedMean = meanOf(size.floorPacedAround).cpuSecondsPer1000;
  const s = c.scrape;
  const bb = (pick: (run: NonNullable<typeof b>) => string): string => (b === undefined ? DASH : pick(b));
  const rows: string[][] = [
    ['', 'certexp', 'blackbox', 'bare loop', `bare @${fp.rate.toFixed(0)}/s, mean`, 'certexp/blackbox', 'certexp/bare', 'certexp/bare@rate'],
    ['probes completed / scheduled', `${c.probesCompleted} / ${c.probesScheduled.toFixed(0)}`, bb((r) => `${r.probesCompleted} / ${r.probesScheduled}`), `${f.handshakes}`, `${fp.handshakes}`],
    ['missed intervals (skipped probes)', `${c.skippedInWindow}`, bb((r) => `${r.skippedInWindow}`)],
    ['targets not probed in last interval', `${c.staleTargets}`, DASH],
    ['probe failures in window', `${c.probeFailuresInWindow}`, bb((r) => `${r.probesCompleted - r.probesSucceeded}`), `${f.failures}`, `${fp.failures}`],
    ['targets ok: probe / verify', `${c.probeSuccessTargets} / ${c.verifySuccessTargets}`, DASH],
    ['CPU s per 1,000 probes', fixed(c.cpuSecondsPer1000Probes, 3), fixed(b?.cpuSecondsPer1000Probes, 3), fixed(f.cpuSecondsPer1000, 3), fixed(pacedMean, 3),
      ratio(c.cpuSecondsPer1000Probes, b?.cpuSecondsPer1000Probes), ratio(c.cpuSecondsPer1000Probes, f.cpuSecondsPer1000), ratio(c.cpuSecondsPer1000Probes, pacedMean)],
    ['CPU cores used in window', fixed(c.cpuCores, 3), fixed(b?.cpuCores, 3)],
    ['  fleet / everything else, cores', `${fixed(c.fleetCores, 2)} / ${fixed(c.otherCores, 2)}`, bb((r) => `${fixed(r.fleetCores, 2)} / ${fixed(r.otherCores, 2)}`)],
    ['RSS steady MB', fixed(c.rssSteadyBytes / MB, 0), bb((r) => fixed(r.rssSteadyBytes / MB, 0)), '', '', ratio(c.rssSteadyBytes, b?.rssSteadyBytes)],
    ['RSS peak MB', fixed(c.rssPeakBytes / MB, 0), bb((r) => fixed(r.rssPeakBytes / MB, 0)), '', '', ratio(c.rssPeakBytes, b?.rssPeakBytes)],
    ['RSS idle after config load MB', DASH, bb((r) => fixed(r.rssIdleBytes / MB, 0))],
    ['V8 heap used / total, external MB', `${fixed((c.heapUsedBytes ?? Number.NaN) / MB, 0)} / ${fixed((c.heapTotalBytes ?? Number.NaN) / MB, 0)}, ${fixed((c.externalBytes ?? Number.NaN) / MB, 0)}`, DASH],
    ['event-loop delay p50 / p99 / max ms', `${fixed(c.eventLoopP50Ms, 1)} / ${fixed(c.eventLoopP99Ms, 1)} / ${fixed(c.eventLoopMaxMs, 0)}`, DASH],
    ['probe request p50 / p99 ms', DASH, bb((r) => `${fixed(r.requestP50Ms, 1)} / ${fixed(r.requestP99Ms, 1)}`)],
  ];
  if (s !== undefined) {
    rows.push(
      ['/metrics body MB (text / OpenMetrics gzipped)', `${fixed(s.textBodyBytes / MB, 2)} / ${fixed(s.sequential.wireBytes / MB, 2)}`],
      [`/metrics 1 scraper, gzip p50 / p99 ms (${s.sequential.scrapes})`, `${fixed(s.sequential.p50Ms, 0)} / ${fixed(s.sequential.p99Ms, 0)}`],
      [`/metrics 1 scraper, text p50 / p99 ms (${s.sequentialText.scrapes})`, `${fixed(s.sequentialText.p50Ms, 0)} / ${fixed(s.sequentialText.p99Ms, 0)}`],
      [`/metrics ${s.concurrent.scrapers} scrapers, gzip p50 / p99 ms (${s.concurrent.scrapes})`, `${fixed(s.concurrent.p50Ms, 0)} / ${fixed(s.concurrent.p99Ms, 0)}`],
      [`/metrics ${s.concurrentText.scrapers} scrapers, text p50 / p99 ms (${s.concurrentText.scrapes})`, `${fixed(s.concurrentText.p50Ms, 0)} / ${fixed(s.concurrentText.p99Ms, 0)}`],
      [`event-loop p99 / max ms, ${s.concurrent.scrapers} scrapers`, `${fixed(s.eventLoopP99MsConcurrent, 0)} / ${fixed(s.eventLoopMaxMsConcurrent, 0)}`],
      ['probe failures during the scrapes', `${s.probeFailuresDuringScrapes}`],
      ['CPU s per scrape', fixed(s.cpuSecondsPerScrape, 3)],
      ['RSS / V8 heap used after scrapes MB', `${fixed(s.rssAfterBytes / MB, 0)} / ${fixed((s.heapUsedAfterBytes ?? Number.NaN) / MB, 0)}`],
    );
  }
  const lines = [
    `N = ${size.targets} targets, interval ${c.intervalSeconds} s, ${c.windowSeconds.toFixed(0)} s measured after ${c.warmupSeconds.toFixed(0)} s warm-up, concurrency ${c.concurrency}, certexp ready in ${c.startupSeconds.toFixed(1)} s`,
    table(rows),
  ];
  const sat = size.saturation;
  if (sat !== undefined) {
    lines.push(`saturation: interval ${sat.intervalSeconds} s schedules ${(sat.targets / sat.intervalSeconds).toFixed(0)} probes/s; after ${sat.warmupSeconds.toFixed(0)} s warm-up (every target probed once) certexp completed `
      + `${sat.probesPerSecond.toFixed(0)}/s (${(100 * sat.probesCompleted / sat.probesScheduled).toFixed(0)}%) on ${sat.cpuCores.toFixed(2)} cores, ${fixed(sat.cpuSecondsPer1000Probes, 3)} CPU s per 1,000, `
      + `(fleet ${sat.fleetCores.toFixed(2)}, everything else ${sat.otherCores.toFixed(2)}), `
      + `${sat.skippedInWindow} skipped, ${sat.probeFailuresInWindow} failed, RSS peak ${fixed(sat.rssPeakBytes / MB, 0)} MB, event-loop p99 ${fixed(sat.eventLoopP99Ms, 0)} ms`
      + ` -> ~${(sat.probesPerSecond * 60).toFixed(0)} targets at 60 s on this machine`);
  }
  const perCpuSecond = (runs: readonly FloorResult[]): string => runs.map((run) => run.handshakesPerCpuSecond.toFixed(0)).join(' and ');
  const around = size.floorFlatOutAround === undefined ? '' : `, ${perCpuSecond(size.floorFlatOutAround)} just before and after the saturation run`;
  lines.push(`bare loop: ${f.handshakesPerCpuSecond.toFixed(0)} handshakes per CPU-second flat out (${f.handshakes} in ${f.wallSeconds.toFixed(1)} s)${around}; `
    + `${perCpuSecond(size.floorPacedAround)} paced at ${fp.rate.toFixed(1)}/s just before and after the steady run; `
    + `fleet (server side): ${fixed(size.fleetCpuSecondsPer1000Handshakes, 3)} CPU s per 1,000 handshakes`);
  return lines.join('\n');
}

/** The mean of the bare loop's runs just before and just after a certexp run, with the text that says so. */
function meanOf(runs: readonly [FloorResult, FloorResult]): { readonly cpuSecondsPer1000: number; readonly text: string } {
  const [before, after] = runs;
  const mean = (before.cpuSecondsPer1000 + after.cpuSecondsPer1000) / 2;
  return { cpuSecondsPer1000: mean, text: `${fixed(mean, 3)}, the mean of ${fixed(before.cpuSecondsPer1000, 3)} just before and ${fixed(after.cpuSecondsPer1000, 3)} just after` };
}

/** The issue's targets, judged on the 10,000-target run (or the largest run, when there is none). */
export function evaluateGoals(sizes: readonly SizeResult[], blackbox: BlackboxBinary, cpus: number): Goal[] {
  const size = sizes.find((s) => s.targets === 10_000) ?? [...sizes].sort((a, b) => b.targets - a.targets)[0];
  if (size === undefined) return [];
  const c = size.certexp;
  const at = size.targets === 10_000 ? '' : ` (N=${size.targets}, not 10,000)`;
  const decided = (met: boolean): boolean | undefined => (size.targets >= 10_000 ? met : undefined);
  const goals: Goal[] = [];
  const missed = c.skippedInWindow + c.staleTargets;
  const completeEnough = c.probesCompleted >= 0.99 * c.probesScheduled;
  goals.push({
    goal: `10,000 targets at 60 s, zero missed intervals (on ${cpus} cores)`,
    value: `${c.probesCompleted}/${c.probesScheduled.toFixed(0)} probes, ${c.skippedInWindow} skipped, ${c.staleTargets} stale, ${c.probeFailuresInWindow} failed, interval ${c.intervalSeconds} s${at}`,
    met: c.intervalSeconds === 60 ? decided(missed === 0 && completeEnough) : undefined,
  });
  const b = size.blackbox;
  goals.push({
    goal: 'CPU per probe <= 1.3x blackbox_exporter',
    value: b === undefined ? `blackbox absent: ${blackbox.found ? 'not run' : blackbox.reason}`
      : `${ratio(c.cpuSecondsPer1000Probes, b.cpuSecondsPer1000Probes)} (${fixed(c.cpuSecondsPer1000Probes, 3)} vs ${fixed(b.cpuSecondsPer1000Probes, 3)} CPU s/1000)${at}`,
    met: b === undefined ? undefined : decided(c.cpuSecondsPer1000Probes <= 1.3 * b.cpuSecondsPer1000Probes),
  });
  goals.push({
    goal: 'RSS < 250 MB at 10,000 targets',
    value: `peak ${fixed(c.rssPeakBytes / MB, 0)} MB (with scrapes), steady ${fixed(c.rssSteadyBytes / MB, 0)} MB${at}`,
    met: decided(c.rssPeakBytes < 250 * MB),
  });
  const s = c.scrape;
  goals.push({
    goal: '/metrics p99 < 250 ms with 10 concurrent scrapers at 10,000 targets',
    value: s === undefined ? 'not measured' : `p99 ${fixed(s.concurrent.p99Ms, 0)} ms with ${s.concurrent.scrapers} scrapers asking gzip as Prometheus does (uncompressed text: ${fixed(s.concurrentText.p99Ms, 0)} ms; 1 scraper: ${fixed(s.sequential.p99Ms, 0)} ms), ${fixed(s.textBodyBytes / MB, 1)} MB${at}`,
    met: s === undefined || s.concurrent.scrapers < 10 ? undefined : decided(s.concurrent.p99Ms < 250),
  });
  // Like with like: the daemon at its interval against the bare loop paced at the same rate, and
  // the daemon saturated against the bare loop flat out, run just before and after it. Paced work
  // costs more per handshake for any client (fewer handshakes per wakeup), so paced against flat
  // out would measure the pacing.
  const paced = meanOf(size.floorPacedAround);
  const sat = size.saturation;
  const flatOut = size.floorFlatOutAround === undefined ? undefined : meanOf(size.floorFlatOutAround);
  goals.push({
    goal: 'CPU per probe <= 1.3x the bare handshake loop',
    value: `${ratio(c.cpuSecondsPer1000Probes, paced.cpuSecondsPer1000)} at ${size.floorPacedAround[0].rate.toFixed(0)} probes/s (${fixed(c.cpuSecondsPer1000Probes, 3)} vs ${paced.text})`
      + (sat === undefined || flatOut === undefined ? '' : `; ${ratio(sat.cpuSecondsPer1000Probes, flatOut.cpuSecondsPer1000)} both flat out (${fixed(sat.cpuSecondsPer1000Probes, 3)} vs ${flatOut.text})`)
      + at,
    met: decided(c.cpuSecondsPer1000Probes <= 1.3 * paced.cpuSecondsPer1000 && (sat === undefined || flatOut === undefined || sat.cpuSecondsPer1000Probes <= 1.3 * flatOut.cpuSecondsPer1000)),
  });
  return goals;
}

export function formatReport(result: BenchResult): string {
  const header = `certexp bench ${result.startedAt} (certexp ${result.certexpCommit}; ${result.host.cpus} CPUs ${result.host.cpuModel}; node ${result.host.node}; `
    + `blackbox_exporter ${result.blackbox.found ? result.blackbox.version : `ABSENT: ${result.blackbox.reason}`})`;
  const goals = table([
    ['target', 'measured', 'verdict'],
    ...result.goals.map((g) => [g.goal, g.value, g.met === undefined ? 'n/a' : g.met ? 'MET' : 'NOT MET']),
  ]);
  return [header, '', ...result.sizes.map((size) => `${sizeTable(size)}\n`), 'Targets', goals].join('\n');
}
