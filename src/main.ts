#!/usr/bin/env node
import pino from 'pino';
import { parseDaemonFlags, USAGE, UsageError, type DaemonFlags } from './cli/daemon-flags';
import { ConfigError } from './config/config-error';
import { loadConfig } from './config/load-config';
import { systemClock } from './clock';
import { Daemon } from './daemon';
import { runVerify } from './cli/verify-command';
import { VERSION } from './version';
import { buildApp } from './web/app';

/** How long SIGTERM waits for probes in flight before exiting anyway. */
const DRAIN_DEADLINE_MS = 10_000;

async function checkConfig(file: string): Promise<number> {
  try {
    const config = await loadConfig(file);
    process.stdout.write(`${file}: OK, ${config.targets.length} targets\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function runDaemon(flags: DaemonFlags): Promise<void> {
  const logger = pino({ level: flags.logLevel, timestamp: pino.stdTimeFunctions.isoTime });
  const daemon = new Daemon({ configFile: flags.configFile, logger, concurrency: flags.concurrency });
  try {
    await daemon.start();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logger.fatal({ file: flags.configFile, issues: error.issues }, 'config is invalid');
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
    return;
  }
  const app = buildApp({ daemon, clock: systemClock, logger });
  await app.listen({ host: flags.listen.host, port: flags.listen.port });
  logger.info({ version: VERSION, address: flags.listen, config: flags.configFile }, 'certexp started');

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
    process.exitCode = await checkConfig(flags.configFile);
    return;
  }
  await runDaemon(flags);
}

void main(process.argv.slice(2));
