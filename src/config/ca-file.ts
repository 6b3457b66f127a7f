/**
 * Loads ca_file bundles for one config load. Many targets usually share one bundle, so each
 * path is read and parsed once; a bad bundle is reported where each target names it.
 */
import { X509Certificate } from 'node:crypto';
import { pemToDer } from '../pki/pem';

export type CaFileResult = { readonly certificates: readonly Buffer[] } | { readonly error: string };

export type ReadFile = (path: string) => Promise<string>;

/** The OS error code (ENOENT, EACCES) is what people search for, so prefer it to the prose. */
export function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.message : String(error);
}

/** Every CERTIFICATE block in PEM text, each checked to be X.509; `source` names the text in messages. */
export function parseCertificates(text: string, source: string): CaFileResult {
  const certificates = pemToDer(text);
  if (certificates.length === 0) return { error: `${source} contains no PEM CERTIFICATE block` };
  for (const [index, der] of certificates.entries()) {
    try {
      new X509Certificate(der);
    } catch {
      return { error: `${source}: CERTIFICATE block ${index + 1} is not a valid X.509 certificate` };
    }
  }
  return { certificates: Object.freeze(certificates) };
}

async function load(path: string, readFile: ReadFile): Promise<CaFileResult> {
  let text: string;
  try {
    text = await readFile(path);
  } catch (error) {
    return { error: `cannot read "${path}": ${errorCode(error)}` };
  }
  return parseCertificates(text, `"${path}"`);
}

/** A reader that remembers every path it was asked for; make one per load so edits are seen on reload. */
export function cachedCaFileReader(readFile: ReadFile): (path: string) => Promise<CaFileResult> {
  const cache = new Map<string, Promise<CaFileResult>>();
  return (path) => {
    let result = cache.get(path);
    if (result === undefined) {
      result = load(path, readFile);
      cache.set(path, result);
    }
    return result;
  };
}
