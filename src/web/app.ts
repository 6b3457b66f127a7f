import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Clock } from '../clock';
import type { Daemon } from '../daemon';
import { renderProbeResult } from '../metrics/exporter-metrics';
import { httpsOptions } from './https-options';
import { formatShard } from '../scheduling/shard';
import { renderStatusPage } from './status-page';
import type { WebConfig } from './web-config';
import { applyWebSecurity } from './web-security';

export interface AppDeps {
  readonly daemon: Pick<Daemon, 'ready' | 'reload' | 'probeNow' | 'findTarget' | 'metrics' | 'store' | 'configuredTargets' | 'shard' | 'targetCount'>;
  readonly clock: Clock;
  readonly logger: FastifyBaseLogger;
  /** From --web.config.file: TLS, basic auth, headers, rate limit. Absent: plain HTTP, open. */
  readonly web?: WebConfig;
}

/** Query strings longer than this are not a target name: refuse them before doing any work. */
const MAX_QUERY_VALUE = 512;

interface ProbeQuery {
  target?: string;
  server_name?: string;
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
    const rendered = await daemon.metrics.render(request.headers.accept);
    return reply.type(rendered.contentType).send(rendered.body);
  });

  app.get<{ Querystring: ProbeQuery }>('/probe', async (request, reply) => {
    const { target, server_name: serverName } = request.query;
    if (typeof target !== 'string' || target === '') return reply.code(400).type('text/plain').send('target parameter is missing\n');
    if (target.length > MAX_QUERY_VALUE || (serverName?.length ?? 0) > MAX_QUERY_VALUE) {
      return reply.code(400).type('text/plain').send('parameter too long\n');
    }
    // Only configured targets: /probe must not become a relay to arbitrary hosts and ports.
    const config = daemon.findTarget(target);
    if (config === undefined) return reply.code(403).type('text/plain').send(`target ${JSON.stringify(target)} is not in the configuration\n`);
    const result = await daemon.probeNow(serverName === undefined ? config : { ...config, serverName });
    const rendered = renderProbeResult(result, clock, request.headers.accept);
    return reply.type(rendered.contentType).send(rendered.body);
  });

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
    .send(renderStatusPage(daemon.configuredTargets, (name) => daemon.store.latest(name), clock, sharded ? { shard: daemon.shard, targets: daemon.targetCount } : undefined)));

  return app;
}
