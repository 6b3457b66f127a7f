import { collectDefaultMetrics, Gauge, Histogram, Registry, type OpenMetricsContentType } from 'prom-client';
import type { AnyRegistry } from './any-registry';
import type { Clock } from '../clock';
import type { TargetConfig } from '../config/config-types';
import type { ResultsStore } from '../results/results-store';
import type { TargetResult } from '../results/target-result';
import { VERSION } from '../version';
import { registerProbeCounters } from './probe-counters';
import { registerTargetGauges } from './target-gauges';

export interface ReloadStatus {
  readonly successful: boolean;
  /** Epoch milliseconds of the last successful (re)load. */
  readonly lastSuccessAt: number;
}

export interface RenderedMetrics {
  readonly contentType: string;
  readonly body: string;
}

/** Few buckets: every bucket is a series per target, and 2 s is the SLO line operators alert on. */
export const DEFAULT_HANDSHAKE_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5] as const;

type Format = 'text' | 'openmetrics';

const LINT_BREAKING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

function negotiate(accept: string | undefined): Format {
  return accept?.includes('application/openmetrics-text') === true ? 'openmetrics' : 'text';
}

function newRegistry(format: Format): AnyRegistry {
  if (format === 'text') return new Registry();
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return registry;
}

async function render(registry: AnyRegistry): Promise<RenderedMetrics> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

export interface ExporterMetricsDeps {
  readonly store: ResultsStore;
  /** The configured targets, probed yet or not: staleness alerts compare against their interval. */
  readonly targets: () => Iterable<TargetConfig>;
  readonly clock: Clock;
  readonly reloadStatus: () => ReloadStatus;
  readonly handshakeBuckets?: readonly number[];
}

/**
 * The /metrics registries, one per exposition format. prom-client renames counters in place
 * when it writes OpenMetrics, so a metric object cannot serve both formats: each format gets
 * its own objects, all reading the same results store.
 */
export class ExporterMetrics {
  private readonly registries: Readonly<Record<Format, AnyRegistry>>;
  private readonly histograms: readonly Histogram<'target'>[];

  constructor(deps: ExporterMetricsDeps) {
    const buckets = [...(deps.handshakeBuckets ?? DEFAULT_HANDSHAKE_BUCKETS)];
    const build = (format: Format): { registry: AnyRegistry; histogram: Histogram<'target'> } => {
      const registry = newRegistry(format);
      registerTargetGauges(registry, () => deps.store.results(), deps.clock);
      registerProbeCounters(registry, deps.store);
      new Gauge({
        name: 'certexp_probe_interval_seconds',
        help: 'Configured probe interval of each target.',
        labelNames: ['target'],
        registers: [registry],
        collect() {
          this.reset();
          for (const target of deps.targets()) this.set({ target: target.name }, target.intervalMs / 1000);
        },
      });
      const histogram = new Histogram({
        name: 'certexp_tls_handshake_duration_seconds',
        help: 'TLS handshake latency, from TCP connected to handshake done.',
        labelNames: ['target'],
        buckets,
        registers: [registry],
      });
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
      collectDefaultMetrics({ register: registry });
      // prom-client names these gauges _total, which promtool rejects; our /metrics must lint clean.
      for (const name of LINT_BREAKING_DEFAULTS) registry.removeSingleMetric(name);
      return { registry, histogram };
    };
    const text = build('text');
    const openMetrics = build('openmetrics');
    this.registries = { text: text.registry, openmetrics: openMetrics.registry };
    this.histograms = [text.histogram, openMetrics.histogram];
  }

  observeHandshake(target: string, seconds: number): void {
    for (const histogram of this.histograms) histogram.observe({ target }, seconds);
  }

  /** Drops the series that live outside the results store (the histogram's). */
  forget(target: string): void {
    for (const histogram of this.histograms) histogram.remove({ target });
  }

  render(accept: string | undefined): Promise<RenderedMetrics> {
    return render(this.registries[negotiate(accept)]);
  }
}

/** The metrics of one /probe request, in a registry of its own (blackbox_exporter's multi-target pattern). */
export function renderProbeResult(result: TargetResult, clock: Clock, accept: string | undefined): Promise<RenderedMetrics> {
  const registry = newRegistry(negotiate(accept));
  registerTargetGauges(registry, () => [result], clock);
  return render(registry);
}
