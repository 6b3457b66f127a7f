/** One sample of the Prometheus text format, as a scraper sees it. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function unescape(value: string): string {
  return value.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

/** Parses exposition text into samples; a line that is not a comment and not a sample fails the test. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key = '', value = ''] of (match[2] ?? '').matchAll(LABEL)) labels[key] = unescape(value);
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

/** Samples of `name` whose labels include every pair in `match`. */
export function select(samples: readonly Sample[], name: string, match: Readonly<Record<string, string>> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample that matches; throws when there is none or more than one. */
export function value(samples: readonly Sample[], name: string, match: Readonly<Record<string, string>> = {}): number {
  const found = select(samples, name, match);
  if (found.length !== 1) throw new Error(`expected one ${name}${JSON.stringify(match)}, found ${found.length}`);
  return (found[0] as Sample).value;
}
