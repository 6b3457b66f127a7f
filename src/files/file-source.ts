/**
 * One `files:` entry at run time: each pass expands the globs, reads every file whose version
 * changed (a file whose inode, size and times are the same is not opened; one whose bytes are
 * the same is not decoded again), and verifies every chain with the daemon's one analyzer at
 * the pass's time, so a certificate expires here exactly as it would on a server.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { FileSourceConfig } from '../config/config-types';
import type { ChainAnalyzer } from '../pki/analyze-chain';
import type { TrustStore } from '../pki/trust-store';
import { VERIFY_FAILURE_REASONS } from '../pki/verify-reasons';
import type { FileReport, FileResult, FileSourceReport } from '../results/file-result';
import { stateOf } from '../results/target-result';
import { decodeCertificateFile, type DecodedFile } from './certificate-file';
import { FILE_READ_REASONS, type FileReadFailure, type FileReadReason } from './file-read-reasons';
import { DEFAULT_GLOB_LIMITS, expandGlobs, GLOB_ERROR_REASONS, type GlobErrorReason, type GlobLimits } from './glob';
import { readCertificateFile } from './read-file';

export interface FileSourceDeps {
  readonly analyzer: ChainAnalyzer;
  readonly trust: TrustStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly limits?: GlobLimits;
}

/** What is remembered of one file between passes. */
interface FileState {
  /** The version (inode, size, times) last read, and what its bytes decoded to. */
  readonly version: string | undefined;
  readonly digest: string | undefined;
  readonly decoded: DecodedFile | undefined;
  /** The last chain the file held, verified again at every pass until the file is gone. */
  readonly chain: readonly Buffer[] | undefined;
  /** undefined for a file of private keys alone: not a certificate file, not reported. */
  readonly result: FileResult | undefined;
  readonly readErrors: Map<FileReadReason, number>;
}

function increment<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export class FileSource {
  private files = new Map<string, FileState>();
  private matched = 0;
  private readonly globErrors = new Map<GlobErrorReason, number>();
  private lastGlobErrors = '';
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private passed = false;
  private listeners: ((directories: readonly string[]) => void)[] = [];

  constructor(readonly config: FileSourceConfig, private readonly deps: FileSourceDeps) {}

  /** Runs a pass now; a call during a pass runs one more after it, so no change is missed. Never rejects. */
  refresh(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = this.passes().finally(() => { this.running = undefined; });
    return this.running;
  }

  /** Called after every pass with the directories where a change can change what the entry reads. */
  onDirectories(listener: (directories: readonly string[]) => void): void {
    this.listeners.push(listener);
  }

  /** Stops further passes; a pass in flight finishes and its result is dropped with the source. */
  close(): void {
    this.closed = true;
    this.listeners = [];
  }

  /** undefined until the first pass has finished: an entry not read yet has nothing to say, not 0 files. */
  report(): FileSourceReport | undefined {
    if (!this.passed) return undefined;
    const files: FileReport[] = [];
    for (const state of this.files.values()) if (state.result !== undefined) files.push({ result: state.result, readErrors: state.readErrors });
    return { source: this.config.name, matched: this.matched, globErrors: this.globErrors, files };
  }

  private async passes(): Promise<void> {
    do {
      try {
        await this.pass();
      } catch (error) {
        // Every failure of a file is a reason; reaching here is a bug, and it must not stop the schedule.
        this.deps.log.error({ source: this.config.name, err: error }, 'files pass crashed');
        return;
      }
    } while (this.takeAgain());
  }

  /** Whether a refresh came during the pass, and the source is still open; clears the request. */
  private takeAgain(): boolean {
    const again = this.again && !this.closed;
    this.again = false;
    return again;
  }

  private async pass(): Promise<void> {
    const glob = await expandGlobs(this.config.patterns, this.deps.limits ?? DEFAULT_GLOB_LIMITS);
    const next = new Map<string, FileState>();
    for (const file of glob.files) next.set(file, await this.read(file, this.files.get(file)));
    if (this.closed) return;
    this.noteGlobErrors(glob.errors);
    const now = this.deps.clock.now();
    let matched = 0;
    for (const [file, state] of next) {
      const result = this.assess(file, state, now);
      next.set(file, { ...state, result });
      if (result === undefined) continue;
      this.logTransition(this.files.get(file)?.result, result);
      if (result.failure?.reason !== 'not_found') matched++;
    }
    for (const [file, state] of this.files) {
      if (!next.has(file) && state.result !== undefined) this.deps.log.info({ source: this.config.name, file }, 'certificate file no longer matched; its series are gone');
    }
    this.files = next;
    this.matched = matched;
    this.passed = true;
    for (const listener of this.listeners) listener(glob.directories);
  }

  /** The file's new state; unchanged versions and unchanged bytes reuse what they decoded to. */
  private async read(file: string, previous: FileState | undefined): Promise<FileState> {
    const readErrors = previous?.readErrors ?? new Map<FileReadReason, number>();
    const read = await readCertificateFile(file, previous?.version);
    if (!read.ok) return { version: undefined, digest: undefined, decoded: { kind: 'failure', reason: read.reason, error: read.error }, chain: read.reason === 'not_found' ? undefined : previous?.chain, result: undefined, readErrors };
    // Unchanged is only ever said of the version passed in, which is previous's.
    if ('unchanged' in read) return previous as FileState;
    const digest = createHash('sha256').update(read.bytes).digest('hex');
    const decoded = digest === previous?.digest && previous.decoded !== undefined
      ? previous.decoded
      : await decodeCertificateFile(read.bytes, this.config.pkcs12Password);
    return { version: read.version, digest, decoded, chain: decoded.kind === 'chain' ? decoded.chain : previous?.chain, result: undefined, readErrors };
  }

  private assess(file: string, state: FileState, now: number): FileResult | undefined {
    const { decoded } = state;
    if (decoded?.kind === 'keys_only') return undefined;
    const failure: FileReadFailure | undefined = decoded?.kind === 'failure' ? { reason: decoded.reason, error: decoded.error } : undefined;
    if (failure !== undefined) increment(state.readErrors, failure.reason);
    const chain = state.chain === undefined ? undefined : this.deps.analyzer.analyze({
      chain: state.chain, trust: this.deps.trust, serverName: this.config.serverName, policy: this.config.policy, at: now,
    });
    return { source: this.config.name, file, readAt: now, failure, chain };
  }

  private noteGlobErrors(errors: readonly GlobErrorReason[]): void {
    for (const reason of errors) increment(this.globErrors, reason);
    const key = errors.join(',');
    if (key === this.lastGlobErrors) return;
    this.lastGlobErrors = key;
    if (errors.length > 0) this.deps.log.warn({ source: this.config.name, reasons: errors, fixes: errors.map((r) => GLOB_ERROR_REASONS[r]) }, 'files entry: paths not expanded in full');
  }

  /** One log line per change of a file's state, as for targets. */
  private logTransition(previous: FileResult | undefined, result: FileResult): void {
    const state = stateOf(result, 'read_failed');
    if (previous !== undefined && stateOf(previous, 'read_failed') === state) return;
    const fields = { source: result.source, file: result.file, state, previous: previous === undefined ? undefined : stateOf(previous, 'read_failed') };
    if (result.failure !== undefined) {
      this.deps.log.warn({ ...fields, reason: result.failure.reason, error: result.failure.error, fix: FILE_READ_REASONS[result.failure.reason] }, 'certificate file unreadable');
    } else if (result.chain !== undefined && !result.chain.verified) {
      this.deps.log.warn({ ...fields, reasons: result.chain.reasons, fixes: result.chain.reasons.map((r) => VERIFY_FAILURE_REASONS[r]) }, 'certificate file verification failing');
    } else {
      this.deps.log.info(fields, 'certificate file ok');
    }
  }
}
