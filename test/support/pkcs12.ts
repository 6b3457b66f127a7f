/**
 * PKCS#12 archives made by `openssl pkcs12 -export`, the way operators make them, as an
 * independent source for certexp's reader (tests using it run under describeWithTool('openssl')).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestCert } from './pki';

export interface Pkcs12Options {
  /** Leaf first; the leaf's key goes in the archive too. */
  readonly chain: readonly TestCert[];
  readonly password: string;
  /** More `openssl pkcs12 -export` flags: -legacy, -nomac, -certpbe NONE. */
  readonly flags?: readonly string[];
}

/** The archive's bytes; the password goes to openssl in its environment, not on its command line. */
export function exportPkcs12(options: Pkcs12Options): Buffer {
  const [leaf, ...rest] = options.chain;
  if (leaf === undefined) throw new Error('a PKCS#12 archive needs a leaf');
  const dir = mkdtempSync(join(tmpdir(), 'certexp-p12-'));
  try {
    writeFileSync(join(dir, 'leaf.pem'), leaf.pem);
    writeFileSync(join(dir, 'key.pem'), leaf.key.privateKeyPem);
    const args = ['pkcs12', '-export', '-in', join(dir, 'leaf.pem'), '-inkey', join(dir, 'key.pem'), '-out', join(dir, 'out.p12'), '-passout', 'env:P12_PASSWORD'];
    if (rest.length > 0) {
      writeFileSync(join(dir, 'chain.pem'), rest.map((c) => c.pem).join(''));
      args.push('-certfile', join(dir, 'chain.pem'));
    }
    execFileSync('openssl', [...args, ...(options.flags ?? [])], { env: { ...process.env, P12_PASSWORD: options.password }, stdio: 'pipe', timeout: 20_000 });
    return readFileSync(join(dir, 'out.p12'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
