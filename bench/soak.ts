/**
 * `npm run soak`: the built daemon probing a mix of good and hostile loopback targets for a set
 * time, sampled every few seconds for RSS, open handles, event-loop delay and probes done. Prints
 * the samples and the trend of each over the second half; an upward trend is a leak.
 *
 *   npm run soak -- --targets=1000 --duration=300 --interval=5
 */
import { mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startFleet } from './fleet-control';
import { loadOrCreateFleetCerts } from './fleet-certs';
import { get, sampleValue, sumSamples, TEXT_ACCEPT } from './http';
import { shippedLaunch } from './launch';
import { freePort, installCleanup, memory, sleep, spawnTracked, stopAll, stopChild } from './proc';

const benchDist = __dirname;
const repoRoot = join(__dirname, '..', '..');

/** Misbehaving servers, each on its own loopback port, run in this (the driver's) process. */
const HOSTILE: Readonly<Record<string, (socket: Socket) => void>> = {
  silent: (socket) => { socket.resume(); },
  reset: (socket) => { socket.once('data', () => { socket.resetAndDestroy(); }); },
  garbage: (socket) => { socket.once('data', () => { socket.end(Buffer.alloc(2048, 0x5a)); }); },
  http: (socket) => { socket.once('data', () => { socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'); }); },
  alert: (socket) => { socket.once('data', () => { socket.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])); }); },
};

async function listenHostile(behave: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => { sockets.delete(socket); });
    // Nothing a hostile server holds may outlive the probe's timeout by much.
    socket.setTimeout(15_000, () => { socket.destroy(); });
    behave(socket);
  });
  server.on('close', () => { for (const s of sockets) s.destroy(); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

interface Sample {
  readonly seconds: number;
  readonly rssMb: number;
  readonly heapMb: number;
  readonly handles: number;
  readonly eventLoopP99Ms: number;
  readonly probes: number;
}

/** Least-squares slope of y over x. */
function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      targets: { type: 'string', default: '1000' },
      duration: { type: 'string', default: '180' },
      interval: { type: 'string', default: '5' },
      every: { type: 'string', default: '10' },
    },
    strict: true,
  });
  const total = Number(values.targets);
  const durationMs = Number(values.duration) * 1000;
  const intervalSeconds = Number(values.interval);
  const everyMs = Number(values.every) * 1000;
  installCleanup();
  const workDir = join(repoRoot, 'bench', '.cache');
  mkdirSync(workDir, { recursive: true });

  // A fifth of the targets misbehave, spread over the kinds, plus a closed port.
  const hostileCount = Math.floor(total / 5);
  const goodCount = total - hostileCount;
  const { certs, path: certsPath } = await loadOrCreateFleetCerts(workDir, goodCount, (line) => { console.log(line); });
  const fleet = await startFleet({ certs, certsPath, shards: 1, workDir, benchDist });
  const hostile = await Promise.all(Object.entries(HOSTILE).map(async ([kind, behave]) => ({ kind, ...(await listenHostile(behave)) })));
  const closedPort = await freePort();

  const lines = ['defaults:', `  interval: ${intervalSeconds}s`, `  timeout: ${Math.min(intervalSeconds, 3)}s`, `  ca_file: ${JSON.stringify(fleet.rootPemPath)}`, 'targets:'];
  for (const t of fleet.targets) lines.push(`  - { name: "${t.name}", host: 127.0.0.1, port: ${t.port}, server_name: "${t.name}" }`);
  for (let i = 0; i < hostileCount; i++) {
    const h = hostile[i % (hostile.length + 1)];
    lines.push(h === undefined
      ? `  - { name: "closed-${i}", host: 127.0.0.1, port: ${closedPort} }`
      : `  - { name: "${h.kind}-${i}", host: 127.0.0.1, port: ${h.port}, server_name: localhost }`);
  }
  const configPath = join(workDir, `soak-${total}.yml`);
  writeFileSync(configPath, `${lines.join('\n')}\n`);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const logFd = openSync(join(workDir, `soak-${total}.log`), 'w');
  // Started as npm start starts it: the memory settings are part of what the soak watches.
  const launch = shippedLaunch(repoRoot);
  const child = spawnTracked(process.execPath, [...launch.nodeArgs, join(repoRoot, 'dist', 'main.js'), `--config.file=${configPath}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', logFd, logFd], env: { ...process.env, ...launch.env },
  });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error('certexp did not start');
  for (let tries = 0; ; tries++) {
    if ((await get(`${base}/-/ready`, { timeoutMs: 2000 }).catch(() => undefined))?.status === 200) break;
    if (tries > 600 || child.exitCode !== null) throw new Error('certexp did not become ready');
    await sleep(100);
  }

  console.log(`soak: ${goodCount} good and ${hostileCount} hostile targets every ${intervalSeconds} s for ${durationMs / 1000} s (pid ${pid})`);
  console.log('   t(s)   RSS(MB)  heap(MB)  handles  loop p99(ms)   probes');
  const samples: Sample[] = [];
  const started = performance.now();
  while (performance.now() - started < durationMs) {
    await sleep(everyMs);
    const body = (await get(`${base}/metrics`, { accept: TEXT_ACCEPT, timeoutMs: 30_000, keepBody: true })).body;
    const sample: Sample = {
      seconds: Math.round((performance.now() - started) / 1000),
      rssMb: memory(pid).rss / 2 ** 20,
      heapMb: (sampleValue(body, 'nodejs_heap_size_used_bytes') ?? 0) / 2 ** 20,
      handles: sumSamples(body, 'nodejs_active_handles'),
      eventLoopP99Ms: (sampleValue(body, 'nodejs_eventloop_lag_p99_seconds') ?? 0) * 1000,
      probes: sumSamples(body, 'certexp_probes_total'),
    };
    samples.push(sample);
    console.log(`${String(sample.seconds).padStart(7)} ${sample.rssMb.toFixed(1).padStart(9)} ${sample.heapMb.toFixed(1).padStart(9)} ${String(sample.handles).padStart(8)} ${sample.eventLoopP99Ms.toFixed(1).padStart(13)} ${String(sample.probes).padStart(8)}`);
  }
  await stopChild(child);
  await fleet.stop();
  for (const h of hostile) h.server.close();

  const secondHalf = samples.slice(Math.floor(samples.length / 2));
  const perMinute = (pick: (s: Sample) => number): number => slope(secondHalf.map((s) => [s.seconds / 60, pick(s)]));
  const trend = { rssMbPerMinute: perMinute((s) => s.rssMb), heapMbPerMinute: perMinute((s) => s.heapMb), handlesPerMinute: perMinute((s) => s.handles) };
  console.log(`\ntrend over the second half: RSS ${trend.rssMbPerMinute.toFixed(2)} MB/min, heap ${trend.heapMbPerMinute.toFixed(2)} MB/min, handles ${trend.handlesPerMinute.toFixed(1)}/min`);
  const out = join(repoRoot, 'bench', 'results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ targets: total, good: goodCount, hostile: hostileCount, intervalSeconds, durationSeconds: durationMs / 1000, samples, trend }, null, 2)}\n`);
  console.log(`written to ${out}`);
}

main().then(() => stopAll(), async (error: unknown) => {
  console.error(error);
  await stopAll();
  process.exitCode = 1;
});
