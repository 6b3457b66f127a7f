import { ResultsStore } from '../../src/results/results-store';
import type { TargetResult } from '../../src/results/target-result';

function failed(target: string, reason: 'connection_refused' | 'handshake_timeout'): TargetResult {
  return { target, finishedAt: 0, failure: { reason, error: reason }, address: undefined, phases: {}, tls: undefined, chain: undefined };
}

function succeeded(target: string, handshake: number): TargetResult {
  return { target, finishedAt: 0, failure: undefined, address: '127.0.0.1', phases: { handshake }, tls: undefined, chain: undefined };
}

describe('ResultsStore counts', () => {
  it('counts failures per target and reason, and a target that never failed has none', () => {
    const store = new ResultsStore([0.1, 1]);
    store.record(succeeded('quiet', 0.05));
    store.record(failed('flaky', 'connection_refused'));
    store.record(failed('flaky', 'connection_refused'));
    store.record(failed('flaky', 'handshake_timeout'));
    store.record(succeeded('quiet', 0.5));
    expect([...(store.countsOf('flaky')?.probeFailures ?? [])]).toEqual([['connection_refused', 2], ['handshake_timeout', 1]]);
    expect([...(store.countsOf('quiet')?.probeFailures ?? [])]).toEqual([]);
    expect(store.countsOf('quiet')?.probes).toBe(2);
    expect(store.countsOf('quiet')?.handshake).toEqual({ bucketCounts: [1, 2], sum: 0.55, count: 2 });
    // A later target starts from nothing, whatever the others counted.
    store.record(succeeded('new', 0.05));
    expect([...(store.countsOf('new')?.probeFailures ?? [])]).toEqual([]);
  });
});

describe('ResultsStore rendered bytes', () => {
  it('serves the bytes attached for the latest result only, and offers the older ones, with their result, to be written over', () => {
    const store = new ResultsStore();
    const first = succeeded('t', 0.1);
    store.record(first);
    expect(store.renderedOf('t')).toBeUndefined();
    expect(store.staleRendered('t')).toBeUndefined();
    const bytes = Buffer.from('lines of the first probe');
    store.attachRendered(first, bytes);
    expect(store.renderedOf('t')).toBe(bytes);
    expect(store.staleRendered('t')).toBeUndefined();
    const second = succeeded('t', 0.2);
    store.record(second);
    expect(store.renderedOf('t')).toBeUndefined();
    const stale = store.staleRendered('t');
    expect(stale?.bytes).toBe(bytes);
    expect(stale?.from).toBe(first);
    // Bytes for a result that is no longer the latest are not attached.
    store.attachRendered(first, Buffer.from('late'));
    expect(store.renderedOf('t')).toBeUndefined();
    store.attachRendered(second, bytes);
    expect(store.renderedOf('t')).toBe(bytes);
  });
});
