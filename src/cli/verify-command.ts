import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ChainAnalyzer } from '../pki/analyze-chain';
import { CertificateCache } from '../pki/certificate-cache';
import type { ParsedCertificate } from '../pki/certificate';
import type { VerifyPolicy } from '../pki/path-checks';
import { pemToDer } from '../pki/pem';
import { SignatureVerifier } from '../pki/signature';
import { systemTrustStore, TrustStore } from '../pki/trust-store';
import { expectsNothing } from '../config/expectations-config';
import { crlDistributionPoints, crlVerdict, readCrl, type CrlVerdict } from '../pki/crl';
import type { ChainExpectations } from '../pki/expectations';
import { checkOcspResponse, type OcspVerdict } from '../pki/ocsp';
import { markRevoked } from '../results/assess-revocation';
import { buildChainReport, renderChainReport } from './chain-report';
import { EXPECTATION_USAGE, expectationKeys, readExpectationFlags } from './config-flags';
import { expectationsReport, revocationRow, type RevocationRow } from './trust-report';

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
${EXPECTATION_USAGE}
  --ocsp-response F   judge this DER OCSP response (from \`openssl ocsp -respout\`) for the leaf
  --crl F             look the leaf up in this CRL (DER or PEM), checked against its issuer
  --json              print {verified, reasons, path, revocation, expectations, ...} as JSON

Exit status: 0 verified, 1 not verified (revoked included), 2 usage or unreadable input. An OCSP
response or CRL that cannot be used (wrong signer, stale, another certificate's) is printed as
status error and leaves the verdict as it is, as in the daemon.
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

async function readInput(io: VerifyIo, path: string): Promise<Buffer> {
  try {
    return await io.readFile(path);
  } catch (error) {
    throw new InputError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Certificates of a file: PEM blocks, or the file itself when it is one DER certificate. */
async function certificatesIn(io: VerifyIo, path: string): Promise<Buffer[]> {
  const bytes = await readInput(io, path);
  const pem = pemToDer(bytes.toString('latin1'));
  if (pem.length > 0) return pem;
  if (bytes[0] === 0x30) return [bytes];
  throw new InputError(`${path} holds no certificate (PEM "CERTIFICATE" blocks or one DER certificate)`);
}

interface VerifyOptions {
  readonly leafFile: string;
  readonly expectations: ChainExpectations;
  readonly expectedFingerprints: readonly string[];
  readonly allowedIssuers: readonly string[];
  readonly ocspResponseFile: string | undefined;
  readonly crlFile: string | undefined;
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
      'expected-fingerprint': { type: 'string', multiple: true },
      'allowed-issuer': { type: 'string', multiple: true },
      'max-validity': { type: 'string' },
      'ocsp-response': { type: 'string' },
      crl: { type: 'string' },
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
  const { expectations, problems } = readExpectationFlags(expectationKeys(values));
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return {
    leafFile,
    expectations,
    expectedFingerprints: values['expected-fingerprint'] ?? [],
    allowedIssuers: values['allowed-issuer'] ?? [],
    ocspResponseFile: values['ocsp-response'],
    crlFile: values.crl,
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

/** Every URI of the leaf's distribution points: a partitioned CRL must name one of them. */
function distributionPointNames(leaf: ParsedCertificate): string[] {
  const { http, unsupported } = crlDistributionPoints(leaf);
  return [...new Set([...http.flatMap((point) => point.names), ...unsupported])];
}

/** The revocation files given, judged for the leaf against its issuer on the path, at `at`. */
async function revocationFromFiles(io: VerifyIo, options: VerifyOptions, path: readonly ParsedCertificate[]): Promise<RevocationRow[]> {
  const [leaf, issuer] = path;
  const rows: RevocationRow[] = [];
  const judge = async (check: 'ocsp' | 'crl', file: string | undefined, verdictOf: (body: Buffer, leaf: ParsedCertificate, issuer: ParsedCertificate) => OcspVerdict | CrlVerdict): Promise<void> => {
    if (file === undefined) return;
    const body = await readInput(io, file);
    const verdict = leaf === undefined || issuer === undefined
      ? { status: 'error' as const, error: "no issuer on the path to check it against (give the leaf's issuer with --chain or --ca-file)" }
      : verdictOf(body, leaf, issuer);
    rows.push(revocationRow(check, file, verdict));
  };
  await judge('ocsp', options.ocspResponseFile, (response, l, i) => checkOcspResponse({ response, leaf: l, issuer: i, at: options.at }));
  await judge('crl', options.crlFile, (body, l, i) => {
    const crl = readCrl(body, i, distributionPointNames(l));
    return 'error' in crl ? { status: 'error', error: crl.error } : crlVerdict(crl, l, options.at);
  });
  return rows;
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
    const expectations = expectsNothing(options.expectations) ? undefined : options.expectations;
    const analyzed = new ChainAnalyzer(cache, new SignatureVerifier()).analyze({
      chain, trust, serverName: options.name, at: options.at, policy: options.policy, maxDepth: options.maxDepth, ...(expectations === undefined ? {} : { expectations }),
    });
    const leaf = analyzed.presented[0];
    if (leaf?.cert === undefined) throw new InputError(`${options.leafFile}: the leaf is not an X.509 certificate: ${leaf?.error ?? 'empty'}`);
    const revocation = await revocationFromFiles(io, options, analyzed.path);
    const analysis = revocation.some((row) => row.status === 'revoked') ? markRevoked(analyzed) : analyzed;
    const report = buildChainReport(analysis, options.at, options.name, options.policy, {
      revocation, expectations: expectationsReport(options, expectations, analysis.reasons),
    });
    io.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderChainReport(report));
    return report.verified ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError) io.stderr(`certexp verify: ${error.message}\n\n${VERIFY_USAGE}`);
    else if (error instanceof InputError) io.stderr(`certexp verify: ${error.message}\n`);
    else throw error;
    return 2;
  }
}
