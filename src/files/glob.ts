/**
 * Globs over directory walks (Node 20 has no stable fs.glob): `*` and `?` within one path
 * segment, `**` as a whole segment for any number of directories. `[` and `{` are literal.
 *
 * As in shells, a name starting with a dot is matched only by a segment that starts with a dot
 * too, and `**` never enters such a directory: Kubernetes secret volumes hold `..data` and
 * `..2026_01_01_00_00_00.123` directories besides the `tls.crt` links into them, and `*` must
 * see each certificate once. Symbolic links are followed (the volume's links are the paths
 * people name), each real directory is walked once per segment, and the walk is bounded.
 */
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The closed set of reasons a source's globs could not be expanded in full, with the fix. */
export const GLOB_ERROR_REASONS = {
  too_many_files: 'the paths match more files than certexp reads for one entry: narrow the globs, or split the entry',
  too_many_directories: 'the walk for these paths reads more directories than allowed: start the glob deeper, or use * instead of **',
  directory_unreadable: 'a directory on the way could not be listed (permissions, I/O): check the mount and the exporter\'s user',
} as const;

export type GlobErrorReason = keyof typeof GLOB_ERROR_REASONS;

export interface GlobLimits {
  /** Files kept per expansion; the rest (in path order) are dropped with too_many_files. */
  readonly maxFiles: number;
  /** Directories listed per expansion. */
  readonly maxDirectories: number;
  /** Directories `**` may descend below where it starts. */
  readonly maxDepth: number;
}

export const DEFAULT_GLOB_LIMITS: GlobLimits = { maxFiles: 1000, maxDirectories: 10_000, maxDepth: 32 };

export interface GlobResult {
  /** Absolute paths, sorted, without repeats: literal paths whether or not they exist, and what the globs matched. */
  readonly files: readonly string[];
  /** Every directory listed or named on the way: where a change can add, remove or replace a match. */
  readonly directories: readonly string[];
  readonly errors: readonly GlobErrorReason[];
}

const WILDCARD = /[*?]/;

export function hasWildcard(pattern: string): boolean {
  return WILDCARD.test(pattern);
}

/** A problem with a pattern's syntax, for the config loader to report; undefined when it is fine. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern.split('/').some((segment) => segment.includes('**') && segment !== '**')) {
    return `"**" must be a whole path segment (as in certs/**/*.pem), not part of one: ${JSON.stringify(pattern)}`;
  }
  return undefined;
}

/** A matcher for one path segment; a dot-file needs a segment that starts with a dot. */
export function segmentMatcher(segment: string): (name: string) => boolean {
  const source = segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  const regex = new RegExp(`^${source}$`, 's');
  const dotAllowed = segment.startsWith('.');
  return (name) => (dotAllowed || !name.startsWith('.')) && regex.test(name);
}

type Kind = 'directory' | 'other';

interface Entry {
  readonly name: string;
  readonly kind: Kind;
  /** dev:ino of a directory, so a walk through links enters it once. */
  readonly id?: string;
}

class Walk {
  readonly files = new Set<string>();
  readonly directories = new Set<string>();
  readonly errors = new Set<GlobErrorReason>();
  private readonly listings = new Map<string, Promise<Entry[]>>();
  private readonly entered = new Set<string>();

  constructor(private readonly limits: GlobLimits) {}

  /** The entries of `dir` with links resolved; empty when it cannot be listed (a missing one is no error). */
  list(dir: string): Promise<Entry[]> {
    let listing = this.listings.get(dir);
    if (listing === undefined) {
      if (this.listings.size >= this.limits.maxDirectories) {
        this.errors.add('too_many_directories');
        return Promise.resolve([]);
      }
      listing = this.read(dir);
      this.listings.set(dir, listing);
    }
    return listing;
  }

  async walk(dir: string, segments: readonly string[], index: number, depth: number): Promise<void> {
    const segment = segments[index];
    if (segment === undefined) return;
    const last = index === segments.length - 1;
    if (segment === '**') {
      // Zero directories: the rest of the pattern right here (a trailing ** matches every file below).
      if (last) await this.take(dir, () => true);
      else await this.walk(dir, segments, index + 1, depth);
      if (depth >= this.limits.maxDepth) return;
      for (const entry of await this.list(dir)) {
        if (entry.kind !== 'directory' || entry.name.startsWith('.') || !this.enter(entry, index)) continue;
        await this.walk(join(dir, entry.name), segments, index, depth + 1);
      }
      return;
    }
    if (!hasWildcard(segment)) {
      const path = join(dir, segment);
      if (!last) {
        await this.walk(path, segments, index + 1, depth);
        return;
      }
      // A literal last segment below a wildcard: taken only where it exists, from the listing.
      await this.take(dir, (name) => name === segment);
      return;
    }
    const matches = segmentMatcher(segment);
    if (last) {
      await this.take(dir, matches);
      return;
    }
    for (const entry of await this.list(dir)) {
      if (entry.kind === 'directory' && matches(entry.name) && this.enter(entry, index)) {
        await this.walk(join(dir, entry.name), segments, index + 1, depth);
      }
    }
  }

  /** Adds the matching non-directories of `dir`, up to one past the limit: enough to know it was exceeded. */
  private async take(dir: string, matches: (name: string) => boolean): Promise<void> {
    for (const entry of await this.list(dir)) {
      if (this.files.size > this.limits.maxFiles) return;
      if (entry.kind !== 'directory' && matches(entry.name)) this.files.add(join(dir, entry.name));
    }
  }

  /** Once per real directory and pattern segment: links cannot make the walk go round in circles. */
  private enter(entry: Entry, index: number): boolean {
    const key = `${entry.id ?? entry.name}:${index}`;
    if (this.entered.has(key)) return false;
    this.entered.add(key);
    return true;
  }

  private async read(dir: string): Promise<Entry[]> {
    let dirents;
    try {
      dirents = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
      // A directory that does not exist (yet) matches nothing: an empty mount is reported by the count, not as an error.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.errors.add('directory_unreadable');
      return [];
    }
    this.directories.add(dir);
    const entries: Entry[] = [];
    // In name order, so that the files kept at the limit are the same on every pass.
    for (const dirent of dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (!dirent.isDirectory() && !dirent.isSymbolicLink()) {
        entries.push({ name: dirent.name, kind: 'other' });
        continue;
      }
      // Follow links; a dangling one is a file that the reader will report as not found.
      const info = await stat(join(dir, dirent.name)).catch(() => undefined);
      entries.push(info?.isDirectory() === true
        ? { name: dirent.name, kind: 'directory', id: `${info.dev}:${info.ino}` }
        : { name: dirent.name, kind: 'other' });
    }
    return entries;
  }
}

/**
 * The files absolute `patterns` name. A pattern without wildcards is a file path and is
 * returned as it is, so a missing file can be reported as missing.
 */
export async function expandGlobs(patterns: readonly string[], limits: GlobLimits = DEFAULT_GLOB_LIMITS): Promise<GlobResult> {
  const walk = new Walk(limits);
  for (const pattern of patterns) {
    if (!hasWildcard(pattern)) {
      walk.files.add(pattern);
      walk.directories.add(dirname(pattern));
      continue;
    }
    const segments = pattern.split('/').filter((segment) => segment !== '');
    const start = segments.findIndex(hasWildcard);
    const base = `/${segments.slice(0, start).join('/')}`;
    await walk.walk(base, segments, start, 0);
  }
  const files = [...walk.files].sort();
  const errors = [...walk.errors];
  // The walk stopped one file past the limit; the ones kept are the first its name-ordered listings met.
  if (files.length > limits.maxFiles) errors.push('too_many_files');
  return { files: files.slice(0, limits.maxFiles), directories: [...walk.directories].sort(), errors: errors.sort() };
}
