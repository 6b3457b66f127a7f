import type { Logger } from 'pino';
import { systemClock, type Clock } from './clock';
import { ConfigError } from './config/config-error';
import { isIP } from 'node:net';
import type { Config, TargetConfig, TargetSettings } from './config/config-types';
import { loadConfig as defaultLoadConfig } from './config/load-config';
import { FileSources } from './files/file-sources';
import { adHocTarget } from './config/resolve-targets';
import { ExporterMetrics, type ReloadStatus } from './metrics/exporter-metrics';
import { ChainAnalyzer } from './pki/analyze-chain';
import { CertificateCache } from './pki/certificate-cache';
import { sha256Hex } from './pki/certificate';
import { SignatureVerifier } from './pki/signature';
import type { TrustStore } from './pki/trust-store';
import { TrustStores } from './pki/trust-stores';
import { VERIFY_FAILURE_REASONS } from './pki/verify-reasons';
import { AdHocAccess, guardedResolver } from './probing/ad-hoc-access';
import { PROBE_FAILURE_REASONS } from './probing/probe-failure';
import { probeIdentity, probeRequestFor } from './probing/probe-request';
import type { Prober } from './probing/prober';
import { systemResolver, type Resolver } from './probing/resolver';
import { createProber } from './probing/probers';
import { CrlClient } from './probing/crl-client';
import { httpCrlFetcher } from './probing/crl-fetcher';
import { OcspClient } from './probing/ocsp-client';
import { httpOcspFetcher } from './probing/ocsp-fetcher';
import { assessProbe } from './results/assess-probe';
import { assessRevocation } from './results/assess-revocation';
import type { FileResult } from './results/file-result';
import { ResultsStore } from './results/results-store';
import { stateOf, type TargetResult } from './results/target-result';
import { ConcurrencyLimit } from './scheduling/concurrency-limit';
import { watchEventLoopDelay } from './scheduling/event-loop-delay';
import { Scheduler } from './scheduling/scheduler';
import { formatShard, inShard, WHOLE, type Shard } from './scheduling/shard';

export interface DaemonOptions {
  readonly configFile: string;
  readonly logger: Logger;
  readonly concurrency: number;
  /**
   * Mean event-loop delay (ms) above which fewer scheduled probes run at once, down to MIN_LIMIT
   * (--probe.loop-delay-target); 0 or absent: always `concurrency`.
   */
  readonly loopDelayTargetMs?: number;
  /** Scheduled probes due within one window this long start together (--probe.batch-window); default 0, each at its slot. */
  readonly batchWindowMs?: number;
  /** Bounds of the handshake histogram, in seconds. */
  readonly handshakeBuckets?: readonly number[];
  readonly clock?: Clock;
  readonly resolver?: Resolver;
  readonly loadConfig?: (file: string) => Promise<Config>;
  /** The targets this replica schedules (--shard); default all. */
  readonly shard?: Shard;
}

/** A probe outside the schedule (/probe): its budget, and whether its target is ad hoc (probe.allow). */
export interface ProbeNowOptions {
  readonly timeoutMs: number;
  readonly adHoc: boolean;
}

/** targets: in the file; scheduled: this replica's shard of them. */
export type ReloadResult = { readonly ok: true; readonly targets: number; readonly scheduled: number } | { readonly ok: false; readonly error: string };

/** How often the scheduler's concurrency follows the event loop's delay: a late second (a scrape) costs one step down. */
const LOOP_DELAY_WINDOW_MS = 1000;

/** A configured target with what probing it needs, fixed for the life of one config generation. */
interface ActiveTarget {
  readonly config: TargetConfig;
  readonly trust: TrustStore;
  /** What makes an old result meaningless for the new config: where we connect, what we check, how, and what we trust. */
  readonly identity: string;
}

/** The `probe:` section of one config generation, ready to check and probe ad-hoc targets. */
interface AdHoc {
  readonly access: AdHocAccess;
  readonly settings: TargetSettings;
  readonly trust: TrustStore;
}

interface TargetLookup {
  readonly byName: ReadonlyMap<string, TargetConfig>;
  /** "host:port", and "[host]:port" too; the first target in the file wins. */
  readonly byAddress: ReadonlyMap<string, TargetConfig>;
}

function lookupOf(targets: readonly TargetConfig[]): TargetLookup {
  const byAddress = new Map<string, TargetConfig>();
  for (const target of targets) {
    for (const key of [`${target.host}:${target.port}`, `[${target.host}]:${target.port}`]) if (!byAddress.has(key)) byAddress.set(key, target);
  }
  return { byName: new Map(targets.map((t) => [t.name, t])), byAddress };
}

/**
 * The running exporter: config generations, the scheduler, and the path from a probe's outcome
 * to the results store. It owns no sockets or HTTP; main.ts and web/ sit around it.
 */
export class Daemon {
  readonly store: ResultsStore;
  readonly metrics: ExporterMetrics;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly prober: Prober;
  /** For ad-hoc targets: its resolver refuses denied addresses before anything connects. */
  private readonly adHocProber: Prober;
  /** One for all targets: a leaf served by many targets is asked about once per nextUpdate. */
  private readonly ocsp: OcspClient;
  /** One for all targets: a distribution point is fetched once per nextUpdate, however many leaves it covers. */
  private readonly crl: CrlClient;
  private readonly analyzer: ChainAnalyzer;
  private readonly trustStores: TrustStores;
  private readonly scheduler: Scheduler;
  /** The `files:` entries: certificate files read from disk. */
  private readonly files: FileSources;
  private readonly loadConfig: (file: string) => Promise<Config>;
  readonly shard: Shard;
  /** This replica's shard of the configured targets: scheduled, stored, exported. */
  private targets = new Map<string, ActiveTarget>();
  /** Every configured target, whatever its shard, by name and by host:port: /probe answers for all of them. */
  private lookup: TargetLookup = { byName: new Map(), byAddress: new Map() };
  /** Absent: /probe answers for configured targets only. */
  private adHoc: AdHoc | undefined;
  private reloadStatus: ReloadStatus = { successful: false, lastSuccessAt: 0 };
  /** Stops adapting the scheduler's concurrency to the event loop's delay. */
  private stopAdapting: (() => void) | undefined;
  private pendingReload: Promise<ReloadResult> | undefined;
  private loaded = false;

  constructor(private readonly options: DaemonOptions) {
    this.clock = options.clock ?? systemClock;
    this.shard = options.shard ?? WHOLE;
    this.log = options.logger;
    this.loadConfig = options.loadConfig ?? ((file) => defaultLoadConfig(file));
    this.store = new ResultsStore(options.handshakeBuckets);
    const cache = new CertificateCache();
    this.analyzer = new ChainAnalyzer(cache, new SignatureVerifier());
    this.trustStores = new TrustStores(cache);
    const resolver = options.resolver ?? systemResolver;
    this.prober = createProber({ resolver, clock: this.clock });
    this.adHocProber = createProber({ resolver: guardedResolver(resolver, () => this.adHoc?.access), clock: this.clock });
    this.ocsp = new OcspClient({ fetch: httpOcspFetcher(), clock: this.clock });
    this.crl = new CrlClient({ fetch: httpCrlFetcher(), clock: this.clock });
    this.files = new FileSources({ analyzer: this.analyzer, trustStores: this.trustStores, clock: this.clock, log: this.log });
    this.metrics = new ExporterMetrics({
      store: this.store,
      targets: () => this.configuredTargets,
      clock: this.clock,
      reloadStatus: () => this.reloadStatus,
      shard: this.shard,
      files: () => this.files.reports(),
      holdProbes: () => this.scheduler.hold(),
      probesInFlight: () => ({ running: this.scheduler.active, limit: this.scheduler.currentLimit }),
    });
    this.scheduler = new Scheduler({
      clock: this.clock,
      concurrency: options.concurrency,
      batchWindowMs: options.batchWindowMs ?? 0,
      onSkip: (target) => { this.log.warn({ target }, 'probe skipped: the previous probe of this target is still running'); },
    });
  }

  /** Ready once a config has been loaded. */
  get ready(): boolean {
    return this.loaded;
  }

  /** The configured targets of this replica's shard (all of them when not sharded). */
  get configuredTargets(): readonly TargetConfig[] {
    return Array.from(this.targets.values(), (t) => t.config);
  }

  /** What the last pass of every `files:` entry found, file by file. */
  fileResults(): FileResult[] {
    return this.files.reports().flatMap((report) => report.files.map((f) => f.result));
  }

  /** Configured targets in the file, whatever their shard. */
  get targetCount(): number {
    return this.lookup.byName.size;
  }

  /** Loads the config for the first time; a ConfigError here is fatal for the caller to report. */
  async start(): Promise<void> {
    const config = await this.loadConfig(this.options.configFile);
    this.apply(config);
    const targetDelayMs = this.options.loopDelayTargetMs ?? 0;
    if (targetDelayMs > 0) {
      const limit = new ConcurrencyLimit({ max: this.options.concurrency, targetDelayMs });
      this.stopAdapting = watchEventLoopDelay(LOOP_DELAY_WINDOW_MS, (delayMs) => { this.scheduler.setLimit(limit.observe(delayMs)); });
    }
  }

  /** Reloads the config; a bad file keeps the running one. Concurrent calls share one reload. */
  reload(): Promise<ReloadResult> {
    this.pendingReload ??= this.reloadNow().finally(() => { this.pendingReload = undefined; });
    return this.pendingReload;
  }

  /** A probe now, outside the schedule and the results store (the /probe endpoint). */
  async probeNow(config: TargetConfig, options: ProbeNowOptions): Promise<TargetResult> {
    const { adHoc } = this;
    const active = options.adHoc && adHoc !== undefined ? { config, trust: adHoc.trust, identity: '' } : this.activate(config);
    return this.probe(active, undefined, { prober: options.adHoc ? this.adHocProber : this.prober, timeoutMs: options.timeoutMs });
  }

  /**
   * The target /probe may probe for host:port, which the config does not list, or why not:
   * `probe.allow` must match it as requested, and an IP literal must not be a denied address.
   * (Names are checked against the deny list when they resolve, in the probe.)
   */
  adHocTarget(host: string, port: number, ipv6: boolean, serverName?: string): { readonly target: TargetConfig } | { readonly refused: string } {
    const { adHoc } = this;
    if (adHoc === undefined) return { refused: 'it is not in the configuration, and the config has no probe: section, so /probe answers for configured targets only' };
    const why = adHoc.access.refusal(host, port, isIP(host) !== 0);
    return why === undefined ? { target: adHocTarget(adHoc.settings, host, port, ipv6, serverName) } : { refused: `it is not in the configuration, and ${why}` };
  }

  /** The configured target a /probe request names, by `target` label or by host:port, in any shard. */
  findTarget(query: string): TargetConfig | undefined {
    return this.lookup.byName.get(query) ?? this.lookup.byAddress.get(query);
  }

  async stop(deadlineMs: number): Promise<void> {
    this.stopAdapting?.();
    await Promise.all([this.scheduler.stop(deadlineMs), this.files.stop(deadlineMs)]);
  }

  private async reloadNow(): Promise<ReloadResult> {
    try {
      const config = await this.loadConfig(this.options.configFile);
      const scheduled = this.apply(config);
      return { ok: true, targets: config.targets.length, scheduled };
    } catch (error) {
      this.reloadStatus = { ...this.reloadStatus, successful: false };
      this.metrics.invalidate();
      const message = error instanceof Error ? error.message : String(error);
      const issues = error instanceof ConfigError ? error.issues : undefined;
      this.log.error({ file: this.options.configFile, issues, err: error instanceof ConfigError ? undefined : error },
        'config reload failed; the last good config keeps running');
      return { ok: false, error: message };
    }
  }

  private trustFor(settings: TargetSettings, target: string): TrustStore {
    const { store, rejected } = this.trustStores.forAnchors(settings.caCertificates);
    if (rejected > 0) this.log.warn({ target, ca_file: settings.caFile, rejected }, 'ca_file certificates that could not be parsed are not trusted');
    return store;
  }

  private activate(config: TargetConfig): ActiveTarget {
    const store = this.trustFor(config, config.name);
    const anchors = config.caCertificates.map((der) => der.toString('base64')).join(',');
    // Hashed: kept for every target until the next reload, and the anchors alone are kilobytes.
    const identity = sha256Hex(Buffer.from(JSON.stringify([probeIdentity(config), config.policy, anchors, config.expectations ?? null, config.ocsp ?? null, config.crl ?? null])));
    return { config, trust: store, identity };
  }

  /** Makes `config` the running one; returns how many of its targets this replica schedules. */
  private apply(config: Config): number {
    const own = config.targets.filter((t) => inShard(t.name, this.shard));
    const next = new Map(own.map((t) => [t.name, this.activate(t)]));
    for (const [name, active] of next) {
      const old = this.targets.get(name);
      if (old !== undefined && old.identity !== active.identity) this.store.delete(name);
    }
    this.store.retain(new Set(next.keys()));
    this.targets = next;
    this.lookup = lookupOf(config.targets);
    const { probe } = config;
    this.adHoc = probe === undefined ? undefined : { access: new AdHocAccess(probe), settings: probe.settings, trust: this.trustFor(probe.settings, 'probe.defaults') };
    // Removed targets must not linger in a /metrics body rendered before the reload.
    this.metrics.invalidate();
    this.files.apply(config.files);
    this.trustStores.retain(new Set([...Array.from(next.values(), (t) => t.trust), ...this.files.trusts(), ...(this.adHoc === undefined ? [] : [this.adHoc.trust])]));
    this.scheduler.sync(Array.from(next.values(), (active) => ({
      key: active.config.name,
      intervalMs: active.config.intervalMs,
      run: () => this.runScheduled(active),
    })));
    this.loaded = true;
    this.reloadStatus = { successful: true, lastSuccessAt: this.clock.now() };
    const sharded = this.shard.count > 1 ? { shard: formatShard(this.shard), scheduled: next.size } : {};
    // Whether /probe is open to ad-hoc targets is worth a line: it is the exporter's exposure.
    const adHoc = probe === undefined ? {} : { probe_allow: probe.allow.map((p) => p.text), probe_deny: probe.deny.length };
    this.log.info({ file: config.file, targets: config.targets.length, files: config.files.length, ...sharded, ...adHoc }, 'config loaded');
    return next.size;
  }

  /** One probe of `active`, through `via.prober` (default the plain one), within `via.timeoutMs` (default the target's timeout). */
  private async probe(active: ActiveTarget, previous: TargetResult | undefined, via: { readonly prober?: Prober; readonly timeoutMs?: number } = {}): Promise<TargetResult> {
    const { config } = active;
    const signal = AbortSignal.timeout(via.timeoutMs ?? config.timeoutMs);
    const outcome = await (via.prober ?? this.prober)(probeRequestFor(config), signal);
    const assessed = assessProbe({
      target: config.name,
      serverName: config.serverName,
      policy: config.policy,
      ...(config.expectations === undefined ? {} : { expectations: config.expectations }),
      outcome,
      previous,
      trust: active.trust,
      analyzer: this.analyzer,
      clock: this.clock,
    });
    const stapled = outcome.ok ? outcome.ocspResponse : undefined;
    return assessRevocation({
      result: assessed, stapled, previous, mode: config.ocsp ?? 'stapled', client: this.ocsp,
      crl: { mode: config.crl ?? 'none', client: this.crl }, clock: this.clock, signal,
    });
  }

  private async runScheduled(active: ActiveTarget): Promise<void> {
    const name = active.config.name;
    let result: TargetResult;
    try {
      result = await this.probe(active, this.store.latest(name));
    } catch (error) {
      // Probers return outcomes; reaching here is a bug, and it must not stop the schedule.
      this.log.error({ target: name, err: error }, 'probe crashed');
      return;
    }
    // A reload during the probe may have removed or replaced this target: its result is void.
    if (this.targets.get(name) !== active) return;
    const previous = this.store.record(result);
    this.metrics.prepare(result);
    this.logTransition(previous, result);
    this.logRevocation(previous, result);
  }

  /** One log line per change of state, not per probe: logs stay readable at thousands of targets. */
  private logTransition(previous: TargetResult | undefined, result: TargetResult): void {
    const state = stateOf(result);
    if (previous !== undefined && stateOf(previous) === state) return;
    const fields = { target: result.target, state, previous: previous === undefined ? undefined : stateOf(previous) };
    if (result.failure !== undefined) {
      this.log.warn({ ...fields, reason: result.failure.reason, error: result.failure.error, fix: PROBE_FAILURE_REASONS[result.failure.reason] }, 'target probe failing');
    } else if (result.chain !== undefined && !result.chain.verified) {
      this.log.warn({ ...fields, reasons: result.chain.reasons, fixes: result.chain.reasons.map((r) => VERIFY_FAILURE_REASONS[r]) }, 'target verification failing');
    } else {
      this.log.info(fields, 'target ok');
    }
  }

  /** A revocation check that starts failing (a responder or CRL server down, a broken CRL) is logged when it starts and ends, not per probe. */
  private logRevocation(previous: TargetResult | undefined, result: TargetResult): void {
    for (const check of ['ocsp', 'crl'] as const) {
      const now = result[check];
      const before = previous?.[check];
      if (now?.status === 'error') {
        if (before?.status !== 'error' || before.error !== now.error) this.log.warn({ target: result.target, check, error: now.error }, 'revocation check failing');
      } else if (now !== undefined && before?.status === 'error') {
        this.log.info({ target: result.target, check, status: now.status }, 'revocation check answering again');
      }
    }
  }
}
