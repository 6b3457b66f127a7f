/**
 * The physical floor: the least a Node process can do to get a certificate chain from the fleet.
 * tls.connect with SNI, read the presented chain (getPeerX509Certificate and its issuers, as
 * certexp's prober does), destroy. One shared secure context, no verification, no bookkeeping.
 *
 *   node bench-dist/bench/floor.js --targets=FILE --count=N --concurrency=C --max-seconds=S [--rate=R]
 *
 * Flat out by default (the most handshakes per CPU-second Node reaches); with --rate, paced at R
 * handshakes per second, to compare with a daemon probing at that rate (less batching per wakeup).
 * Prints one JSON line with its own CPU time (process.cpuUsage) over the measured handshakes.
 */
import { readFileSync } from 'node:fs';
import { connect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { parseArgs } from 'node:util';

export interface FloorTarget {
  readonly port: number;
  readonly name: string;
}

export interface FloorResult {
  /** Handshakes per second asked for; 0 for flat out. */
  readonly rate: number;
  readonly handshakes: number;
  readonly failures: number;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly handshakesPerCpuSecond: number;
  readonly cpuSecondsPer1000: number;
}

export const FLOOR_WARMUP = 300;
const HANDSHAKE_TIMEOUT_MS = 10_000;

// One context for every connection, as certexp's prober has: no root store loaded per handshake.
let sharedContext: SecureContext | undefined;

function handshake(target: FloorTarget): Promise<boolean> {
  const secureContext = sharedContext ??= createSecureContext({ ca: [], minVersion: 'TLSv1' });
  return new Promise<boolean>((resolve) => {
    let socket: TLSSocket | undefined = undefined;
    const timer = setTimeout(() => { socket?.destroy(); resolve(false); }, HANDSHAKE_TIMEOUT_MS);
    socket = connect({ host: '127.0.0.1', port: target.port, servername: target.name, secureContext, rejectUnauthorized: false }, () => {
      const s = socket;
      if (s === undefined) return;
      let depth = 0;
      for (let cert = s.getPeerX509Certificate(); cert !== undefined && depth < 64; cert = cert.issuerCertificate) {
        if (cert.raw.length === 0) break;
        depth++;
      }
      clearTimeout(timer);
      s.destroy();
      resolve(depth > 0);
    });
    socket.on('error', () => { clearTimeout(timer); resolve(false); });
  });
}

async function loop(targets: readonly FloorTarget[], count: number, concurrency: number, deadline: number, startAt: number): Promise<{ ok: number; failed: number }> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < count && performance.now() < deadline) {
      const target = targets[(startAt + next++) % targets.length];
      if (target === undefined) return;
      if (await handshake(target)) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => worker()));
  return { ok, failed };
}

/** `count` handshakes started at `rate` per second (at most `concurrency` at once), like a scheduler spreading targets. */
async function pacedLoop(targets: readonly FloorTarget[], count: number, rate: number, concurrency: number, deadline: number, startAt: number): Promise<{ ok: number; failed: number }> {
  let started = 0;
  let inFlight = 0;
  let ok = 0;
  let failed = 0;
  const begin = performance.now();
  await new Promise<void>((resolve) => {
    const finishIfDone = (): void => {
      if ((started >= count || performance.now() >= deadline) && inFlight === 0) resolve();
    };
    // One timer per start, armed for the next due time (as a scheduler does), not a polling loop.
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(count, Math.floor(((now - begin) / 1000) * rate) + 1);
      while (started < due && inFlight < concurrency && now < deadline) {
        const target = targets[(startAt + started++) % targets.length];
        if (target === undefined) break;
        inFlight++;
        void handshake(target).then((success) => {
          if (success) ok++;
          else failed++;
          inFlight--;
          finishIfDone();
        });
      }
      if (started < count && now < deadline) setTimeout(tick, Math.max(0, begin + (started / rate) * 1000 - performance.now()));
      else finishIfDone();
    };
    tick();
  });
  return { ok, failed };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      targets: { type: 'string' },
      count: { type: 'string', default: '3000' },
      concurrency: { type: 'string', default: '64' },
      'max-seconds': { type: 'string', default: '60' },
      rate: { type: 'string', default: '0' },
    },
    strict: true,
  });
  if (values.targets === undefined) throw new Error('--targets=FILE is required');
  const targets = JSON.parse(readFileSync(values.targets, 'utf8')) as FloorTarget[];
  const count = Number(values.count);
  const concurrency = Number(values.concurrency);
  const deadline = performance.now() + Number(values['max-seconds']) * 1000;
  const rate = Number(values.rate);

  // JIT and first-connection costs are not the floor: warm up, then measure.
  await loop(targets, FLOOR_WARMUP, concurrency, deadline, 0);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const { ok, failed } = rate > 0
    ? await pacedLoop(targets, count, rate, concurrency, deadline, FLOOR_WARMUP)
    : await loop(targets, count, concurrency, deadline, FLOOR_WARMUP);
  const cpu = process.cpuUsage(cpu0);
  const wallSeconds = (performance.now() - wall0) / 1000;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const result: FloorResult = {
    rate,
    handshakes: ok,
    failures: failed,
    cpuSeconds,
    wallSeconds,
    handshakesPerCpuSecond: ok / cpuSeconds,
    cpuSecondsPer1000: (cpuSeconds / ok) * 1000,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (require.main === module) {
  void main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
