import type { Clock } from '../../src/clock';
import { ChainAnalyzer } from '../../src/pki/analyze-chain';
import { parseCertificate } from '../../src/pki/certificate';
import { CertificateCache } from '../../src/pki/certificate-cache';
import { SignatureVerifier } from '../../src/pki/signature';
import { TrustStore } from '../../src/pki/trust-store';
import type { ProbeOutcome } from '../../src/probing/prober';
import { assessProbe } from '../../src/results/assess-probe';
import { ResultsStore } from '../../src/results/results-store';
import { stateOf, type TargetResult } from '../../src/results/target-result';
import { buildTestPki, type TestPki } from '../support/scenarios';

let pki: TestPki;
let trust: TrustStore;
const analyzer = new ChainAnalyzer(new CertificateCache(), new SignatureVerifier());

function fixedClock(now: number): Clock {
  let tick = 0;
  return { now: () => now, monotonic: () => (tick += 5) };
}

beforeAll(async () => {
  pki = await buildTestPki();
  trust = new TrustStore([parseCertificate(pki.root.der)]);
});

const ok = (chain: Buffer[]): ProbeOutcome => ({
  ok: true, address: '127.0.0.1', chain, tls: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' }, phases: { dns: 0, connect: 0.001, handshake: 0.002 },
});
const refused: ProbeOutcome = { ok: false, reason: 'connection_refused', error: 'connect: ECONNREFUSED', address: '127.0.0.1', phases: { dns: 0 } };

function assess(outcome: ProbeOutcome, previous: TargetResult | undefined, now = pki.now.getTime()): TargetResult {
  return assessProbe({ target: 't', serverName: 'localhost', policy: 'web', outcome, previous, trust, analyzer, clock: fixedClock(now) });
}

describe('assessProbe', () => {
  it('verifies a received chain at the clock it is given and times the verify phase', () => {
    const result = assess(ok([pki.expiringSoon.der, pki.intermediate.der]), undefined);
    expect(result.failure).toBeUndefined();
    expect(result.chain?.verified).toBe(true);
    expect(result.phases).toEqual({ dns: 0, connect: 0.001, handshake: 0.002, verify: 0.005 });
    const later = assess(ok([pki.expiringSoon.der, pki.intermediate.der]), undefined, pki.expiringSoon.notAfter.getTime() + 1);
    expect(later.chain?.reasons).toEqual(['expired']);
  });

  it('keeps the last chain and TLS facts when a later probe fails, and says the probe failed', () => {
    const first = assess(ok([pki.valid.der, pki.intermediate.der]), undefined);
    const second = assess(refused, first);
    expect(second.failure).toEqual({ reason: 'connection_refused', error: 'connect: ECONNREFUSED' });
    expect(second.chain).toBe(first.chain);
    expect(second.tls).toBe(first.tls);
    expect(second.phases).toEqual({ dns: 0 });
    expect(stateOf(second)).toBe('probe_failed:connection_refused');
  });

  it('names the state by its reasons so logs change only when the state does', () => {
    expect(stateOf(assess(ok([pki.valid.der, pki.intermediate.der]), undefined))).toBe('ok');
    expect(stateOf(assess(ok([pki.wrongName.der]), undefined))).toBe('verify_failed:hostname_mismatch,missing_intermediate');
  });
});

describe('ResultsStore', () => {
  it('counts probes and failures by reason, and forgets targets not kept', () => {
    const store = new ResultsStore();
    const good = assess(ok([pki.valid.der, pki.intermediate.der]), undefined);
    store.record(good);
    store.record(assess(refused, good));
    store.record(assess(ok([pki.expired.der, pki.intermediate.der]), good));
    store.record({ ...assess(refused, undefined), target: 'other' });
    expect(store.countsOf('t')?.probes).toBe(3);
    expect([...(store.countsOf('t')?.probeFailures ?? [])]).toEqual([['connection_refused', 1]]);
    expect([...(store.countsOf('t')?.verifyFailures ?? [])]).toEqual([['expired', 1]]);
    store.retain(new Set(['other']));
    expect([...store.results()].map((r) => r.target)).toEqual(['other']);
  });
});
