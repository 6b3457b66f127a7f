import { inShard, type Shard } from '../../src/scheduling/shard';
import { startHarness, waitFor, type Harness } from '../support/daemon-harness';
import { parseMetrics, select, value } from '../support/metrics-text';
import { buildTestPki, chainPem } from '../support/scenarios';
import { startTlsServer, type TlsTestServer } from '../support/tls-server';

const COUNT = 3;
const NAMES = Array.from({ length: 12 }, (_, i) => `site-${i}`);

function configFor(port: number, names: readonly string[]): string {
  const targets = names.map((name) => `  - name: ${name}\n    host: 127.0.0.1\n    port: ${port}\n    server_name: localhost`);
  return `defaults:\n  interval: 1s\n  timeout: 1s\n  ca_file: root.pem\ntargets:\n${targets.join('\n')}\n`;
}

const probedTargets = async (harness: Harness): Promise<string[]> =>
  select((await harness.scrape()).samples, 'certexp_probe_success').map((s) => s.labels.target ?? '').sort();

describe('three replicas, each with its --shard of one config', () => {
  let server: TlsTestServer;
  const replicas: { shard: Shard; harness: Harness }[] = [];

  beforeAll(async () => {
    const pki = await buildTestPki();
    server = await startTlsServer({ key: pki.valid.key, chain: [pki.valid, pki.intermediate] });
    const files = { 'root.pem': chainPem(pki.root) };
    for (let index = 0; index < COUNT; index++) {
      const shard = { index, count: COUNT };
      replicas.push({ shard, harness: await startHarness(configFor(server.port, NAMES), files, undefined, { shard }) });
    }
    for (const { shard, harness } of replicas) {
      const own = NAMES.filter((name) => inShard(name, shard));
      await waitFor(`shard ${shard.index} to probe its ${own.length} targets`, async () => (await probedTargets(harness)).length === own.length);
    }
  }, 30_000);

  afterAll(async () => {
    for (const { harness } of replicas) await harness.close();
    await server.close();
  });

  it('probe and export disjoint shards that together are the whole list', async () => {
    const seen: string[] = [];
    for (const { shard, harness } of replicas) {
      const mine = await probedTargets(harness);
      expect(mine).toEqual(NAMES.filter((name) => inShard(name, shard)).sort());
      // Other shards' targets have no series at all, not even the configured interval.
      const body = (await harness.scrape()).body;
      for (const other of NAMES.filter((name) => !inShard(name, shard))) expect(body).not.toContain(`"${other}"`);
      seen.push(...mine);
    }
    expect(seen.sort()).toEqual([...NAMES].sort());
    // Twelve names over three shards: none is empty, or the test would prove little.
    expect(replicas.every(({ shard }) => NAMES.some((name) => inShard(name, shard)))).toBe(true);
  });

  it('say which shard they are on /metrics, /-/ready and the status page', async () => {
    for (const { shard, harness } of replicas) {
      const own = NAMES.filter((name) => inShard(name, shard)).length;
      const samples = (await harness.scrape()).samples;
      expect(value(samples, 'certexp_shard_info', { shard: String(shard.index), shards: String(COUNT) })).toBe(1);
      const ready = await harness.app.inject({ url: '/-/ready' });
      expect(ready.body).toBe(`Ready, shard ${shard.index}/${COUNT}: ${own} of ${NAMES.length} targets\n`);
      const page = await harness.app.inject({ url: '/' });
      expect(page.body).toContain(`<span>${own} targets</span><span>shard ${shard.index}/${COUNT} of ${NAMES.length} configured</span>`);
    }
  });

  it('answer /probe for a configured target of another shard', async () => {
    const { shard, harness } = replicas[0] as { shard: Shard; harness: Harness };
    const other = NAMES.find((name) => !inShard(name, shard)) ?? '?';
    const response = await harness.app.inject({ url: `/probe?target=${other}` });
    expect(response.statusCode).toBe(200);
    expect(value(parseMetrics(response.body), 'certexp_verify_success', { target: other })).toBe(1);
    // An answer for /probe is not scheduling: the target stays out of this replica's /metrics.
    expect(await probedTargets(harness)).not.toContain(other);
  });

  it('keep their shard across a reload, and take on their share of new targets', async () => {
    const more = [...NAMES, ...Array.from({ length: 6 }, (_, i) => `added-${i}`)];
    for (const { shard, harness } of replicas) {
      await harness.writeConfig(configFor(server.port, more));
      const reload = await harness.app.inject({ method: 'POST', url: '/-/reload' });
      const own = more.filter((name) => inShard(name, shard));
      expect(reload.body).toBe(`Reloaded: ${more.length} targets, shard ${shard.index}/${COUNT}: ${own.length} of ${more.length} targets\n`);
      await waitFor(`shard ${shard.index} to probe its share after the reload`, async () => (await probedTargets(harness)).join() === own.sort().join());
    }
  }, 20_000);
});
