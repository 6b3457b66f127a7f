import { hostname as systemHostname } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_HANDSHAKE_BUCKETS } from '../results/results-store';
import { MIN_LIMIT } from '../scheduling/concurrency-limit';
import { parseShard, WHOLE, type Shard } from '../scheduling/shard';
import { DEFAULT_TIMEOUT_OFFSET_MS } from '../web/probe-budget';
import { DEFAULT_ENDPOINT_CONCURRENCY, type ProbeEndpointOptions } from '../web/probe-endpoint';

export interface DaemonFlags {
  readonly configFile: string;
  /** exporter-toolkit web config (TLS, basic auth); undefined: plain HTTP, no auth. */
  readonly webConfigFile: string | undefined;
  readonly listen: { readonly host: string; readonly port: number };
  readonly logLevel: string;
  readonly configCheck: boolean;
  readonly concurrency: number;
  /** Mean event-loop delay (ms) above which fewer scheduled probes run at once; 0: never fewer. */
  readonly loopDelayTargetMs: number;
  /** Scheduled probes due within one window this long (ms) start together at its end. */
  readonly batchWindowMs: number;
  readonly handshakeBuckets: readonly number[];
  /** The targets this replica schedules; WHOLE when --shard is not given. */
  readonly shard: Shard;
  /** /probe: the scrape timeout offset and the requests probing at once. */
  readonly probeEndpoint: ProbeEndpointOptions;
  readonly help: boolean;
  readonly version: boolean;
}

/**
 * At 10,000 targets a minute, about 8 probes start on each wakeup instead of 1: 10-25% less CPU
 * per handshake on the bench fleet, for handshakes timed a few ms longer while they share the
 * thread. A probe starts at most this late.
 */
export const DEFAULT_BATCH_WINDOW_MS = 50;

/**
 * Ready callbacks wait about this long at most on a saturated thread. At 10,000 targets flat out
 * on the bench fleet the limit settled at 42-52 probes in flight, against 256 without it: 2-10%
 * less CPU per probe, handshakes timed at 14-17 ms instead of 78-84.
 */
export const DEFAULT_LOOP_DELAY_TARGET_MS = 10;

/** Not one of the well-known exporter ports (9100 node, 9115 blackbox, 9219 ssl, 9793 x509). */
export const DEFAULT_PORT = 9745;
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export const USAGE = `Usage: certexp [flags]
       certexp check HOST[:PORT] [--server-name NAME] [--ca-file FILE] [--json] ...
       certexp verify LEAF.pem [--chain FILE] [--ca-file FILE] [--name NAME] [--at TIME] [--json] ...

  --config.file=PATH           config file (default config/certexp.yml)
  --web.listen-address=ADDR    address to serve HTTP on (default :${DEFAULT_PORT})
  --web.config.file=PATH       TLS and basic auth for that address, exporter-toolkit format (default none)
  --log.level=LEVEL            ${LOG_LEVELS.join(', ')} (default info)
  --probe.concurrency=N        scheduled probes in flight at once across all targets (default 256)
  --probe.loop-delay-target=S  fewer scheduled probes run at once (down to ${MIN_LIMIT}) while the event loop's
                               mean delay is above this many seconds, as many as --probe.concurrency
                               again once it is calm; 0 always allows --probe.concurrency
                               (default ${DEFAULT_LOOP_DELAY_TARGET_MS / 1000}, at most 1)
  --probe.batch-window=S       scheduled probes due within one window this many seconds long start
                               together at its end, for less CPU each; 0 starts each at its slot
                               (default ${DEFAULT_BATCH_WINDOW_MS / 1000}, at most 1)
  --probe.handshake-buckets=L  handshake histogram bounds in seconds (default 0.05,0.1,0.25,0.5,1,2,5)
  --probe.timeout-offset=S     seconds a /probe ends before Prometheus' scrape timeout
                               (X-Prometheus-Scrape-Timeout-Seconds) (default ${DEFAULT_TIMEOUT_OFFSET_MS / 1000})
  --probe.endpoint-concurrency=N
                               /probe requests probing at once, apart from scheduled probes; more wait
                               within their scrape's budget, then get 503 (default ${DEFAULT_ENDPOINT_CONCURRENCY})
  --shard=I/N                  schedule only the targets of shard I of N (0-based), by a stable hash
                               of the target name; auto/N takes I from the host name's -ORDINAL
                               suffix (StatefulSet pods). /probe still answers for every target
  --config.check               validate the config file, print what is wrong, exit 0 or 1
  --version                    print the version
  --help                       print this help
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** ":9745", "0.0.0.0:9745", "[::1]:9745", "localhost:9745". An empty host listens on every address, IPv6 and IPv4. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (match === null || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(`--web.listen-address=${text}: want HOST:PORT, [IPv6]:PORT or :PORT`);
  }
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '::' : host, port };
}

/** Histogram bounds: positive, increasing, few (each bound is a series per target). */
function parseBuckets(text: string): number[] {
  const bounds = text.split(',').map((part) => Number(part.trim()));
  const ok = bounds.length >= 1 && bounds.length <= 20 && bounds.every((b, i) => Number.isFinite(b) && b > 0 && (i === 0 || b > (bounds[i - 1] ?? 0)));
  if (!ok) throw new UsageError(`--probe.handshake-buckets=${text}: want 1 to 20 increasing positive numbers of seconds, comma-separated`);
  return bounds;
}

/** A number of seconds, 0 or more, to the millisecond; `example` goes in the error. */
function seconds(flag: string, text: string, example: string): number {
  if (!/^\d{1,4}(?:\.\d{1,3})?$/.test(text)) throw new UsageError(`--${flag}=${text}: want a number of seconds, 0 or more (e.g. ${example})`);
  return Number(text);
}

function atMostASecond(flag: string, text: string, example: string): number {
  const value = seconds(flag, text, example);
  if (value > 1) throw new UsageError(`--${flag}=${text}: at most 1 second`);
  return value;
}

function wholeNumber(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${flag}=${text}: want a whole number of at least 1`);
  return value;
}

/** `hostname` is asked for --shard=auto/N only. */
export function parseDaemonFlags(argv: readonly string[], hostname: () => string = systemHostname): DaemonFlags {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        'config.file': { type: 'string', default: 'config/certexp.yml' },
        'web.listen-address': { type: 'string', default: `:${DEFAULT_PORT}` },
        'web.config.file': { type: 'string' },
        'log.level': { type: 'string', default: 'info' },
        'probe.concurrency': { type: 'string', default: '256' },
        'probe.loop-delay-target': { type: 'string', default: String(DEFAULT_LOOP_DELAY_TARGET_MS / 1000) },
        'probe.batch-window': { type: 'string', default: String(DEFAULT_BATCH_WINDOW_MS / 1000) },
        'probe.handshake-buckets': { type: 'string', default: DEFAULT_HANDSHAKE_BUCKETS.join(',') },
        'probe.timeout-offset': { type: 'string', default: String(DEFAULT_TIMEOUT_OFFSET_MS / 1000) },
        'probe.endpoint-concurrency': { type: 'string', default: String(DEFAULT_ENDPOINT_CONCURRENCY) },
        shard: { type: 'string' },
        'config.check': { type: 'boolean', default: false },
        version: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const logLevel = values['log.level'];
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log.level=${logLevel}: want one of ${LOG_LEVELS.join(', ')}`);
  const concurrency = wholeNumber('probe.concurrency', values['probe.concurrency']);
  const endpointConcurrency = wholeNumber('probe.endpoint-concurrency', values['probe.endpoint-concurrency']);
  const offsetSeconds = seconds('probe.timeout-offset', values['probe.timeout-offset'], '0.5');
  const batchWindowSeconds = atMostASecond('probe.batch-window', values['probe.batch-window'], '0.05');
  const loopDelaySeconds = atMostASecond('probe.loop-delay-target', values['probe.loop-delay-target'], '0.01');
  let shard = WHOLE;
  if (values.shard !== undefined) {
    const parsed = parseShard(values.shard, hostname);
    if ('error' in parsed) throw new UsageError(`--shard=${values.shard}: ${parsed.error}`);
    shard = parsed;
  }
  return {
    configFile: values['config.file'],
    // As in exporter-toolkit, an empty path means no web config.
    webConfigFile: values['web.config.file'] === '' ? undefined : values['web.config.file'],
    listen: parseListenAddress(values['web.listen-address']),
    logLevel,
    configCheck: values['config.check'],
    concurrency,
    loopDelayTargetMs: loopDelaySeconds * 1000,
    batchWindowMs: batchWindowSeconds * 1000,
    handshakeBuckets: parseBuckets(values['probe.handshake-buckets']),
    shard,
    probeEndpoint: { timeoutOffsetMs: offsetSeconds * 1000, concurrency: endpointConcurrency },
    help: values.help,
    version: values.version,
  };
}
