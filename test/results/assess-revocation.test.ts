import type { Clock } from '../../src/clock';
import { ChainAnalyzer } from '../../src/pki/analyze-chain';
import { parseCertificate, type ParsedCertificate } from '../../src/pki/certificate';
import { CertificateCache } from '../../src/pki/certificate-cache';
import type { OcspMode, OcspVerdict } from '../../src/pki/ocsp';
import { SignatureVerifier } from '../../src/pki/signature';
import { TrustStore } from '../../src/pki/trust-store';
import type { CrlAnswer } from '../../src/probing/crl-client';
import type { ProbeOutcome } from '../../src/probing/prober';
import { assessProbe } from '../../src/results/assess-probe';
import { assessRevocation } from '../../src/results/assess-revocation';
import type { TargetResult } from '../../src/results/target-result';
import { buildTestPki, type TestPki } from '../support/scenarios';

let pki: TestPki;
let trust: TrustStore;
const analyzer = new ChainAnalyzer(new CertificateCache(), new SignatureVerifier());
const clock: Clock = { now: () => Date.now(), monotonic: () => performance.now() };
const GARBAGE_STAPLE = Buffer.from('not OCSP');

beforeAll(async () => {
  pki = await buildTestPki();
  trust = new TrustStore([parseCertificate(pki.root.der)]);
});

/** A responder client that answers `verdict` and records whom it was asked about. */
function fakeClient<V = OcspVerdict>(verdict: V | undefined): { status: () => Promise<V | undefined>; asked: ParsedCertificate[][] } {
  const asked: ParsedCertificate[][] = [];
  return {
    asked,
    status: (...args: unknown[]) => {
      asked.push(args.slice(0, 2) as ParsedCertificate[]);
      return Promise.resolve(verdict);
    },
  };
}

const refused: ProbeOutcome = { ok: false, reason: 'connection_refused', error: 'connect: ECONNREFUSED', address: '127.0.0.1', phases: {} };

function probed(outcome?: ProbeOutcome, previous?: TargetResult): TargetResult {
  const received: ProbeOutcome = outcome ?? {
    ok: true, address: '127.0.0.1', chain: [pki.valid.der, pki.intermediate.der], tls: { version: 'TLSv1.3', cipher: 'x' }, phases: {},
  };
  return assessProbe({ target: 't', serverName: 'localhost', policy: 'web', outcome: received, previous, trust, analyzer, clock });
}

function revocation(result: TargetResult, mode: OcspMode, client: ReturnType<typeof fakeClient<OcspVerdict>>, stapled?: Buffer, previous?: TargetResult): Promise<TargetResult> {
  return assessRevocation({ result, stapled, previous, mode, client, clock, signal: AbortSignal.timeout(1000) });
}

const good: OcspVerdict = { status: 'good', thisUpdate: 1, nextUpdate: 2 };
const revoked: OcspVerdict = { status: 'revoked', thisUpdate: 1, nextUpdate: 2, revokedAt: 0, revocationReason: 'keyCompromise' };

describe('assessRevocation', () => {
  it('asks the responder about the leaf and the issuer on the built path, and times it', async () => {
    const client = fakeClient(good);
    const result = await revocation(probed(), 'responder', client);
    expect(client.asked.map((pair) => pair.map((c) => c.fingerprintSha256))).toEqual([[pki.valid.fingerprintSha256, pki.intermediate.fingerprintSha256]]);
    expect(result.ocsp).toEqual({ ...good, source: 'responder' });
    expect(result.chain?.verified).toBe(true);
    expect(result.phases.ocsp).toBeGreaterThanOrEqual(0);
  });

  it('fails a revoked leaf with revoked, among its other reasons, in order', async () => {
    const expiredChain: ProbeOutcome = { ok: true, address: '127.0.0.1', chain: [pki.expired.der, pki.intermediate.der], tls: { version: 'TLSv1.3', cipher: 'x' }, phases: {} };
    const result = await revocation(probed(expiredChain), 'responder', fakeClient(revoked));
    expect(result.chain?.reasons).toEqual(['expired', 'revoked']);
    expect(result.chain?.verified).toBe(false);
  });

  it('judges only the staple by default, and asks nobody', async () => {
    const client = fakeClient(revoked);
    const result = await revocation(probed(), 'stapled', client, GARBAGE_STAPLE);
    expect(client.asked).toEqual([]);
    expect(result.ocsp).toMatchObject({ status: 'error', source: 'stapled' });
    expect(result.chain?.verified).toBe(true);
    expect(await revocation(probed(), 'stapled', client)).not.toHaveProperty('ocsp');
  });

  it('asks the responder when the staple is unusable, and keeps the staple\'s error when the leaf names no responder', async () => {
    expect((await revocation(probed(), 'responder', fakeClient(good), GARBAGE_STAPLE)).ocsp).toEqual({ ...good, source: 'responder' });
    expect((await revocation(probed(), 'responder', fakeClient(undefined), GARBAGE_STAPLE)).ocsp).toMatchObject({ status: 'error', source: 'stapled' });
  });

  it('does nothing with ocsp none, staple or not', async () => {
    const client = fakeClient(revoked);
    const result = await revocation(probed(), 'none', client, GARBAGE_STAPLE);
    expect(result).not.toHaveProperty('ocsp');
    expect(client.asked).toEqual([]);
  });

  it('keeps the last status when a probe gets no chain, as it keeps the last chain', async () => {
    const before = await revocation(probed(), 'responder', fakeClient(revoked));
    const client = fakeClient(good);
    const after = await revocation(probed(refused, before), 'responder', client, undefined, before);
    expect(after.failure?.reason).toBe('connection_refused');
    expect(after.ocsp).toEqual(before.ocsp);
    expect(after.chain?.reasons).toEqual(['revoked']);
    expect(client.asked).toEqual([]);
  });

  describe('with crl: distribution_point', () => {
    const crlGood: CrlAnswer = { status: 'good', thisUpdate: 1, nextUpdate: 2, url: 'http://127.0.0.1/ca.crl' };
    const crlRevoked: CrlAnswer = { status: 'revoked', thisUpdate: 1, nextUpdate: 2, revokedAt: 0, revocationReason: 'superseded', url: 'http://127.0.0.1/ca.crl' };
    const withCrl = (result: TargetResult, ocsp: OcspMode, crl: ReturnType<typeof fakeClient<CrlAnswer>>, previous?: TargetResult): Promise<TargetResult> =>
      assessRevocation({ result, stapled: undefined, previous, mode: ocsp, client: fakeClient(good), crl: { mode: 'distribution_point', client: crl }, clock, signal: AbortSignal.timeout(1000) });

    it('asks about the leaf and its issuer on the path, times it, and fails a listed leaf with revoked even when OCSP says good', async () => {
      const crl = fakeClient(crlRevoked);
      const result = await withCrl(probed(), 'responder', crl);
      expect(crl.asked.map((pair) => pair.map((c) => c.fingerprintSha256))).toEqual([[pki.valid.fingerprintSha256, pki.intermediate.fingerprintSha256]]);
      expect(result.crl).toEqual(crlRevoked);
      expect(result.ocsp).toMatchObject({ status: 'good' });
      expect(result.chain?.reasons).toEqual(['revoked']);
      expect(result.phases.crl).toBeGreaterThanOrEqual(0);
    });

    it('leaves a good leaf verified, reports an error without failing anything, and adds nothing when the leaf names no point', async () => {
      expect(await withCrl(probed(), 'none', fakeClient(crlGood))).toMatchObject({ crl: crlGood, chain: { verified: true } });
      const error: CrlAnswer = { status: 'error', error: 'http://127.0.0.1/ca.crl: ECONNREFUSED' };
      expect(await withCrl(probed(), 'none', fakeClient(error))).toMatchObject({ crl: error, chain: { verified: true }, failure: undefined });
      const nothing = await withCrl(probed(), 'none', fakeClient<CrlAnswer>(undefined));
      expect(nothing).not.toHaveProperty('crl');
      expect(nothing.phases).not.toHaveProperty('crl');
    });

    it('asks nothing with crl: none, and keeps the last CRL status when a probe gets no chain', async () => {
      const crl = fakeClient(crlRevoked);
      const off = await assessRevocation({ result: probed(), stapled: undefined, previous: undefined, mode: 'none', client: fakeClient(good), crl: { mode: 'none', client: crl }, clock, signal: AbortSignal.timeout(1000) });
      expect(off).not.toHaveProperty('crl');
      expect(crl.asked).toEqual([]);
      const before = await withCrl(probed(), 'none', crl);
      const after = await withCrl(probed(refused, before), 'none', crl, before);
      expect(after.crl).toEqual(crlRevoked);
      expect(crl.asked).toHaveLength(1);
    });
  });
});
