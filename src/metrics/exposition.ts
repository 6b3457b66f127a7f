/**
 * The Prometheus text and OpenMetrics exposition formats, for the per-target families that are
 * rendered without prom-client's per-scrape label objects (see target-families.ts).
 */
export type Format = 'text' | 'openmetrics';
export type MetricType = 'gauge' | 'counter' | 'histogram';

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** `{a="x",b="y"}` from label pairs whose names are already valid. */
export function labels(pairs: readonly (readonly [string, string])[]): string {
  return `{${pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

/** One sample line. */
export function line(name: string, pairs: readonly (readonly [string, string])[], value: number): string {
  return `${name}${labels(pairs)} ${formatValue(value)}\n`;
}

/** HELP and TYPE lines; OpenMetrics names a counter family without its _total suffix. */
export function familyHeader(name: string, help: string, type: MetricType, format: Format): string {
  const family = format === 'openmetrics' && type === 'counter' ? name.replace(/_total$/, '') : name;
  return `# HELP ${family} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${family} ${type}\n`;
}
