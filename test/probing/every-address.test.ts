/**
 * addresses: all at the prober: every address a name resolves to is probed under that name,
 * against servers on 127.0.0.x and ::1 sharing one port (the nodes behind one name) and a
 * resolver injected to answer with them.
 */
import { createHash } from 'node:crypto';
import { systemClock } from '../../src/clock';
import type { ProbeOutcome } from '../../src/probing/prober';
import { createProber } from '../../src/probing/probers';
import type { Resolver } from '../../src/probing/resolver';
import { closedAfterEach } from '../support/closed-after-each';
import { expectFailure, expectOk } from '../support/probe-outcomes';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { startNodes, type Node } from '../support/shared-port';
import type { LoopbackHost, TlsTestServer } from '../support/tls-server';

let pki: TestPki;
const servers = closedAfterEach<TlsTestServer>();

beforeAll(async () => {
  pki = await buildTestPki();
});


function leafFingerprint(outcome: ProbeOutcome): string | undefined {
  const leaf = outcome.ok ? outcome.chain[0] : undefined;
  return leaf === undefined ? undefined : createHash('sha256').update(leaf).digest('hex');
}

async function nodes(list: readonly Node[], sni?: Map<string, string[]>): Promise<number> {
  const started = await startNodes(list, sni === undefined ? undefined : (host, name) => { sni.set(host, [...(sni.get(host) ?? []), name]); });
  servers.push(...started.servers);
  return started.port;
}

const answering = (...addresses: string[]): Resolver => () => Promise.resolve(addresses);

function probe(resolver: Resolver, port: number, everyAddress = true): Promise<ProbeOutcome> {
  return createProber({ resolver, clock: systemClock })({ host: 'shop.test', port, serverName: 'localhost', ...(everyAddress ? { everyAddress } : {}) }, AbortSignal.timeout(5000));
}

describe('addresses: all', () => {
  it('probes every address under the same name and returns what each one presented', async () => {
    const sni = new Map<string, string[]>();
    const port = await nodes([
      { host: '127.0.0.2', key: pki.valid.key, chain: [pki.valid, pki.intermediate] },
      { host: '127.0.0.3', key: pki.expiringSoon.key, chain: [pki.expiringSoon, pki.intermediate] },
      { host: '::1', key: pki.valid.key, chain: [pki.valid, pki.intermediate] },
    ], sni);
    const outcome = expectOk(await probe(answering('127.0.0.2', '127.0.0.3', '::1'), port));

    expect(outcome.everyAddress?.map((o) => [o.address, leafFingerprint(o)])).toEqual([
      ['127.0.0.2', pki.valid.fingerprintSha256],
      ['127.0.0.3', pki.expiringSoon.fingerprintSha256],
      ['::1', pki.valid.fingerprintSha256],
    ]);
    expect(Object.fromEntries(sni)).toEqual({ '127.0.0.2': ['localhost'], '127.0.0.3': ['localhost'], '::1': ['localhost'] });
    for (const at of outcome.everyAddress ?? []) expect(at.phases.dns).toBe(outcome.phases.dns);
  });

  it('reports the failing address at the top and keeps the others\' chains when one node is down', async () => {
    const port = await nodes([{ host: '127.0.0.2', key: pki.valid.key, chain: [pki.valid] }]);
    const outcome = expectFailure(await probe(answering('127.0.0.2', '127.0.0.9'), port));

    expect(outcome.reason).toBe('connection_refused');
    expect(outcome.address).toBe('127.0.0.9');
    expect(outcome.everyAddress?.map((o) => [o.address, o.ok])).toEqual([['127.0.0.2', true], ['127.0.0.9', false]]);
  });

  it('probes an address the resolver repeats once', async () => {
    const port = await nodes([{ host: '127.0.0.2', key: pki.valid.key, chain: [pki.valid] }]);
    const outcome = expectOk(await probe(answering('127.0.0.2', '127.0.0.2'), port));

    expect(outcome.everyAddress?.map((o) => o.address)).toEqual(['127.0.0.2']);
  });

  it('returns one dns_error and no addresses when the name does not resolve', async () => {
    const failing: Resolver = () => Promise.reject(Object.assign(new Error('ENOTFOUND shop.test'), { code: 'ENOTFOUND' }));
    const outcome = expectFailure(await probe(failing, 443));

    expect(outcome.reason).toBe('dns_error');
    expect(outcome.everyAddress).toBeUndefined();
  });

  it('probes only the first address without addresses: all', async () => {
    const hosts: LoopbackHost[] = ['127.0.0.2', '127.0.0.3'];
    const port = await nodes(hosts.map((host) => ({ host, key: pki.valid.key, chain: [pki.valid] })));
    const outcome = expectOk(await probe(answering(...hosts), port, false));

    expect(outcome.address).toBe('127.0.0.2');
    expect(outcome.everyAddress).toBeUndefined();
  });
});
