import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Clock } from '../clock';
import type { Daemon } from '../daemon';
import { metricsContentType } from '../metrics/exporter-metrics';
import { acceptsGzip, bodyStream } from '../metrics/exposition-body';
import { httpsOptions } from './https-options';
import { DEFAULT_TIMEOUT_OFFSET_MS } from './probe-budget';
import { DEFAULT_ENDPOINT_CONCURRENCY, registerProbeEndpoint, type ProbeEndpointOptions } from './probe-endpoint';
import { formatShard } from '../scheduling/shard';
import { responseDestination } from './response-destination';
import { renderStatusPage } from './status-page';
import type { WebConfig } from './web-config';
import { applyWebSecurity } from './web-security';

export interface AppDeps {
  readonly daemon: Pick<Daemon, 'ready' | 'reload' | 'probeNow' | 'findTarget' | 'adHocTarget' | 'metrics' | 'store' | 'configuredTargets' | 'shard' | 'targetCount' | 'fileResults'>;
  readonly clock: Clock;
  readonly logger: FastifyBaseLogger;
  /** From --web.config.file: TLS, basic auth, headers, rate limit. Absent: plain HTTP, open. */
  readonly web?: WebConfig;
  /** /probe's timeout offset and concurrency (flags); absent: the flags' defaults. */
  readonly probe?: ProbeEndpointOptions;
}

/** The HTTP face of the daemon, built from injected parts so tests drive it with app.inject. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const { daemon, clock } = deps;
  // Scrapes every few seconds would drown the state-change lines that logs are for.
  const options = { loggerInstance: deps.logger, logController: new LogController({ disableRequestLogging: true }) };
  const tls = deps.web?.tls;
  const app: FastifyInstance = tls === undefined ? Fastify(options) : Fastify({ ...options, https: httpsOptions(tls) });
  if (deps.web !== undefined) applyWebSecurity(app, deps.web, clock);

  app.get('/metrics', async (request, reply) => {
    const { accept } = request.headers;
    reply.type(metricsContentType(accept)).header('vary', 'accept-encoding');
    // Prometheus asks for gzip: 30 MB at 10,000 targets goes out as about 2.5 MB, held for a second.
    if (acceptsGzip(request.headers['accept-encoding'])) {
      const { body } = await daemon.metrics.render(accept);
      return reply.header('content-encoding', 'gzip').header('content-length', body.bytes).send(bodyStream(body));
    }
    // Anyone else gets the text as it is rendered, chunked: 30 MB is never held.
    reply.hijack();
    await daemon.metrics.stream(accept, responseDestination(reply));
    return reply;
  });

  registerProbeEndpoint(app, { daemon, clock, options: deps.probe ?? { timeoutOffsetMs: DEFAULT_TIMEOUT_OFFSET_MS, concurrency: DEFAULT_ENDPOINT_CONCURRENCY } });

  app.get('/-/healthy', async (_request, reply) => reply.type('text/plain').send('Healthy\n'));

  // A sharded replica says which shard it is, so a person can tell the pods' lists apart.
  const sharded = daemon.shard.count > 1;
  const shardNote = (scheduled: number, targets: number): string => (sharded ? `, shard ${formatShard(daemon.shard)}: ${scheduled} of ${targets} targets` : '');

  app.get('/-/ready', async (_request, reply) => (daemon.ready
    ? reply.type('text/plain').send(`Ready${shardNote(daemon.configuredTargets.length, daemon.targetCount)}\n`)
    : reply.code(503).type('text/plain').send('Not ready: no config loaded\n')));

  app.post('/-/reload', async (_request, reply) => {
    const result = await daemon.reload();
    return result.ok
      ? reply.type('text/plain').send(`Reloaded: ${result.targets} targets${shardNote(result.scheduled, result.targets)}\n`)
      : reply.code(500).type('text/plain').send(`Reload failed, the last good config keeps running:\n${result.error}\n`);
  });

  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8')
    .send(renderStatusPage(daemon.configuredTargets, (name) => daemon.store.latest(name), clock, sharded ? { shard: daemon.shard, targets: daemon.targetCount } : undefined, daemon.fileResults())));

  return app;
}
