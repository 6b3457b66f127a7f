import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { systemClock, type Clock } from '../clock';
import { ChainAnalyzer } from '../pki/analyze-chain';
import { CertificateCache } from '../pki/certificate-cache';
import type { ParsedCertificate } from '../pki/certificate';
import { pemToDer } from '../pki/pem';
import { SignatureVerifier } from '../pki/signature';
import { systemTrustStore } from '../pki/trust-store';
import { PROBE_FAILURE_REASONS } from '../probing/probe-failure';
import { systemResolver, type Resolver } from '../probing/resolver';
import { createProber } from '../probing/probers';
import { probeRequestFor } from '../probing/probe-request';
import { CrlClient } from '../probing/crl-client';
import { httpCrlFetcher } from '../probing/crl-fetcher';
import { OcspClient } from '../probing/ocsp-client';
import { httpOcspFetcher } from '../probing/ocsp-fetcher';
import { assessProbe } from '../results/assess-probe';
import { assessRevocation } from '../results/assess-revocation';
import type { TargetResult } from '../results/target-result';
import { resolveTarget } from '../config/load-config';
import type { TargetConfig } from '../config/config-types';
import { buildChainReport, renderChainReport, type ChainReport } from './chain-report';
import { EXPECTATION_USAGE, expectationKeys, findingMessage } from './config-flags';
import { expectationsReport, revocationRow, type RevocationRow } from './trust-report';
import { nodeIo, type VerifyIo } from './verify-command';

export const CHECK_USAGE = `Usage: certexp check HOST[:PORT] [flags]

One probe now, for a person or a check system, through the daemon's prober and checks: the
chain, the path verification built, the verdict with every fix, the TLS version, cipher and
timings, and the revocation and expectation checks asked for.

  --server-name NAME   SNI and the name checked (default HOST)
  --starttls P         upgrade to TLS first: smtp, imap, pop3, ftp, ldap, xmpp, postgres or
                       mysql (the port then defaults to the protocol's: 25, 143, 110, ...)
  --address A          connect to this IP address (or name) instead of HOST's; SNI stays HOST
  --proxy-url URL      reach the server through this HTTP proxy (http://[user:pass@]host:port)
  --cert-file F --key-file F   client certificate and key (PEM), presented when asked
  --min-version V, --max-version V   TLS versions offered: TLS10, TLS11, TLS12, TLS13
  --ca-file FILE       extra trust anchors (PEM); may be given more than once
  --policy P           web (default) or rfc5280
  --ocsp M             stapled (default): judge a stapled OCSP response; responder: also ask
                       the leaf's OCSP responder when nothing usable is stapled; none
  --crl                also fetch the CRL of the leaf's distribution point and look it up
${EXPECTATION_USAGE}
  --timeout SECONDS    for the whole probe (default 10)
  --warning-days N     exit 1 below N days left (default 30)
  --critical-days N    exit 2 below N days left (default 7)
  --json               print the result as JSON

Exit status (Nagios): 0 OK, 1 WARNING, 2 CRITICAL (also: no handshake, or the chain does not
verify, revoked included), 3 UNKNOWN (bad flags or unreadable files). A revocation check that
gets no answer is printed and changes nothing, as in the daemon.
`;

const STATUS = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;
const COLOUR = ['\u001b[32m', '\u001b[33m', '\u001b[31m', '\u001b[35m'] as const;
const RESET = '\u001b[0m';

export interface CheckIo extends VerifyIo {
  readonly isTty: boolean;
  readonly resolver: Resolver;
  readonly clock: Clock;
}

export const nodeCheckIo: CheckIo = { ...nodeIo, isTty: process.stdout.isTTY, resolver: systemResolver, clock: systemClock };

class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface CheckOptions {
  /** The target as a config entry would give it: the daemon's code resolves and probes it. */
  readonly target: Readonly<Record<string, unknown>>;
  readonly endpoint: string;
  readonly caFiles: readonly string[];
  readonly expectedFingerprints: readonly string[];
  readonly allowedIssuers: readonly string[];
  readonly timeoutMs: number;
  readonly warningDays: number;
  readonly criticalDays: number;
  readonly json: boolean;
}

function number(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`--${flag} ${text}: want a number of at least 0`);
  return value;
}

/** "example.com", "example.com:8443", "192.0.2.1:443", "[2001:db8::1]:443", "::1"; the port undefined when not given. */
function parseEndpoint(text: string): { host: string; port: number | undefined } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  if (host !== undefined) {
    const port = match?.[3] === undefined ? undefined : Number(match[3]);
    if (port === undefined || (port >= 1 && port <= 65535)) return { host, port };
  }
  if (isIP(text) === 6) return { host: text, port: undefined };
  throw new UsageError(`${text}: want HOST, HOST:PORT or [IPv6]:PORT`);
}

/** Flags that are config keys pass through under the key's name; the config code checks them. */
const KEY_FLAGS = {
  'server-name': 'server_name', starttls: 'starttls', policy: 'policy', address: 'address', 'proxy-url': 'proxy_url',
  'cert-file': 'cert_file', 'key-file': 'key_file', 'min-version': 'min_version', 'max-version': 'max_version', ocsp: 'ocsp',
} as const;

function parseOptions(argv: readonly string[]): CheckOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(Object.keys(KEY_FLAGS).map((flag) => [flag, { type: 'string' }])) as Record<keyof typeof KEY_FLAGS, { type: 'string' }>,
        'ca-file': { type: 'string', multiple: true },
        crl: { type: 'boolean', default: false },
        'expected-fingerprint': { type: 'string', multiple: true },
        'allowed-issuer': { type: 'string', multiple: true },
        'max-validity': { type: 'string' },
        timeout: { type: 'string', default: '10' },
        'warning-days': { type: 'string', default: '30' },
        'critical-days': { type: 'string', default: '7' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [endpoint, ...extra] = positionals;
  if (endpoint === undefined || extra.length > 0) throw new UsageError('give exactly one HOST[:PORT]');
  const { host, port } = parseEndpoint(endpoint);
  const keys = Object.entries(KEY_FLAGS).flatMap(([flag, key]) => {
    const value = values[flag as keyof typeof KEY_FLAGS];
    return value === undefined ? [] : [[key, value] as const];
  });
  return {
    target: {
      host, ...(port === undefined ? {} : { port }), ...Object.fromEntries(keys), ...expectationKeys(values), ...(values.crl ? { crl: 'distribution_point' } : {}),
    },
    endpoint,
    caFiles: values['ca-file'] ?? [],
    expectedFingerprints: values['expected-fingerprint'] ?? [],
    allowedIssuers: values['allowed-issuer'] ?? [],
    timeoutMs: number('timeout', values.timeout) * 1000,
    warningDays: number('warning-days', values['warning-days']),
    criticalDays: number('critical-days', values['critical-days']),
    json: values.json,
  };
}

function exitStatus(report: ChainReport, options: CheckOptions): number {
  if (!report.verified || report.daysLeft === null || report.daysLeft < options.criticalDays) return 2;
  return report.daysLeft < options.warningDays ? 1 : 0;
}

/** The flags' target through the config code: the same checks and defaults as a config file's entry. */
async function resolveFlags(options: CheckOptions, io: CheckIo): Promise<TargetConfig> {
  const readText = (path: string): Promise<string> => io.readFile(path).then((bytes) => bytes.toString('utf8'));
  const target = await resolveTarget(options.target, process.cwd(), readText);
  if ('host' in target) return target;
  throw new UsageError(target.map(findingMessage).join('\n'));
}

async function readAnchors(files: readonly string[], cache: CertificateCache, io: CheckIo): Promise<ParsedCertificate[]> {
  const anchors: ParsedCertificate[] = [];
  for (const file of files) {
    const text = await io.readFile(file).catch((error: unknown) => {
      throw new UsageError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
    });
    const ders = pemToDer(text.toString('latin1'));
    if (ders.length === 0) throw new UsageError(`${file} holds no PEM certificate`);
    for (const der of ders) {
      const result = cache.parse(der);
      if (!result.ok) throw new UsageError(`${file}: a certificate does not parse: ${result.error}`);
      anchors.push(result.cert);
    }
  }
  return anchors;
}

/** The revocation checks of a probe's result, as report rows. */
function revocationRows(result: TargetResult): RevocationRow[] {
  return [
    ...(result.ocsp === undefined ? [] : [revocationRow('ocsp', result.ocsp.source, result.ocsp)]),
    ...(result.crl === undefined ? [] : [revocationRow('crl', result.crl.url ?? 'distribution point', result.crl)]),
  ];
}

/** `certexp check`: one probe through the daemon's prober, verifier and revocation checks, printed for a person. Returns the exit status. */
export async function runCheck(argv: readonly string[], io: CheckIo = nodeCheckIo): Promise<number> {
  let options: CheckOptions;
  let target: TargetConfig;
  let anchors: ParsedCertificate[];
  const cache = new CertificateCache();
  try {
    const parsed = parseOptions(argv);
    if (parsed === 'help') {
      io.stdout(CHECK_USAGE);
      return 0;
    }
    options = parsed;
    target = await resolveFlags(options, io);
    anchors = await readAnchors(options.caFiles, cache, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`certexp check: ${error.message}\n\n${CHECK_USAGE}`);
    return 3;
  }

  const { serverName } = target;
  const endpoint = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  const paint = (status: number, text: string): string => (io.isTty && !options.json ? `${COLOUR[status] ?? ''}${text}${RESET}` : text);
  const { clock } = io;
  const signal = AbortSignal.timeout(options.timeoutMs);
  const outcome = await createProber({ resolver: io.resolver, clock })(probeRequestFor(target), signal);
  if (!outcome.ok) {
    const result = { status: STATUS[2], endpoint, serverName, reason: outcome.reason, error: outcome.error, fix: PROBE_FAILURE_REASONS[outcome.reason], phases: outcome.phases };
    io.stdout(options.json ? `${JSON.stringify(result, null, 2)}\n`
      : `${paint(2, `CERTEXP CRITICAL - ${endpoint}: ${outcome.reason}`)}\n  ${outcome.error}\n  ${result.fix}\n`);
    return 2;
  }
  const assessed = assessProbe({
    target: endpoint, serverName, policy: target.policy, ...(target.expectations === undefined ? {} : { expectations: target.expectations }),
    outcome, previous: undefined, trust: systemTrustStore(cache).with(anchors), analyzer: new ChainAnalyzer(cache, new SignatureVerifier()), clock,
  });
  const result = await assessRevocation({
    result: assessed, stapled: outcome.ocspResponse, previous: undefined,
    mode: target.ocsp ?? 'stapled', client: new OcspClient({ fetch: httpOcspFetcher(), clock }),
    crl: { mode: target.crl ?? 'none', client: new CrlClient({ fetch: httpCrlFetcher(), clock }) }, clock, signal,
  });
  const at = clock.now();
  if (result.chain === undefined) throw new Error('a probe that got a chain has no analysis');
  const report = buildChainReport(result.chain, at, serverName, target.policy, {
    revocation: revocationRows(result),
    expectations: expectationsReport(options, target.expectations, result.chain.reasons),
  });
  const status = exitStatus(report, options);
  const timings = Object.entries(result.phases).map(([phase, seconds]) => `${phase} ${(seconds * 1000).toFixed(1)} ms`).join(', ');
  if (options.json) {
    io.stdout(`${JSON.stringify({ status: STATUS[status], endpoint, address: outcome.address, tls: outcome.tls, phases: result.phases, ...report }, null, 2)}\n`);
    return status;
  }
  const verdict = report.verified ? 'verifies' : `does not verify: ${report.reasons.join(', ')}`;
  const days = report.daysLeft === null ? '' : `, ${report.daysLeft} days left`;
  const via = [
    ...(target.starttls === undefined ? [] : [`${target.starttls} STARTTLS`]),
    ...(target.proxy === undefined ? [] : [`through proxy ${target.proxy.host}:${target.proxy.port}`]),
  ];
  io.stdout([
    paint(status, `CERTEXP ${STATUS[status] ?? ''} - ${endpoint} (${serverName}) ${verdict}${days}`),
    `Connected to ${outcome.address}${via.length === 0 ? '' : ` (${via.join(', ')})`}: ${outcome.tls.version}, ${outcome.tls.cipher}; ${timings}`,
    '',
    renderChainReport(report),
  ].join('\n'));
  return status;
}
