/**
 * Where the daemon's main thread spends its time: a V8 .cpuprofile (node --cpu-prof) reduced to
 * self time by function and by area (certexp module, npm package, Node internal, native), and
 * inclusive time by certexp function, over a window of the profile.
 *
 *   node bench-dist/bench/profile-summary.js FILE.cpuprofile [--from-us=N --to-us=N] [--top=N]
 *
 * Native work entered from libuv with no JavaScript on the stack (most of OpenSSL's handshake
 * work when a socket becomes readable) shows up as "(program)".
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Share {
  readonly name: string;
  readonly ms: number;
  /** Of the busy (non-idle) time in the window. */
  readonly percent: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly windowMs: number;
  /** Main-thread time not idle, ms. */
  readonly busyMs: number;
  readonly selfByFunction: readonly Share[];
  readonly selfByArea: readonly Share[];
  readonly inclusiveByCertexpFunction: readonly Share[];
  readonly inclusiveByPackage: readonly Share[];
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const nodeModules = url.lastIndexOf('/node_modules/');
  if (nodeModules >= 0) return url.slice(nodeModules + '/node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return `certexp/${url.slice(dist + '/dist/'.length)}`;
  return url.replace(/^file:\/\//, '');
}

/** The area a frame belongs to: certexp:<file>, npm:<package>, node:<module>, or a V8 pseudo-frame. */
function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const nodeModules = url.lastIndexOf('/node_modules/');
  if (nodeModules >= 0) {
    const rest = url.slice(nodeModules + '/node_modules/'.length).split('/');
    return `npm:${rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1] ?? ''}` : rest[0] ?? ''}`;
  }
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return `certexp:${url.slice(dist + '/dist/'.length)}`;
  if (url.startsWith('node:')) return url;
  return url;
}

function packageOf(frame: CallFrame): string | undefined {
  const area = areaOf(frame);
  if (area.startsWith('npm:')) return area;
  if (area.startsWith('certexp:')) return `certexp:${area.slice('certexp:'.length).split('/')[0] ?? ''}`;
  if (area.startsWith('node:')) return area;
  return undefined;
}

function label(frame: CallFrame): string {
  const where = shortUrl(frame.url);
  return `${frame.functionName || '(anonymous)'}${where === '' ? '' : ` ${where}:${frame.lineNumber + 1}`}`;
}

function top(map: Map<string, number>, busyUs: number, count: number): Share[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, ms: us / 1000, percent: busyUs === 0 ? 0 : (us / busyUs) * 100 }));
}

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

/** Summarizes the samples taken in [fromUs, toUs] (the profile's monotonic microseconds), or all of them. */
export function summarizeProfile(file: string, options: { fromUs?: number | undefined; toUs?: number | undefined; top?: number } = {}): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const count = options.top ?? 25;
  const fromUs = options.fromUs ?? Number.NEGATIVE_INFINITY;
  const toUs = options.toUs ?? Number.POSITIVE_INFINITY;

  const selfByFunction = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  const inclusiveCertexp = new Map<string, number>();
  const inclusivePackage = new Map<string, number>();
  let busyUs = 0;
  let windowUs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < fromUs || at > toUs) continue;
    windowUs += delta;
    const node = byId.get(profile.samples[i] ?? -1);
    if (node === undefined) continue;
    if (node.callFrame.functionName === '(idle)') continue;
    busyUs += delta;
    add(selfByFunction, label(node.callFrame), delta);
    add(selfByArea, areaOf(node.callFrame), delta);
    const seenFunctions = new Set<string>();
    const seenPackages = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (frame === undefined) break;
      if (frame.url.includes('/dist/')) seenFunctions.add(label(frame));
      const pkg = packageOf(frame);
      if (pkg !== undefined) seenPackages.add(pkg);
    }
    for (const name of seenFunctions) add(inclusiveCertexp, name, delta);
    for (const name of seenPackages) add(inclusivePackage, name, delta);
  }
  return {
    file,
    windowMs: windowUs / 1000,
    busyMs: busyUs / 1000,
    selfByFunction: top(selfByFunction, busyUs, count),
    selfByArea: top(selfByArea, busyUs, count),
    inclusiveByCertexpFunction: top(inclusiveCertexp, busyUs, count),
    inclusiveByPackage: top(inclusivePackage, busyUs, count),
  };
}

export function formatSummary(summary: ProfileSummary, title: string): string {
  const lines = [`${title}: main thread busy ${(summary.busyMs / 1000).toFixed(2)} s of ${(summary.windowMs / 1000).toFixed(1)} s profiled`];
  const section = (heading: string, shares: readonly Share[], count: number): void => {
    lines.push(`  ${heading}`);
    for (const share of shares.slice(0, count)) lines.push(`    ${share.percent.toFixed(1).padStart(5)}%  ${share.ms.toFixed(0).padStart(7)} ms  ${share.name}`);
  };
  section('self time by area', summary.selfByArea, 15);
  section('self time by function', summary.selfByFunction, 20);
  section('inclusive time by package', summary.inclusiveByPackage, 15);
  section('inclusive time by certexp function', summary.inclusiveByCertexpFunction, 20);
  return lines.join('\n');
}

function main(): void {
  const { values, positionals } = parseArgs({
    options: { 'from-us': { type: 'string' }, 'to-us': { type: 'string' }, top: { type: 'string', default: '25' } },
    allowPositionals: true,
    strict: true,
  });
  const file = positionals[0];
  if (file === undefined) throw new Error('usage: profile-summary FILE.cpuprofile [--from-us=N --to-us=N] [--top=N]');
  const summary = summarizeProfile(file, {
    fromUs: values['from-us'] === undefined ? undefined : Number(values['from-us']),
    toUs: values['to-us'] === undefined ? undefined : Number(values['to-us']),
    top: Number(values.top),
  });
  process.stdout.write(`${formatSummary(summary, file)}\n`);
}

if (require.main === module) main();
