import { collectDefaultMetrics, Counter, Gauge, Registry, type OpenMetricsContentType } from 'prom-client';
import type { Clock } from '../clock';
import type { TargetConfig } from '../config/config-types';
import type { FileSourceReport } from '../results/file-result';
import type { ResultsStore } from '../results/results-store';
import type { Shard } from '../scheduling/shard';
import type { TargetResult } from '../results/target-result';
import { VERSION } from '../version';
import type { AnyRegistry } from './any-registry';
import type { Format } from './exposition';
import { BodyBroadcast, type BodyDestination } from './body-broadcast';
import { encodeBody, writeBody, type BodyPart, type EncodedBody } from './exposition-body';
import { renderFileFamilies } from './file-families';
import { configFamilyParts, countFamilyParts, encodeTarget, renderResultFamilies, resultFamilyParts } from './target-families';

export interface ReloadStatus {
  readonly successful: boolean;
  /** Epoch milliseconds of the last successful (re)load. */
  readonly lastSuccessAt: number;
}

export interface RenderedMetrics {
  readonly contentType: string;
  readonly body: string;
}

/** A gzipped /metrics body in one format, shared by every scraper that asks for it within RENDER_REUSE_MS. */
export interface EncodedMetrics {
  readonly contentType: string;
  readonly body: EncodedBody;
}

/** A body being rendered or rendered, and when (monotonic ms) its rendering began. */
interface RecentBody {
  readonly at: number;
  readonly rendered: Promise<EncodedMetrics>;
}

const CONTENT_TYPE: Readonly<Record<Format, string>> = {
  text: Registry.PROMETHEUS_CONTENT_TYPE,
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
};

/**
 * How long a gzipped body is served again. Ten scrapers arriving together (HA pairs, federation)
 * then cost one rendering of thousands of targets, not ten; a second is nothing next to scrape
 * intervals, and a reload invalidates it at once. About 2.5 MB at 10,000 targets, per format.
 */
const RENDER_REUSE_MS = 1000;

const LINT_BREAKING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

function negotiate(accept: string | undefined): Format {
  return accept?.includes('application/openmetrics-text') === true ? 'openmetrics' : 'text';
}

/** The content type of the body for this Accept header. */
export function metricsContentType(accept: string | undefined): string {
  return CONTENT_TYPE[negotiate(accept)];
}

function newRegistry(format: Format): AnyRegistry {
  if (format === 'text') return new Registry();
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return registry;
}

/** Text format separates prom-client's part with a blank line; OpenMetrics ends with one `# EOF`, which prom-client writes. */
const SEPARATOR: Readonly<Record<Format, string>> = { text: '\n', openmetrics: '' };

/**
 * What became of a /probe request: ok, its probe ran and its metrics were returned (whether the
 * target passed or not); invalid, a malformed or over-long request (400, 414); denied, a target
 * neither configured nor allowed, or an address it may not reach (403); overloaded, no probe slot
 * within the scrape's budget (503).
 */
export const PROBE_REQUEST_OUTCOMES = ['ok', 'invalid', 'denied', 'overloaded'] as const;
export type ProbeRequestOutcome = (typeof PROBE_REQUEST_OUTCOMES)[number];

export interface ExporterMetricsDeps {
  readonly store: ResultsStore;
  /** The configured targets, probed yet or not: staleness alerts compare against their interval. */
  readonly targets: () => Iterable<TargetConfig>;
  readonly clock: Clock;
  readonly reloadStatus: () => ReloadStatus;
  /** This replica's shard (--shard); shard 0 of 1 when not sharded. */
  readonly shard: Shard;
  /** The `files:` entries as their last passes left them. */
  readonly files: () => readonly FileSourceReport[];
  /** Holds back the start of new probes (Scheduler.hold) while a body is rendered; call the result to let them go. */
  readonly holdProbes: () => () => void;
  /** Scheduled probes running now, and how many may run at once now. */
  readonly probesInFlight: () => { readonly running: number; readonly limit: number };
}

/**
 * /metrics: the per-target families (thousands of series) rendered from the results store by
 * target-families.ts, from fragments cached per probe result; the exporter's own few metrics
 * and the process metrics through prom-client. prom-client renames counters in place when it
 * writes OpenMetrics, so each format has a registry of its own.
 */
export class ExporterMetrics {
  private readonly registries: Readonly<Record<Format, AnyRegistry>>;
  /** One per registry (prom-client renames counters in place for OpenMetrics); counted together. */
  private readonly probeRequests: Counter[] = [];
  private readonly recent = new Map<Format, RecentBody>();
  private readonly broadcasts: Readonly<Record<Format, BodyBroadcast>>;

  constructor(private readonly deps: ExporterMetricsDeps) {
    const build = (format: Format): AnyRegistry => {
      const registry = newRegistry(format);
      new Gauge({
        name: 'certexp_config_last_reload_successful',
        help: 'Whether the last configuration reload succeeded.',
        registers: [registry],
        collect() { this.set(deps.reloadStatus().successful ? 1 : 0); },
      });
      new Gauge({
        name: 'certexp_config_last_reload_success_timestamp_seconds',
        help: 'When the configuration was last loaded successfully.',
        registers: [registry],
        collect() { this.set(deps.reloadStatus().lastSuccessAt / 1000); },
      });
      new Gauge({
        name: 'certexp_build_info',
        help: 'certexp build information (value 1).',
        labelNames: ['version', 'nodejs_version'],
        registers: [registry],
      }).set({ version: VERSION, nodejs_version: process.version }, 1);
      new Gauge({
        name: 'certexp_shard_info',
        help: 'The shard of the configured targets this replica schedules (value 1); shard 0 of 1 when not sharded.',
        labelNames: ['shard', 'shards'],
        registers: [registry],
      }).set({ shard: String(deps.shard.index), shards: String(deps.shard.count) }, 1);
      new Gauge({
        name: 'certexp_probes_in_flight',
        help: 'Scheduled probes running now.',
        registers: [registry],
        collect() { this.set(deps.probesInFlight().running); },
      });
      new Gauge({
        name: 'certexp_probe_concurrency_limit',
        help: 'Scheduled probes allowed at once now: --probe.concurrency, lower while the event loop is late (--probe.loop-delay-target).',
        registers: [registry],
        collect() { this.set(deps.probesInFlight().limit); },
      });
      const probeRequests = new Counter({
        name: 'certexp_probe_requests_total',
        help: '/probe requests by outcome: ok, invalid, denied, overloaded.',
        labelNames: ['outcome'],
        registers: [registry],
      });
      // Every outcome from the start, so rate() and alerts see a 0, not an absent series.
      for (const outcome of PROBE_REQUEST_OUTCOMES) probeRequests.labels(outcome).inc(0);
      this.probeRequests.push(probeRequests);
      collectDefaultMetrics({ register: registry });
      // prom-client names these gauges _total, which promtool rejects; our /metrics must lint clean.
      for (const name of LINT_BREAKING_DEFAULTS) registry.removeSingleMetric(name);
      return registry;
    };
    this.registries = { text: build('text'), openmetrics: build('openmetrics') };
    const broadcast = (format: Format): BodyBroadcast => new BodyBroadcast((consume) => this.withParts(format, (parts) => writeBody(parts, consume)));
    this.broadcasts = { text: broadcast('text'), openmetrics: broadcast('openmetrics') };
  }

  /** The body for this Accept header, gzipped. */
  render(accept: string | undefined): Promise<EncodedMetrics> {
    const format = negotiate(accept);
    const now = this.deps.clock.monotonic();
    const recent = this.recent.get(format);
    if (recent !== undefined && now - recent.at < RENDER_REUSE_MS) return recent.rendered;
    const rendered = this.withParts(format, encodeBody).then((body) => ({ contentType: CONTENT_TYPE[format], body }));
    const entry: RecentBody = { at: now, rendered };
    this.recent.set(format, entry);
    // Megabytes at 10,000 targets: not held until the next scrape a minute later.
    setTimeout(() => {
      if (this.recent.get(format) === entry) this.recent.delete(format);
    }, RENDER_REUSE_MS).unref();
    return entry.rendered;
  }

  /**
   * Streams the body for this Accept header, uncompressed, to the destination: rendered for it
   * and every scraper that joins before the first chunk goes out (BodyBroadcast), not held.
   */
  stream(accept: string | undefined, destination: BodyDestination): Promise<void> {
    return this.broadcasts[negotiate(accept)].send(destination);
  }

  countProbeRequest(outcome: ProbeRequestOutcome): void {
    for (const counter of this.probeRequests) counter.labels(outcome).inc();
  }

  /** Encodes a just-recorded result's lines now, off the scrape's path, and keeps them with the target in the store. */
  prepare(result: TargetResult): Buffer {
    const { store } = this.deps;
    const encoded = encodeTarget(result, store.countsOf(result.target), store.handshakeBuckets, store.staleRendered(result.target));
    store.attachRendered(result, encoded);
    return encoded;
  }

  /** Forgets rendered bodies, so the next scrape shows a change (a reload) at once. */
  invalidate(): void {
    this.recent.clear();
  }

  /**
   * Hands the body's parts to `write`. Probes wait while it runs: it takes a core for about
   * 100 ms at 10,000 targets and yields between slices, so probes started meanwhile would stretch
   * it and be timed across it.
   */
  private async withParts<T>(format: Format, write: (parts: Iterable<BodyPart>) => Promise<T>): Promise<T> {
    const { store, clock, targets } = this.deps;
    const release = this.deps.holdProbes();
    try {
      const files = this.deps.files();
      const theirs = await this.registries[format].metrics();
      const results = store.results();
      // Encoded at each probe; a result recorded without prepare() (none in the daemon) is encoded now.
      const encoded = results.map((result) => store.renderedOf(result.target) ?? this.prepare(result));
      return await write(function* parts() {
        yield* resultFamilyParts(results, encoded, clock.now(), format, files.flatMap((source) => source.files.map((f) => f.result)));
        yield* countFamilyParts(encoded, format);
        yield* configFamilyParts(targets(), format);
        yield renderFileFamilies(files, format);
        yield SEPARATOR[format];
        yield theirs;
      }());
    } finally {
      release();
    }
  }
}

/** The metrics of one /probe request, for that result alone (blackbox_exporter's multi-target pattern). */
export function renderProbeResult(result: TargetResult, clock: Clock, accept: string | undefined): RenderedMetrics {
  const format = negotiate(accept);
  return { contentType: CONTENT_TYPE[format], body: `${renderResultFamilies([result], clock.now(), format)}${format === 'openmetrics' ? '# EOF\n' : ''}` };
}
