/**
 * PeerChains against real TLS servers on loopback: the chain exactly as sent, read from the
 * handshake's records when it is new, and Node 20's destructive getPeerX509Certificate left to
 * records that cannot be read.
 */
import { createHash } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { connect, type SecureVersion, type TLSSocket } from 'node:tls';
import { HandshakeRecorder } from '../../src/probing/handshake-recorder';
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

async function serve(chain: TestCert[], maxVersion: SecureVersion = 'TLSv1.3'): Promise<TlsTestServer> {
  const [leaf] = chain;
  if (leaf === undefined) throw new Error('empty chain');
  const server = await startTlsServer({ host: '127.0.0.1', key: leaf.key, chain, maxVersion });
  servers.push(server);
  return server;
}

/**
 * Connects, hands the finished socket to `use` (with the recorder when `recorded`; `watched`
 * false leaves it without the TLS 1.3 secret), closes it.
 */
function withSocket<T>(port: number, use: (socket: TLSSocket, recorder: HandshakeRecorder | undefined) => T, { recorded = false, watched = true } = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const tcp = tcpConnect({ host: '127.0.0.1', port }, () => {
      const recorder = recorded ? new HandshakeRecorder(tcp) : undefined;
      const socket = connect({ socket: recorder?.stream ?? tcp, servername: 'localhost', rejectUnauthorized: false }, () => {
        try {
          resolve(use(socket, recorder));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        } finally {
          socket.destroy();
        }
      });
      if (watched) recorder?.watch(socket);
      socket.once('error', reject);
    });
    tcp.once('error', reject);
  });
}

/** A probe as the prober runs it: recorded when PeerChains asks, and once more, recorded, when the chain is new. */
async function probe(chains: PeerChains, port: number, endpoint = 'service.test'): Promise<{ chain: readonly Buffer[]; handshakes: number }> {
  const first = await withSocket(port, (s, r) => chains.take(s, endpoint, r), { recorded: chains.shouldRecord(endpoint) });
  if (first !== undefined) return { chain: first, handshakes: 1 };
  const chain = await withSocket(port, (s, r) => chains.take(s, endpoint, r), { recorded: true });
  return { chain: chain ?? [], handshakes: 2 };
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
  it('returns the chain as sent, out of order with an unrelated root, on the first and on later probes, over TLS 1.3 and 1.2', async () => {
    for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
      const sent = [pki.valid, pki.root, pki.otherRoot, pki.intermediate];
      const server = await serve(sent, maxVersion);
      const clock = manualClock();
      const chains = new PeerChains(clock.now);
      const expected = sent.map((c) => c.fingerprintSha256);
      expect(chains.shouldRecord('service.test')).toBe(true);
      const first = await probe(chains, server.port);
      expect(fingerprints(first.chain)).toEqual(expected);
      expect(first.handshakes).toBe(1);
      expect(chains.shouldRecord('service.test')).toBe(false);
      expect(fingerprints((await probe(chains, server.port)).chain)).toEqual(expected);
      clock.advance(CHAIN_RECHECK_MS);
      const rechecked = await probe(chains, server.port);
      expect(fingerprints(rechecked.chain)).toEqual(expected);
      expect(rechecked.handshakes).toBe(1);
    }
  });

  it('reads a new chain from the records, leaving the session chain whole, and walks it the leaky way only when the records cannot be read', async () => {
    const server = await serve([pki.valid, pki.intermediate]);
    const read = (chains: PeerChains, watched: boolean): Promise<{ chain: readonly Buffer[] | undefined; left: number }> =>
      withSocket(server.port, (s, r) => ({ chain: chains.take(s, 'service.test', r), left: remaining(s) }), { recorded: true, watched });
    const recorded = await read(new PeerChains(() => 0), true);
    expect(fingerprints(recorded.chain ?? [])).toEqual([pki.valid.fingerprintSha256, pki.intermediate.fingerprintSha256]);
    // Node 20 empties the session's chain on getPeerX509Certificate: the leak PeerChains avoids.
    expect(recorded.left).toBe(2);
    // Without the TLS 1.3 secret the records stay sealed: the chain is still exact, at the leak's cost.
    const sealed = await read(new PeerChains(() => 0), false);
    expect(fingerprints(sealed.chain ?? [])).toEqual([pki.valid.fingerprintSha256, pki.intermediate.fingerprintSha256]);
    expect(sealed.left).toBe(0);
  });

  it('asks for a recorded handshake for a renewed leaf, and for a dropped intermediate under the same leaf at the next recheck', async () => {
    const clock = manualClock();
    const chains = new PeerChains(clock.now);
    const full = await serve([pki.valid, pki.intermediate]);
    await probe(chains, full.port);
    const renewed = await serve([pki.wildcard, pki.intermediate]);
    const afterRenewal = await probe(chains, renewed.port);
    expect(fingerprints(afterRenewal.chain)).toEqual([pki.wildcard.fingerprintSha256, pki.intermediate.fingerprintSha256]);
    expect(afterRenewal.handshakes).toBe(2);
    const leafOnly = await serve([pki.valid]);
    clock.advance(CHAIN_RECHECK_MS - 1);
    // Same leaf, before the recheck: the chain taken with it stands, on one handshake.
    const stale = await probe(chains, leafOnly.port);
    expect(fingerprints(stale.chain)).toEqual([pki.valid.fingerprintSha256, pki.intermediate.fingerprintSha256]);
    expect(stale.handshakes).toBe(1);
    clock.advance(1);
    const dropped = await probe(chains, leafOnly.port);
    expect(fingerprints(dropped.chain)).toEqual([pki.valid.fingerprintSha256]);
    expect(dropped.handshakes).toBe(2);
  });

  it('judges each endpoint on its own when two serve one leaf, one without its intermediate', async () => {
    const chains = new PeerChains(() => 0);
    const full = await serve([pki.valid, pki.intermediate]);
    const leafOnly = await serve([pki.valid]);
    expect(fingerprints((await probe(chains, full.port, `127.0.0.1 ${full.port}`)).chain)).toHaveLength(2);
    expect(chains.shouldRecord(`127.0.0.1 ${leafOnly.port}`)).toBe(true);
    expect(fingerprints((await probe(chains, leafOnly.port, `127.0.0.1 ${leafOnly.port}`)).chain)).toEqual([pki.valid.fingerprintSha256]);
  });

  it('hands every endpoint the same buffer for an intermediate they share, and one array per known chain', async () => {
    const chains = new PeerChains(() => 0);
    const a = await serve([pki.valid, pki.intermediate]);
    const b = await serve([pki.wildcard, pki.intermediate]);
    const fromA = (await probe(chains, a.port, `127.0.0.1 ${a.port}`)).chain;
    const fromB = (await probe(chains, b.port, `127.0.0.1 ${b.port}`)).chain;
    expect(fingerprints(fromB)).toEqual([pki.wildcard.fingerprintSha256, pki.intermediate.fingerprintSha256]);
    expect(fromB[1]).toBe(fromA[1]);
    expect(fromB[0]).not.toBe(fromA[0]);
    // Unchanged, the chain comes back as the very same array: verification recognises it by that.
    expect((await probe(chains, a.port, `127.0.0.1 ${a.port}`)).chain).toBe(fromA);
  });

  it('forgets the least recently checked leaf beyond its capacity, and records at its endpoint again', async () => {
    const chains = new PeerChains(() => 0, 1);
    const a = await serve([pki.valid, pki.intermediate]);
    const b = await serve([pki.wildcard, pki.intermediate, pki.root]);
    await probe(chains, a.port, 'a');
    expect(chains.shouldRecord('a')).toBe(false);
    expect((await probe(chains, a.port, 'a')).handshakes).toBe(1);
    await probe(chains, b.port, 'b');
    expect(chains.shouldRecord('a')).toBe(true);
    expect(chains.shouldRecord('b')).toBe(false);
    expect((await probe(chains, a.port, 'a')).handshakes).toBe(1);
    expect(chains.shouldRecord('b')).toBe(true);
  });
});
