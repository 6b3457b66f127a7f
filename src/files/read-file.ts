/**
 * The bytes of one certificate file, or why there are none. The file is opened without
 * blocking and checked on the open descriptor, so a path that is (or has just become) a FIFO
 * or a device cannot hang a pass, and a size limit bounds what one file can cost.
 */
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { errorCode } from '../config/ca-file';
import type { FileReadFailure, FileReadReason } from './file-read-reasons';

/** Larger than any certificate bundle (Mozilla's roots are 0.2 MiB), small enough for any file a glob hits. */
export const MAX_FILE_BYTES = 1024 * 1024;

export type FileRead =
  | { readonly ok: true; readonly bytes: Buffer; readonly version: string }
  | { readonly ok: true; readonly unchanged: true; readonly version: string }
  | ({ readonly ok: false } & FileReadFailure);

/** The one place where file-system error codes become reasons. */
function reasonOf(error: unknown): FileReadReason {
  switch (errorCode(error)) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'not_found';
    case 'EACCES':
    case 'EPERM':
      return 'permission_denied';
    case 'EISDIR':
      return 'not_a_file';
    default:
      return 'read_failed';
  }
}

function failure(reason: FileReadReason, error: string): FileRead {
  return { ok: false, reason, error };
}

/**
 * What identifies one version of a file without reading it: a renewal writes a new inode (an
 * atomic rename, Kubernetes' swapped `..data` link) or at least a new mtime and ctime.
 */
function versionOf(info: Stats): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
}

/**
 * Reads `path` unless its version is still `known`. Links are followed, as for any open(2);
 * `maxBytes` is for tests of the limit.
 */
export async function readCertificateFile(path: string, known: string | undefined, maxBytes = MAX_FILE_BYTES): Promise<FileRead> {
  if (known !== undefined) {
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() === true && versionOf(info) === known) return { ok: true, unchanged: true, version: known };
  }
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return failure(reasonOf(error), `cannot open: ${errorCode(error)}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return failure('not_a_file', 'not a regular file');
    if (info.size > maxBytes) return failure('too_large', `${info.size} bytes, more than ${maxBytes}`);
    // Read to the end, not to the size the stat gave: a file that grows meanwhile is still bounded.
    const chunk = Buffer.alloc(Math.min(info.size, maxBytes) + 1);
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) return failure('too_large', `more than ${maxBytes} bytes`);
      chunks.push(Buffer.from(chunk.subarray(0, bytesRead)));
    }
    return { ok: true, bytes: Buffer.concat(chunks, length), version: versionOf(info) };
  } catch (error) {
    return failure(reasonOf(error), `cannot read: ${errorCode(error)}`);
  } finally {
    await handle.close().catch(() => undefined);
  }
}
