#!/usr/bin/env node
import pino, { type Logger } from 'pino';
import { parseDaemonFlags, USAGE, UsageError, type DaemonFlags } from './cli/daemon-flags';
import { ConfigError } from './config/config-error';
import { loadConfig } from './config/load-config';
import { systemClock } from './clock';
import { Daemon } from './daemon';
import { formatShard } from './scheduling/shard';
import { runCheck } from './cli/check-command';
import { runVerify } from './cli/verify-command';
import { VERSION } from './version';
import { buildApp } from './web/app';
import { LOG_REDACTION } from './web/log-redaction';
import { describeWebConfig, loadWebConfig, type WebConfig } from './web/web-config';

/** How long SIGTERM waits for probes in flight before exiting anyway. */
const DRAIN_DEADLINE_MS = 10_000;

/** One file for --config.check: its OK line to stdout, or what is wrong to stderr; 0 or 1. */
async function check(describe: () => Promise<string>): Promise<number> {
  try {
    process.stdout.write(`${await describe()}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function checkConfig(file: string, webFile: string | undefined): Promise<number> {
  const config = await check(async () => {
    const loaded = await loadConfig(file);
    // A config of files alone is not "0 targets" and nothing else.
    const files = loaded.files.length === 0 ? '' : `, ${loaded.files.length} files entries`;
    return `${file}: OK, ${loaded.targets.length} targets${files}`;
  });
  const web = webFile === undefined ? 0 : await check(async () => `${webFile}: OK, ${describeWebConfig(await loadWebConfig(webFile))}`);
  return Math.max(config, web);
}

/** A broken file at start: its issues to the log and, for the person starting certexp, to stderr. */
function refuseToStart(logger: Logger, file: string, error: ConfigError, what: string): void {
  logger.fatal({ file, issues: error.issues }, `${what} is invalid`);
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
}

async function runDaemon(flags: DaemonFlags): Promise<void> {
  const logger = pino({ level: flags.logLevel, timestamp: pino.stdTimeFunctions.isoTime, redact: LOG_REDACTION });
  let web: WebConfig | undefined;
  if (flags.webConfigFile !== undefined) {
    try {
      web = await loadWebConfig(flags.webConfigFile);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      refuseToStart(logger, flags.webConfigFile, error, 'web config');
      return;
    }
  }
  const daemon = new Daemon({ configFile: flags.configFile, logger, concurrency: flags.concurrency, loopDelayTargetMs: flags.loopDelayTargetMs, batchWindowMs: flags.batchWindowMs, handshakeBuckets: flags.handshakeBuckets, shard: flags.shard });
  try {
    await daemon.start();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    refuseToStart(logger, flags.configFile, error, 'config');
    return;
  }
  // A bug must not leave a half-working exporter behind: log it and exit, and let the
  // supervisor (systemd, Kubernetes) restart a clean process.
  const die = (kind: string) => (error: unknown): void => {
    logger.fatal({ err: error }, `${kind}: this is a bug in certexp; exiting`);
    logger.flush();
    process.exit(70);
  };
  process.on('unhandledRejection', die('unhandled promise rejection'));
  process.on('uncaughtException', die('uncaught exception'));
  const app = buildApp({ daemon, clock: systemClock, logger, probe: flags.probeEndpoint, ...(web === undefined ? {} : { web }) });
  try {
    await app.listen({ host: flags.listen.host, port: flags.listen.port });
  } catch (error) {
    // ":PORT" means every address; where the kernel has no IPv6, that is every IPv4 address.
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    if (flags.listen.host !== '::' || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw error;
    await app.listen({ host: '0.0.0.0', port: flags.listen.port });
  }
  logger.info({ version: VERSION, address: flags.listen, config: flags.configFile, web: web && describeWebConfig(web), shard: formatShard(flags.shard) }, 'certexp started');

  process.on('SIGHUP', () => { void daemon.reload(); });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: draining probes in flight');
    void Promise.all([app.close(), daemon.stop(DRAIN_DEADLINE_MS)]).then(() => {
      logger.info('stopped');
      logger.flush();
    });
  };
  process.on('SIGTERM', () => { stop('SIGTERM'); });
  process.on('SIGINT', () => { stop('SIGINT'); });
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === 'verify') {
    process.exitCode = await runVerify(argv.slice(1));
    return;
  }
  if (argv[0] === 'check') {
    process.exitCode = await runCheck(argv.slice(1));
    return;
  }
  let flags: DaemonFlags;
  try {
    flags = parseDaemonFlags(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`certexp: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (flags.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (flags.version) {
    process.stdout.write(`certexp ${VERSION} (node ${process.version})\n`);
    return;
  }
  if (flags.configCheck) {
    process.exitCode = await checkConfig(flags.configFile, flags.webConfigFile);
    return;
  }
  await runDaemon(flags);
}

void main(process.argv.slice(2));
