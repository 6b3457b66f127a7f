import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ChainAnalyzer } from '../pki/analyze-chain';
import { CertificateCache } from '../pki/certificate-cache';
import type { ParsedCertificate } from '../pki/certificate';
import type { VerifyPolicy } from '../pki/path-checks';
import { pemToDer } from '../pki/pem';
import { SignatureVerifier } from '../pki/signature';
import { systemTrustStore, TrustStore } from '../pki/trust-store';
import { buildChainReport, renderChainReport } from './chain-report';

export const VERIFY_USAGE = `Usage: certexp verify LEAF.pem [flags]

Verifies a certificate chain from files, before it is deployed, with the daemon's verifier.
LEAF.pem may hold the whole chain (leaf first).

  --chain FILE        intermediates (PEM)
  --ca-file FILE      extra trust anchors (PEM); may be given more than once
  --no-system-roots   trust only --ca-file, not Node's bundled Mozilla roots
  --name NAME         DNS name or IP address the leaf must carry (default: no name check)
  --at TIME           verify at this ISO-8601 time instead of now ("will it still verify on migration day?")
  --max-depth N       CAs allowed above the leaf (default 10)
  --policy P          web (default) or rfc5280
  --json              print {verified, reasons, path, ...} as JSON

Exit status: 0 verified, 1 not verified, 2 usage or unreadable input.
`;

export interface VerifyIo {
  readonly readFile: (path: string) => Promise<Buffer>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly now: () => number;
}

export const nodeIo: VerifyIo = {
  readFile: (path) => readFile(path),
  stdout: (text) => { process.stdout.write(text); },
  stderr: (text) => { process.stderr.write(text); },
  now: () => Date.now(),
};

/** Bad flags: the message and the usage. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A file that cannot be read or holds no certificate: the message alone. */
class InputError extends Error {
  override readonly name = 'InputError';
}

/** Certificates of a file: PEM blocks, or the file itself when it is one DER certificate. */
async function certificatesIn(io: VerifyIo, path: string): Promise<Buffer[]> {
  let bytes: Buffer;
  try {
    bytes = await io.readFile(path);
  } catch (error) {
    throw new InputError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const pem = pemToDer(bytes.toString('latin1'));
  if (pem.length > 0) return pem;
  if (bytes[0] === 0x30) return [bytes];
  throw new InputError(`${path} holds no certificate (PEM "CERTIFICATE" blocks or one DER certificate)`);
}

interface VerifyOptions {
  readonly leafFile: string;
  readonly chainFile: string | undefined;
  readonly caFiles: readonly string[];
  readonly systemRoots: boolean;
  readonly name: string | undefined;
  readonly at: number;
  readonly maxDepth: number;
  readonly policy: VerifyPolicy;
  readonly json: boolean;
}

function parseOptions(argv: readonly string[], now: number): VerifyOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      chain: { type: 'string' },
      'ca-file': { type: 'string', multiple: true },
      'no-system-roots': { type: 'boolean', default: false },
      name: { type: 'string' },
      at: { type: 'string' },
      'max-depth': { type: 'string', default: '10' },
      policy: { type: 'string', default: 'web' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [leafFile, ...extra] = positionals;
  if (leafFile === undefined || extra.length > 0) throw new UsageError('give exactly one LEAF.pem');
  const at = values.at === undefined ? now : Date.parse(values.at);
  if (Number.isNaN(at)) throw new UsageError(`--at ${values.at ?? ''}: not an ISO-8601 time such as 2027-01-15T00:00:00Z`);
  const maxDepth = Number(values['max-depth']);
  if (!Number.isInteger(maxDepth) || maxDepth < 0) throw new UsageError(`--max-depth ${values['max-depth']}: want a whole number`);
  const policy = values.policy;
  if (policy !== 'web' && policy !== 'rfc5280') throw new UsageError(`--policy ${policy}: want web or rfc5280`);
  return {
    leafFile,
    chainFile: values.chain,
    caFiles: values['ca-file'] ?? [],
    systemRoots: !values['no-system-roots'],
    name: values.name,
    at,
    maxDepth,
    policy,
    json: values.json,
  };
}

/** `certexp verify`: the daemon's verifier on files. Returns the exit status. */
export async function runVerify(argv: readonly string[], io: VerifyIo = nodeIo): Promise<number> {
  try {
    const options = parseOptions(argv, io.now());
    if (options === 'help') {
      io.stdout(VERIFY_USAGE);
      return 0;
    }
    const cache = new CertificateCache();
    const chain = [...await certificatesIn(io, options.leafFile), ...(options.chainFile === undefined ? [] : await certificatesIn(io, options.chainFile))];
    const anchors: ParsedCertificate[] = [];
    for (const file of options.caFiles) {
      for (const der of await certificatesIn(io, file)) {
        const parsed = cache.parse(der);
        if (!parsed.ok) throw new InputError(`${file}: a certificate does not parse: ${parsed.error}`);
        anchors.push(parsed.cert);
      }
    }
    const trust = (options.systemRoots ? systemTrustStore(cache) : new TrustStore([])).with(anchors);
    const analysis = new ChainAnalyzer(cache, new SignatureVerifier()).analyze({
      chain, trust, serverName: options.name, at: options.at, policy: options.policy, maxDepth: options.maxDepth,
    });
    const leaf = analysis.presented[0];
    if (leaf?.cert === undefined) throw new InputError(`${options.leafFile}: the leaf is not an X.509 certificate: ${leaf?.error ?? 'empty'}`);
    const report = buildChainReport(analysis, options.at, options.name, options.policy);
    io.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderChainReport(report));
    return report.verified ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError) io.stderr(`certexp verify: ${error.message}\n\n${VERIFY_USAGE}`);
    else if (error instanceof InputError) io.stderr(`certexp verify: ${error.message}\n`);
    else throw error;
    return 2;
  }
}
