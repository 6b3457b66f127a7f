/**
 * Every `files:` entry of the running config, each read on its own interval and whenever the
 * file system reports a change where its files live. Files are read by every replica, whatever
 * its --shard: they are local to the host or pod that mounts them.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { FileSourceConfig } from '../config/config-types';
import type { ChainAnalyzer } from '../pki/analyze-chain';
import type { TrustStore } from '../pki/trust-store';
import type { TrustStores } from '../pki/trust-stores';
import type { FileSourceReport } from '../results/file-result';
import { Scheduler } from '../scheduling/scheduler';
import { DEFAULT_DEBOUNCE_MS, DEFAULT_MAX_WATCHED_DIRECTORIES, DirectoryWatcher } from './directory-watcher';
import { FileSource } from './file-source';

export interface FileSourcesDeps {
  readonly analyzer: ChainAnalyzer;
  readonly trustStores: TrustStores;
  readonly clock: Clock;
  readonly log: Logger;
}

interface ActiveSource {
  readonly source: FileSource;
  readonly watcher: DirectoryWatcher;
  readonly trust: TrustStore;
  /** What makes the old files' results meaningless: what is read, and how it is verified. */
  readonly identity: string;
}

/** Reading is cheap and mostly skipped (unchanged files are not opened): a few entries at once is plenty. */
const CONCURRENCY = 4;

export class FileSources {
  private active = new Map<string, ActiveSource>();
  private readonly scheduler: Scheduler;

  constructor(private readonly deps: FileSourcesDeps) {
    this.scheduler = new Scheduler({ clock: deps.clock, concurrency: CONCURRENCY });
  }

  /** Makes the entries exactly `configs`: unchanged ones keep their files' state, new and changed ones are read at once. */
  apply(configs: readonly FileSourceConfig[]): void {
    const next = new Map<string, ActiveSource>();
    for (const config of configs) {
      const { store: trust, rejected } = this.deps.trustStores.forAnchors(config.caCertificates);
      if (rejected > 0) this.deps.log.warn({ source: config.name, ca_file: config.caFile, rejected }, 'ca_file certificates that could not be parsed are not trusted');
      const anchors = config.caCertificates.map((der) => der.toString('base64')).join(',');
      // The password by digest: identities are compared, never logged, but a secret has no business in one.
      const password = config.pkcs12Password === undefined ? null : createHash('sha256').update(config.pkcs12Password.reveal()).digest('hex');
      const identity = JSON.stringify([config.patterns, config.policy, anchors, config.serverName ?? null, password]);
      const old = this.active.get(config.name);
      if (old?.identity === identity) {
        next.set(config.name, old);
        continue;
      }
      const source = new FileSource(config, { analyzer: this.deps.analyzer, trust, clock: this.deps.clock, log: this.deps.log });
      const watcher = new DirectoryWatcher(() => { void source.refresh(); }, {
        debounceMs: DEFAULT_DEBOUNCE_MS, maxDirectories: DEFAULT_MAX_WATCHED_DIRECTORIES, log: this.deps.log, source: config.name,
      });
      // Each pass says where its files live now: a renewal may have moved them (a new ..data).
      source.onDirectories((directories) => { void watcher.watch(directories); });
      next.set(config.name, { source, watcher, trust, identity });
      void source.refresh();
    }
    for (const [name, old] of this.active) if (next.get(name) !== old) this.close(old);
    this.active = next;
    // The interval from the new config: an entry that changed only its interval keeps its source.
    this.scheduler.sync(configs.flatMap((config) => {
      const active = next.get(config.name);
      return active === undefined ? [] : [{ key: config.name, intervalMs: config.intervalMs, run: () => active.source.refresh() }];
    }));
  }

  reports(): FileSourceReport[] {
    return Array.from(this.active.values(), ({ source }) => source.report() ?? []).flat();
  }

  /** The trust stores in use, so the daemon keeps them across a reload. */
  trusts(): TrustStore[] {
    return Array.from(this.active.values(), ({ trust }) => trust);
  }

  async stop(deadlineMs: number): Promise<void> {
    for (const active of this.active.values()) this.close(active);
    await this.scheduler.stop(deadlineMs);
  }

  private close({ source, watcher }: ActiveSource): void {
    source.close();
    watcher.close();
  }
}
