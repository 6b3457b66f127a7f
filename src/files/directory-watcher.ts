/**
 * fs.watch on the directories a `files:` entry depends on, so that a renewal is read within a
 * moment rather than at the next interval. An event only asks for a pass: inotify names an
 * entry, not what became of it, and the pass finds out. A burst of events (the kubelet's swap
 * of `..data` is four) is one pass. Where watching is not possible (too many directories, the
 * kernel's watch limit, a file system without events) the interval still reads everything.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { errorCode } from '../config/ca-file';

export interface DirectoryWatcherOptions {
  /** Called once per burst of events, this long after its first. */
  readonly debounceMs: number;
  /** Directories watched at most per entry; inotify watches are a per-user kernel budget. */
  readonly maxDirectories: number;
  readonly log: Logger;
  /** The entry's name, for log lines. */
  readonly source: string;
}

export const DEFAULT_DEBOUNCE_MS = 500;
export const DEFAULT_MAX_WATCHED_DIRECTORIES = 256;

interface Watch {
  readonly watcher: FSWatcher;
  /** dev:ino when the watch began: another directory moved onto the path needs a watch of its own. */
  readonly id: string;
  /**
   * Set when the directory itself was removed or moved away (an event naming the directory):
   * a directory made again under the path often gets the same inode, and needs a new watch too.
   */
  gone: boolean;
}

export class DirectoryWatcher {
  private watches = new Map<string, Watch>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private warned = false;

  constructor(private readonly onChange: () => void, private readonly options: DirectoryWatcherOptions) {}

  /** Watches exactly these directories (up to the limit), keeping the watches that still hold. */
  async watch(directories: readonly string[]): Promise<void> {
    const { maxDirectories } = this.options;
    if (directories.length > maxDirectories) this.warnOnce({ directories: directories.length, watched: maxDirectories }, 'more directories than are watched: changes in the others are read at the interval');
    const wanted = new Map<string, string>();
    for (const dir of directories.slice(0, maxDirectories)) {
      const info = await stat(dir).catch(() => undefined);
      if (info?.isDirectory() === true) wanted.set(dir, `${info.dev}:${info.ino}`);
    }
    if (this.closed) return;
    for (const [dir, current] of this.watches) {
      if (!current.gone && wanted.get(dir) === current.id) continue;
      current.watcher.close();
      this.watches.delete(dir);
    }
    for (const [dir, id] of wanted) if (!this.watches.has(dir)) this.start(dir, id);
  }

  close(): void {
    this.closed = true;
    for (const { watcher } of this.watches.values()) watcher.close();
    this.watches.clear();
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private start(dir: string, id: string): void {
    let watcher: FSWatcher;
    const name = basename(dir);
    try {
      // Not persistent: watching alone must not keep the process alive.
      watcher = watch(dir, { persistent: false }, (event, filename) => {
        const current = this.watches.get(dir);
        // A child of the same name looks the same; it costs no more than a new watch.
        if (event === 'rename' && filename === name && current?.watcher === watcher) current.gone = true;
        this.changed();
      });
    } catch (error) {
      // Gone since it was listed (the next pass sees that), or no watch to be had here.
      if (errorCode(error) !== 'ENOENT') this.warnOnce({ directory: dir, error: errorCode(error) }, 'cannot watch a directory: changes there are read at the interval');
      return;
    }
    watcher.on('error', () => {
      // The directory went away under the watch: drop it, and let a pass see what is there now.
      watcher.close();
      if (this.watches.get(dir)?.watcher === watcher) this.watches.delete(dir);
      this.changed();
    });
    this.watches.set(dir, { watcher, id, gone: false });
  }

  private changed(): void {
    if (this.closed || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onChange();
    }, this.options.debounceMs);
    this.timer.unref();
  }

  private warnOnce(fields: Record<string, unknown>, message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.options.log.warn({ source: this.options.source, ...fields }, message);
  }
}
