import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { systemClock, type Clock } from '../clock';
import { ChainAnalyzer } from '../pki/analyze-chain';
import { CertificateCache } from '../pki/certificate-cache';
import type { ParsedCertificate } from '../pki/certificate';
import type { VerifyPolicy } from '../pki/path-checks';
import { pemToDer } from '../pki/pem';
import { SignatureVerifier } from '../pki/signature';
import { systemTrustStore } from '../pki/trust-store';
import { PROBE_FAILURE_REASONS } from '../probing/probe-failure';
import { systemResolver, type Resolver } from '../probing/resolver';
import { STARTTLS_DEFAULT_PORTS, STARTTLS_PROTOCOLS, type StarttlsProtocol } from '../probing/starttls/upgrade';
import { createTlsProber } from '../probing/tls-prober';
import { buildChainReport, renderChainReport, type ChainReport } from './chain-report';
import { nodeIo, type VerifyIo } from './verify-command';

export const CHECK_USAGE = `Usage: certexp check HOST[:PORT] [flags]

One probe now, for a person or a check system: the chain, the path verification built, the
verdict with every fix, the TLS version, cipher and timings.

  --server-name NAME   SNI and the name checked (default HOST)
  --starttls P         upgrade to TLS first: smtp, imap, pop3, ftp, ldap, xmpp, postgres or
                       mysql (the port then defaults to the protocol's: 25, 143, 110, ...)
  --ca-file FILE       extra trust anchors (PEM); may be given more than once
  --policy P           web (default) or rfc5280
  --timeout SECONDS    for the whole probe (default 10)
  --warning-days N     exit 1 below N days left (default 30)
  --critical-days N    exit 2 below N days left (default 7)
  --json               print the result as JSON

Exit status (Nagios): 0 OK, 1 WARNING, 2 CRITICAL (also: no handshake, or the chain does not
verify), 3 UNKNOWN (bad flags or unreadable files).
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
  readonly host: string;
  readonly port: number;
  readonly serverName: string;
  readonly starttls: StarttlsProtocol | undefined;
  readonly caFiles: readonly string[];
  readonly policy: VerifyPolicy;
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

function parseOptions(argv: readonly string[]): CheckOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'server-name': { type: 'string' },
        starttls: { type: 'string' },
        'ca-file': { type: 'string', multiple: true },
        policy: { type: 'string', default: 'web' },
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
  const policy = values.policy;
  if (policy !== 'web' && policy !== 'rfc5280') throw new UsageError(`--policy ${policy}: want web or rfc5280`);
  const starttls = values.starttls === undefined ? undefined : STARTTLS_PROTOCOLS.find((p) => p === values.starttls);
  if (values.starttls !== undefined && starttls === undefined) throw new UsageError(`--starttls ${values.starttls}: want one of ${STARTTLS_PROTOCOLS.join(', ')}`);
  return {
    host,
    port: port ?? (starttls === undefined ? 443 : STARTTLS_DEFAULT_PORTS[starttls]),
    serverName: values['server-name'] ?? host,
    starttls,
    caFiles: values['ca-file'] ?? [],
    policy,
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

/** `certexp check`: one probe through the daemon's prober and verifier, printed for a person. Returns the exit status. */
export async function runCheck(argv: readonly string[], io: CheckIo = nodeCheckIo): Promise<number> {
  let options: CheckOptions;
  const anchors: ParsedCertificate[] = [];
  const cache = new CertificateCache();
  try {
    const parsed = parseOptions(argv);
    if (parsed === 'help') {
      io.stdout(CHECK_USAGE);
      return 0;
    }
    options = parsed;
    for (const file of options.caFiles) {
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
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`certexp check: ${error.message}\n\n${CHECK_USAGE}`);
    return 3;
  }

  const endpoint = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
  const paint = (status: number, text: string): string => (io.isTty && !options.json ? `${COLOUR[status] ?? ''}${text}${RESET}` : text);
  const outcome = await createTlsProber({ resolver: io.resolver, clock: io.clock })(
    { host: options.host, port: options.port, serverName: options.serverName, ...(options.starttls === undefined ? {} : { starttls: options.starttls }) },
    AbortSignal.timeout(options.timeoutMs),
  );
  if (!outcome.ok) {
    const result = { status: STATUS[2], endpoint, serverName: options.serverName, reason: outcome.reason, error: outcome.error, fix: PROBE_FAILURE_REASONS[outcome.reason], phases: outcome.phases };
    io.stdout(options.json ? `${JSON.stringify(result, null, 2)}\n`
      : `${paint(2, `CERTEXP CRITICAL - ${endpoint}: ${outcome.reason}`)}\n  ${outcome.error}\n  ${result.fix}\n`);
    return 2;
  }
  const at = io.clock.now();
  const analysis = new ChainAnalyzer(cache, new SignatureVerifier()).analyze({
    chain: outcome.chain, trust: systemTrustStore(cache).with(anchors), serverName: options.serverName, at, policy: options.policy,
  });
  const report = buildChainReport(analysis, at, options.serverName, options.policy);
  const status = exitStatus(report, options);
  const timings = Object.entries(outcome.phases).map(([phase, seconds]) => `${phase} ${(seconds * 1000).toFixed(1)} ms`).join(', ');
  if (options.json) {
    io.stdout(`${JSON.stringify({ status: STATUS[status], endpoint, address: outcome.address, tls: outcome.tls, phases: outcome.phases, ...report }, null, 2)}\n`);
    return status;
  }
  const verdict = report.verified ? 'verifies' : `does not verify: ${report.reasons.join(', ')}`;
  const days = report.daysLeft === null ? '' : `, ${report.daysLeft} days left`;
  io.stdout([
    paint(status, `CERTEXP ${STATUS[status] ?? ''} - ${endpoint} (${options.serverName}) ${verdict}${days}`),
    `Connected to ${outcome.address}${options.starttls === undefined ? '' : ` (${options.starttls} STARTTLS)`}: ${outcome.tls.version}, ${outcome.tls.cipher}; ${timings}`,
    '',
    renderChainReport(report),
  ].join('\n'));
  return status;
}
