import { runVerify, type VerifyIo } from '../../src/cli/verify-command';

export interface VerifyRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** `certexp verify argv` over in-memory files (ENOENT for any other path), with the clock at `now`. */
export async function verifyFiles(files: Readonly<Record<string, string | Buffer>>, argv: readonly string[], now: number): Promise<VerifyRun> {
  let out = '';
  let err = '';
  const io: VerifyIo = {
    readFile: (path) => {
      const content = files[path];
      if (content === undefined) return Promise.reject(Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' }));
      return Promise.resolve(Buffer.isBuffer(content) ? content : Buffer.from(content));
    },
    stdout: (text) => { out += text; },
    stderr: (text) => { err += text; },
    now: () => now,
  };
  return { code: await runVerify(argv, io), out, err };
}
