import type { FileReadFailure, FileReadReason } from '../files/file-read-reasons';
import type { GlobErrorReason } from '../files/glob';
import type { ChainAnalysis } from '../pki/analyze-chain';

/**
 * What the last pass over one certificate file found. As for a target, the chain is the last
 * one read, verified again at each pass: a file that is unreadable for a moment (a write in
 * progress, a permission slip) does not blank its expiry series. A file that is gone has none.
 */
export interface FileResult {
  /** The `source` label: the name of the `files:` entry. */
  readonly source: string;
  /** The `file` label: the path as configured or matched, links not resolved, so it survives a renewal. */
  readonly file: string;
  /** Epoch milliseconds when the pass that read it finished. */
  readonly readAt: number;
  /** Why the latest read got no certificates; undefined when it got them. */
  readonly failure: FileReadFailure | undefined;
  readonly chain: ChainAnalysis | undefined;
}

/** One `files:` entry as the last pass left it, with its running counts. */
export interface FileSourceReport {
  readonly source: string;
  /** Existing files the paths named or matched: 0 is an empty mount or a wrong glob. */
  readonly matched: number;
  readonly globErrors: ReadonlyMap<GlobErrorReason, number>;
  readonly files: readonly FileReport[];
}

export interface FileReport {
  readonly result: FileResult;
  readonly readErrors: ReadonlyMap<FileReadReason, number>;
}

