/**
 * PeerChains against real TLS servers on loopback: the chain exactly as sent, and Node 20's
 * destructive getPeerX509Certificate called once per distinct chain, not once per probe.
 */
import { createHash } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';
import { CHAIN_RECHECK_MS, PeerChains } from '../../src/probing/peer-chain';
import { closedAfterEach } from '../support/closed-after-each';
import type { TestCert } from '../support/pki';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { startTlsServer, type TlsTestServer } from '../support/tls-server';

let pki: TestPki;
const servers = closedAfterEach<TlsTestServer>();

beforeAll(async () => {
  pki = await buildTestPki();
});

async function serve(chain: TestCert[]): Promise<TlsTestServer> {
  const [leaf] = chain;
  if (leaf === undefined) throw new Error('empty chain');
  const server = await startTlsServer({ host: '127.0.0.1', key: leaf.key, chain });
  servers.push(server);
  return server;
}

/** Connects, hands the finished socket to `use`, closes it. */
function withSocket<T>(port: number, use: (socket: TLSSocket) => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      try {
        resolve(use(socket));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      } finally {
        socket.destroy();
      }
    });
    socket.once('error', reject);
  });
}

const fingerprints = (chain: readonly Buffer[]): string[] => chain.map((der) => createHash('sha256').update(der).digest('hex'));
/** What getPeerX509Certificate still finds on the socket after PeerChains has read it. */
function remaining(socket: TLSSocket): number {
  let count = 0;
  for (let cert = socket.getPeerX509Certificate(); cert !== undefined && count < 10; cert = cert.issuerCertificate) count++;
  return count;
}

/** A clock the test moves by hand, so the recheck interval is crossed without waiting. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let at = 0;
  return { now: () => at, advance: (ms) => { at += ms; } };
}

describe('PeerChains', () => {
  it('returns the chain as sent, out of order with an unrelated root, on the first and on later probes', async () => {
    const sent = [pki.valid, pki.root, pki.otherRoot, pki.intermediate];
    const server = await serve(sent);
    const clock = manualClock();
    const chains = new PeerChains(clock.now);
    const expected = sent.map((c) => c.fingerprintSha256);
    expect(fingerprints(await withSocket(server.port, (s) => chains.take(s, 'service.test')))).toEqual(expected);
    expect(fingerprints(await withSocket(server.port, (s) => chains.take(s, 'service.test')))).toEqual(expected);
    clock.advance(CHAIN_RECHECK_MS);
    expect(fingerprints(await withSocket(server.port, (s) => chains.take(s, 'service.test')))).toEqual(expected);
  });

  it('walks the destructive exact chain for a new chain only, leaving later sessions untouched, rechecks included', async () => {
    const server = await serve([pki.valid, pki.intermediate]);
    const clock = manualClock();
    const chains = new PeerChains(clock.now);
    const probe = (): Promise<{ chain: readonly Buffer[]; left: number }> => withSocket(server.port, (s) => ({ chain: chains.take(s, 'service.test'), left: remaining(s) }));
    // Node 20 empties the session's chain on getPeerX509Certificate: the reason PeerChains exists.
    expect((await probe()).left).toBe(0);
    const second = await probe();
    expect(second.left).toBe(2);
    expect(fingerprints(second.chain)).toEqual([pki.valid.fingerprintSha256, pki.intermediate.fingerprintSha256]);
    clock.advance(CHAIN_RECHECK_MS);
    expect((await probe()).left).toBe(2);
  });

  it('sees a renewed leaf at once, and a dropped intermediate under the same leaf at the next recheck', async () => {
    const clock = manualClock();
    const chains = new PeerChains(clock.now);
    const full = await serve([pki.valid, pki.intermediate]);
    await withSocket(full.port, (s) => chains.take(s, 'service.test'));
    const renewed = await serve([pki.wildcard, pki.intermediate]);
    expect(fingerprints(await withSocket(renewed.port, (s) => chains.take(s, 'service.test')))).toEqual([pki.wildcard.fingerprintSha256, pki.intermediate.fingerprintSha256]);
    const leafOnly = await serve([pki.valid]);
    clock.advance(CHAIN_RECHECK_MS - 1);
    expect(fingerprints(await withSocket(leafOnly.port, (s) => chains.take(s, 'service.test')))).toEqual([pki.valid.fingerprintSha256, pki.intermediate.fingerprintSha256]);
    clock.advance(1);
    expect(fingerprints(await withSocket(leafOnly.port, (s) => chains.take(s, 'service.test')))).toEqual([pki.valid.fingerprintSha256]);
  });

  it('judges each endpoint on its own when two serve one leaf, one without its intermediate', async () => {
    const chains = new PeerChains(() => 0);
    const full = await serve([pki.valid, pki.intermediate]);
    const leafOnly = await serve([pki.valid]);
    expect(fingerprints(await withSocket(full.port, (s) => chains.take(s, `127.0.0.1 ${full.port}`)))).toHaveLength(2);
    expect(fingerprints(await withSocket(leafOnly.port, (s) => chains.take(s, `127.0.0.1 ${leafOnly.port}`)))).toEqual([pki.valid.fingerprintSha256]);
  });

  it('hands every endpoint the same buffer for an intermediate they share, and one array per known chain', async () => {
    const chains = new PeerChains(() => 0);
    const a = await serve([pki.valid, pki.intermediate]);
    const b = await serve([pki.wildcard, pki.intermediate]);
    const fromA = await withSocket(a.port, (s) => chains.take(s, `127.0.0.1 ${a.port}`));
    const fromB = await withSocket(b.port, (s) => chains.take(s, `127.0.0.1 ${b.port}`));
    expect(fingerprints(fromB)).toEqual([pki.wildcard.fingerprintSha256, pki.intermediate.fingerprintSha256]);
    expect(fromB[1]).toBe(fromA[1]);
    expect(fromB[0]).not.toBe(fromA[0]);
    // Unchanged, the chain comes back as the very same array: verification recognises it by that.
    expect(await withSocket(a.port, (s) => chains.take(s, `127.0.0.1 ${a.port}`))).toBe(fromA);
  });

  it('forgets the least recently checked leaf beyond its capacity and walks its chain again', async () => {
    const chains = new PeerChains(() => 0, 1);
    const a = await serve([pki.valid, pki.intermediate]);
    const b = await serve([pki.wildcard, pki.intermediate, pki.root]);
    const left = async (port: number): Promise<number> => withSocket(port, (s) => { chains.take(s, 'service.test'); return remaining(s); });
    expect(await left(a.port)).toBe(0);
    expect(await left(a.port)).toBe(2);
    expect(await left(b.port)).toBe(0);
    expect(await left(a.port)).toBe(0);
  });
});
