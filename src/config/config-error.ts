/** One problem in a config file, located the way compilers do so editors can jump to it. */
export interface ConfigIssue {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Dotted path of the offending key, e.g. `targets[2].port`, or `(root)` for the document. */
  key: string;
  message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  return `${issue.file}:${issue.line}:${issue.column}: ${issue.key}: ${issue.message}`;
}

/**
 * Every problem found in one load, not just the first: fixing a config one error per run is
 * the slowest way to fix it. The message alone is enough for `--config.check` to print.
 */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = Object.freeze(issues.map((issue) => Object.freeze({ ...issue })));
  }
}
