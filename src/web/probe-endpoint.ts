/**
 * GET /probe?target=NAME_OR_HOST:PORT[&server_name=NAME]: one probe now, its metrics only (the
 * multi-target pattern of blackbox_exporter). A configured target by name or host:port, or a
 * target `probe.allow` admits; never a relay to whatever a caller names. Every answer is counted
 * in certexp_probe_requests_total by outcome.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock';
import { parseHost, parseHostPort } from '../config/host';
import type { TargetConfig } from '../config/config-types';
import type { Daemon } from '../daemon';
import { renderProbeResult, type ProbeRequestOutcome } from '../metrics/exporter-metrics';
import { BUILT_IN_DEFAULTS } from '../config/config-schema';
import { probeBudgetMs } from './probe-budget';
import { ProbeSlots } from './probe-slots';

/** Nothing certexp reads from /probe needs more; longer ones are refused before any other work. */
export const MAX_QUERY_BYTES = 2048;
/** A target name (any string in the config) or HOST:PORT (253 + 1 + 5, or a bracketed IPv6 address). */
const MAX_TARGET_LENGTH = 512;
const MAX_SERVER_NAME_LENGTH = 253;

export const DEFAULT_ENDPOINT_CONCURRENCY = 128;

export interface ProbeEndpointOptions {
  /** Subtracted from X-Prometheus-Scrape-Timeout-Seconds (--probe.timeout-offset). */
  readonly timeoutOffsetMs: number;
  /** /probe requests probing at once (--probe.endpoint-concurrency). */
  readonly concurrency: number;
}

export interface ProbeEndpointDeps {
  readonly daemon: Pick<Daemon, 'findTarget' | 'adHocTarget' | 'probeNow' | 'metrics'>;
  readonly clock: Clock;
  readonly options: ProbeEndpointOptions;
}

/** The target a request names, or the status and message that refuse it. */
type Resolved = { readonly config: TargetConfig; readonly adHoc: boolean } | Refusal;
interface Refusal {
  readonly outcome: Exclude<ProbeRequestOutcome, 'ok'>;
  readonly status: number;
  readonly message: string;
}

const invalid = (message: string, status = 400): Refusal => ({ outcome: 'invalid', status, message });

/** One string parameter, absent, or a refusal for a repeated or over-long one. */
function param(query: Record<string, unknown>, key: string, maxLength: number): string | undefined | Refusal {
  const value = query[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return invalid(`${key} is given more than once`);
  if (value.length > maxLength) return invalid(`${key} is longer than ${maxLength} characters`);
  return value;
}

function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'outcome' in value;
}

function resolveTarget(daemon: ProbeEndpointDeps['daemon'], query: Record<string, unknown>): Resolved {
  const target = param(query, 'target', MAX_TARGET_LENGTH);
  if (isRefusal(target)) return target;
  if (target === undefined || target === '') return invalid('target parameter is missing');
  const serverName = param(query, 'server_name', MAX_SERVER_NAME_LENGTH);
  if (isRefusal(serverName)) return serverName;
  if (serverName !== undefined) {
    const parsed = parseHost(serverName);
    if ('error' in parsed) return invalid(`server_name: ${parsed.error}`);
  }
  const sni = serverName === undefined ? {} : { serverName };
  const configured = daemon.findTarget(target);
  if (configured !== undefined) return { config: { ...configured, ...sni }, adHoc: false };
  const parsed = parseHostPort(target, BUILT_IN_DEFAULTS.port);
  if ('error' in parsed) return invalid(`target ${JSON.stringify(target)} is not a configured name, nor HOST:PORT: ${parsed.error}`);
  const adHoc = daemon.adHocTarget(parsed.host, parsed.port, parsed.ipv6, serverName);
  if ('refused' in adHoc) return { outcome: 'denied', status: 403, message: `target ${JSON.stringify(target)}: ${adHoc.refused}` };
  return { config: adHoc.target, adHoc: true };
}

export function registerProbeEndpoint(app: FastifyInstance, deps: ProbeEndpointDeps): void {
  const { daemon, clock, options } = deps;
  const slots = new ProbeSlots(options.concurrency);

  const refuse = (request: FastifyRequest, reply: FastifyReply, refusal: Refusal): FastifyReply => {
    daemon.metrics.countProbeRequest(refusal.outcome);
    // At warn: a refused /probe is a misconfigured scrape job or someone trying the exporter as a relay.
    request.log.warn({ outcome: refusal.outcome, status: refusal.status, remote: request.ip, reason: refusal.message }, '/probe refused');
    return reply.code(refusal.status).type('text/plain').send(`${refusal.message}\n`);
  };

  app.get('/probe', async (request, reply) => {
    const started = clock.monotonic();
    const queryStart = request.url.indexOf('?');
    if (queryStart >= 0 && request.url.length - queryStart - 1 > MAX_QUERY_BYTES) {
      return refuse(request, reply, invalid(`the query string is longer than ${MAX_QUERY_BYTES} bytes`, 414));
    }
    const resolved = resolveTarget(daemon, request.query as Record<string, unknown>);
    if (isRefusal(resolved)) return refuse(request, reply, resolved);
    const budget = probeBudgetMs(resolved.config.timeoutMs, request.headers['x-prometheus-scrape-timeout-seconds'], options.timeoutOffsetMs);
    if ('error' in budget) return refuse(request, reply, invalid(budget.error));

    // At most half the budget in the queue, so a probe that gets a slot has the other half to run.
    if (!(await slots.acquire(AbortSignal.timeout(Math.max(1, Math.floor(budget.budgetMs / 2)))))) {
      return refuse(request, reply, {
        outcome: 'overloaded',
        status: 503,
        message: `no probe slot came free within half the scrape's budget (${options.concurrency} /probe requests probing already): raise --probe.endpoint-concurrency or spread the targets over more replicas`,
      });
    }
    let result;
    try {
      const left = Math.max(1, Math.floor(budget.budgetMs - (clock.monotonic() - started)));
      result = await daemon.probeNow(resolved.config, { timeoutMs: left, adHoc: resolved.adHoc });
    } finally {
      slots.release();
    }
    if (result.failure?.reason === 'address_denied') {
      return refuse(request, reply, { outcome: 'denied', status: 403, message: `target ${JSON.stringify(resolved.config.name)}: ${result.failure.error}` });
    }
    daemon.metrics.countProbeRequest('ok');
    const rendered = renderProbeResult(result, clock, request.headers.accept);
    return reply.type(rendered.contentType).send(rendered.body);
  });
}
