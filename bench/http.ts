/** Small HTTP client helpers: timed GETs, scrape-latency runs and reading samples from exposition text. */
import { Agent, request } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface Fetched {
  readonly status: number;
  readonly body: string;
  /** Body bytes, inflated when the body is kept. */
  readonly bytes: number;
  /** Bytes on the wire (compressed when the server gzipped). */
  readonly wireBytes: number;
  /** Request sent to last body byte received, ms. */
  readonly ms: number;
}

/** What Prometheus 2.x/3.x sends by default: OpenMetrics preferred, text accepted. */
export const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
export const TEXT_ACCEPT = 'text/plain;version=0.0.4';

/**
 * With `gzip`, asks for it as Prometheus does. `ms` runs to the last byte on the wire: inflating
 * is the scraper's work, and ten scrapers inflating 30 MB each in this one process would time
 * the bench, not the exporter; the body is inflated (untimed) only when it is kept.
 */
export function get(url: string, options: { agent?: Agent; accept?: string; gzip?: boolean; timeoutMs?: number; keepBody?: boolean } = {}): Promise<Fetched> {
  const started = performance.now();
  const headers = { accept: options.accept ?? TEXT_ACCEPT, ...(options.gzip === true ? { 'accept-encoding': 'gzip' } : {}) };
  return new Promise<Fetched>((resolve, reject) => {
    const req = request(url, { agent: options.agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      let wireBytes = 0;
      res.on('data', (chunk: Buffer) => {
        wireBytes += chunk.length;
        if (options.keepBody !== false) chunks.push(chunk);
      });
      res.on('end', () => {
        const ms = performance.now() - started;
        const wire = Buffer.concat(chunks);
        const body = res.headers['content-encoding'] === 'gzip' && options.keepBody !== false ? gunzipSync(wire) : wire;
        resolve({ status: res.statusCode ?? 0, body: body.toString('utf8'), bytes: options.keepBody === false ? wireBytes : body.length, wireBytes, ms });
      });
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 30_000, () => { req.destroy(new Error(`GET ${url}: timed out`)); });
    req.on('error', reject);
    req.end();
  });
}

/** Sum of every sample of `metric` (any labels) in Prometheus text or OpenMetrics. */
export function sumSamples(body: string, metric: string): number {
  let sum = 0;
  let at = 0;
  for (;;) {
    const found = body.indexOf(`\n${metric}`, at);
    if (found < 0) break;
    const lineStart = found + 1;
    const lineEnd = body.indexOf('\n', lineStart);
    const line = body.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
    at = lineEnd < 0 ? body.length : lineEnd;
    const next = line.charAt(metric.length);
    if (next !== '{' && next !== ' ') continue;
    // The value follows the label set (labels may hold spaces, never an unescaped '} ').
    const valueText = next === '{' ? line.slice(line.lastIndexOf('} ') + 2) : line.slice(metric.length + 1);
    const value = Number(valueText.split(' ')[0]);
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

/** Number of samples of `metric` whose value is exactly `value`. */
export function countSamples(body: string, metric: string, value: string): number {
  let count = 0;
  for (const line of body.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const next = line.charAt(metric.length);
    if ((next === '{' || next === ' ') && line.endsWith(` ${value}`)) count++;
  }
  return count;
}

/** The single sample of an unlabelled metric, or undefined. */
export function sampleValue(body: string, metric: string): number | undefined {
  const match = new RegExp(`^${metric} (\\S+)`, 'm').exec(body);
  return match === null ? undefined : Number(match[1]);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank: with few samples, p99 is the worst one, which is what a scraper would see.
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export interface ScrapeStats {
  readonly scrapers: number;
  readonly scrapes: number;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly bodyBytes: number;
  readonly wireBytes: number;
}

/**
 * `scrapers` clients, each scraping `url` back to back `rounds` times over a kept-alive
 * connection (as Prometheus does), stopping early at `maxMs`.
 */
export async function scrapeLatency(url: string, scrapers: number, rounds: number, accept: string, gzip: boolean, maxMs: number): Promise<ScrapeStats> {
  const deadline = performance.now() + maxMs;
  const times: number[] = [];
  let failures = 0;
  let bodyBytes = 0;
  let wireBytes = 0;
  const scraper = async (): Promise<void> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < rounds && performance.now() < deadline; i++) {
        try {
          const fetched = await get(url, { agent, accept, gzip, keepBody: false, timeoutMs: 60_000 });
          if (fetched.status !== 200) { failures++; continue; }
          times.push(fetched.ms);
          bodyBytes = fetched.bytes;
          wireBytes = fetched.wireBytes;
        } catch {
          failures++;
        }
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: scrapers }, () => scraper()));
  return {
    scrapers,
    scrapes: times.length,
    failures,
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    maxMs: times.length === 0 ? Number.NaN : Math.max(...times),
    bodyBytes,
    wireBytes,
  };
}
