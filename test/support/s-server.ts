/** `openssl s_server` on 127.0.0.1, serving a chain exactly as given (and, optionally, a stapled OCSP response). */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestCert } from './pki';
import { chainPem } from './scenarios';

export interface SServer {
  readonly port: number;
  readonly child: ChildProcess;
}

export interface SServerOptions {
  /** Connections to serve before exiting; default unlimited. */
  readonly naccept?: number;
  /** DER OCSP response file to staple when the client asks (s_server -status_file). */
  readonly statusFile?: string;
}

/** Writes the chain's files under `dir` with the prefix `name` and starts s_server on them, waiting up to 5 s for it to listen. */
export async function startSServer(dir: string, name: string, chain: readonly TestCert[], options: SServerOptions = {}): Promise<SServer> {
  const [leaf, ...rest] = chain as [TestCert, ...TestCert[]];
  await writeFile(join(dir, `${name}.pem`), leaf.pem);
  await writeFile(join(dir, `${name}.key`), leaf.key.privateKeyPem);
  await writeFile(join(dir, `${name}-chain.pem`), chainPem(...rest));
  // -www: without it s_server serves stdin, and with stdin closed it drops the connection.
  // SECLEVEL=0 so that the weak-key and SHA-1 cases can be served at all.
  const args = ['s_server', '-www', '-accept', '127.0.0.1:0', '-cipher', 'DEFAULT:@SECLEVEL=0',
    '-cert', join(dir, `${name}.pem`), '-key', join(dir, `${name}.key`)];
  if (options.naccept !== undefined) args.push('-naccept', String(options.naccept));
  if (rest.length > 0) args.push('-cert_chain', join(dir, `${name}-chain.pem`));
  if (options.statusFile !== undefined) args.push('-status_file', options.statusFile);
  const child = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /ACCEPT\s+127\.0\.0\.1:(\d+)/.exec(output);
      if (match !== null) resolve(Number(match[1]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', () => { reject(new Error(`s_server exited: ${output}`)); });
    setTimeout(() => { reject(new Error(`s_server did not listen within 5 s: ${output}`)); }, 5000).unref();
  });
  return { port, child };
}
