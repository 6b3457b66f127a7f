/**
 * The daemon lowers its scheduled concurrency while its own event loop is late, and raises it
 * again once the loop is calm; probes go on meanwhile. The loop is made late by busy-waiting in
 * this very process, as a saturated daemon's handshakes would.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { keepLoopLate } from '../support/busy-loop';
import { startHarness, waitFor, type Harness } from '../support/daemon-harness';
import { select, value } from '../support/metrics-text';
import { buildTestPki, chainPem } from '../support/scenarios';
import { startTlsServer, type TlsTestServer } from '../support/tls-server';

const CONCURRENCY = 64;
/** Far below the 80 ms blocks below, far above an idle loop's delay even on a busy CI machine. */
const TARGET_DELAY_MS = 20;

describe('the scheduled concurrency, with --probe.loop-delay-target', () => {
  let server: TlsTestServer;
  let harness: Harness;

  beforeAll(async () => {
    const pki = await buildTestPki();
    server = await startTlsServer({ key: pki.valid.key, chain: [pki.valid, pki.intermediate] });
    const targets = Array.from({ length: 10 }, (_, i) => `  - name: site-${i}\n    host: 127.0.0.1\n    port: ${server.port}\n    server_name: localhost`);
    harness = await startHarness(`defaults:\n  interval: 1s\n  timeout: 1s\n  ca_file: root.pem\ntargets:\n${targets.join('\n')}\n`,
      { 'root.pem': chainPem(pki.root) }, undefined, { concurrency: CONCURRENCY, loopDelayTargetMs: TARGET_DELAY_MS });
  }, 30_000);

  afterAll(async () => {
    await harness.close();
    await server.close();
  });

  const limit = async (): Promise<number> => value((await harness.scrape()).samples, 'certexp_probe_concurrency_limit');
  const probes = async (): Promise<number> => select((await harness.scrape()).samples, 'certexp_probes_total').reduce((sum, s) => sum + s.value, 0);

  it('comes down while the event loop is late, goes back up once it is calm, and probes run throughout', async () => {
    expect(await limit()).toBe(CONCURRENCY);
    const probesBefore = await probes();

    // A little over two 1 s windows of a loop busy 80 ms at a time, with a turn between.
    await keepLoopLate(2300, 80);
    const lowered = await limit();
    expect(lowered).toBeLessThan(CONCURRENCY);
    expect(await probes()).toBeGreaterThan(probesBefore);

    await waitFor('the limit to rise once the loop is calm', async () => (await limit()) > lowered, 8000);
  }, 20_000);
});

describe('the scheduled probes in flight', () => {
  it('are shown as running while a silent server keeps them waiting, as many as the limit and no more', async () => {
    // Accepts and never answers: every probe waits out its timeout in the handshake.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => { sockets.add(socket); socket.on('close', () => { sockets.delete(socket); }); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const targets = Array.from({ length: 10 }, (_, i) => `  - name: silent-${i}\n    host: 127.0.0.1\n    port: ${port}`);
    const harness = await startHarness(`defaults:\n  interval: 10s\n  timeout: 5s\ntargets:\n${targets.join('\n')}\n`, {}, undefined, { concurrency: 4 });
    try {
      const inFlight = async (): Promise<[number, number]> => {
        const { samples } = await harness.scrape();
        return [value(samples, 'certexp_probes_in_flight'), value(samples, 'certexp_probe_concurrency_limit')];
      };
      await waitFor('4 probes in flight', async () => (await inFlight())[0] === 4, 12_000);
      expect(await inFlight()).toEqual([4, 4]);
    } finally {
      await harness.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => { resolve(); }));
    }
  }, 30_000);
});
