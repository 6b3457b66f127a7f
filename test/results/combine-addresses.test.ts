/**
 * Which address a target reports with addresses: all: a failed probe first, then a chain that
 * does not verify, then the earliest expiry; and where its chain comes from when a node is down.
 */
import type { ChainAnalysis } from '../../src/pki/analyze-chain';
import { TrustStore } from '../../src/pki/trust-store';
import { combineAddresses } from '../../src/results/combine-addresses';
import type { TargetResult } from '../../src/results/target-result';

function chain(verified: boolean, earliestNotAfter: number): ChainAnalysis {
  return { presented: [], verified, reasons: verified ? [] : ['expired'], path: [], trusted: verified, earliestNotAfter, input: { chain: [], trust: new TrustStore([]), serverName: undefined, at: 0 }, stable: { from: 0, until: 0 } };
}

function at(address: string, more: Partial<TargetResult>): TargetResult {
  return { target: 't', finishedAt: 0, failure: undefined, address, phases: {}, tls: { version: 'TLSv1.3', cipher: address }, chain: undefined, ...more };
}

describe('combineAddresses', () => {
  it('reports the earliest expiry among verified chains', () => {
    const result = combineAddresses([at('a', { chain: chain(true, 300) }), at('b', { chain: chain(true, 100) }), at('c', { chain: chain(true, 200) })], undefined);
    expect([result.address, result.chain?.earliestNotAfter, result.tls?.cipher]).toEqual(['b', 100, 'b']);
    expect(result.addresses?.map((a) => a.address)).toEqual(['a', 'b', 'c']);
  });

  it('reports a chain that does not verify before one that expires sooner', () => {
    const result = combineAddresses([at('a', { chain: chain(true, 100) }), at('b', { chain: chain(false, 900) })], undefined);
    expect(result.address).toBe('b');
    expect(result.chain?.verified).toBe(false);
  });

  it('reports a failed address, with the chain of the worst address that answered', () => {
    const failure = { reason: 'connection_refused' as const, error: 'connect: ECONNREFUSED' };
    const result = combineAddresses([at('a', { chain: chain(true, 500) }), at('b', { failure }), at('c', { chain: chain(true, 400) })], undefined);
    expect([result.address, result.failure, result.chain?.earliestNotAfter, result.tls?.cipher]).toEqual(['b', failure, 400, 'c']);
  });

  it('keeps the previous chain when no address answered, as a single-address target does', () => {
    const failure = { reason: 'connect_timeout' as const, error: 'connect timed out' };
    const previous = at('a', { chain: chain(true, 700) });
    const result = combineAddresses([at('a', { failure }), at('b', { failure })], previous);
    expect([result.address, result.chain?.earliestNotAfter]).toEqual(['a', 700]);
  });

  it('reports the first address when all are alike, so series stay put between probes', () => {
    const result = combineAddresses([at('a', { chain: chain(true, 100) }), at('b', { chain: chain(true, 100) })], undefined);
    expect(result.address).toBe('a');
  });
});
