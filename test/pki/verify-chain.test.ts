import { ChainAnalyzer } from '../../src/pki/analyze-chain';
import { parseCertificate, type ParsedCertificate } from '../../src/pki/certificate';
import { CertificateCache } from '../../src/pki/certificate-cache';
import { SignatureVerifier } from '../../src/pki/signature';
import { systemTrustStore, TrustStore } from '../../src/pki/trust-store';
import { verifyChain, type VerifyResult } from '../../src/pki/verify-chain';
import { createCertificate, days, type TestCert } from '../support/pki';
import { buildTestPki, type TestPki } from '../support/scenarios';

let pki: TestPki;
const signatures = new SignatureVerifier();
const parse = (cert: TestCert): ParsedCertificate => parseCertificate(cert.der);

beforeAll(async () => {
  pki = await buildTestPki();
});

function verify(presented: TestCert[], anchors: TestCert[], serverName = 'localhost', at = pki.now.getTime()): VerifyResult {
  return verifyChain({ presented: presented.map(parse), trust: new TrustStore(anchors.map(parse)), serverName, at, signatures });
}

const subjects = (result: VerifyResult): string[] => result.path.map((c) => c.subject.commonName);

describe('verifyChain', () => {
  it('verifies a leaf served with its intermediate up to a trusted root', () => {
    const result = verify([pki.valid, pki.intermediate], [pki.root]);
    expect(result.reasons).toEqual([]);
    expect(result.verified).toBe(true);
    expect(result.trusted).toBe(true);
    expect(result.path.map((c) => c.fingerprintSha256)).toEqual([pki.valid, pki.intermediate, pki.root].map((c) => c.fingerprintSha256));
    expect(result.earliestNotAfter).toBe(pki.valid.notAfter.getTime());
  });

  it('reports expired when the leaf is past notAfter, and keeps the path for remaining days', () => {
    const result = verify([pki.expired, pki.intermediate], [pki.root]);
    expect(result.reasons).toEqual(['expired']);
    expect(result.earliestNotAfter).toBe(pki.expired.notAfter.getTime());
  });

  it('reports not_yet_valid when the leaf starts in the future', () => {
    expect(verify([pki.notYetValid, pki.intermediate], [pki.root]).reasons).toEqual(['not_yet_valid']);
  });

  it('treats validity bounds as inclusive', () => {
    const notAfter = pki.valid.notAfter.getTime();
    expect(verify([pki.valid, pki.intermediate], [pki.root], 'localhost', notAfter).reasons).toEqual([]);
    expect(verify([pki.valid, pki.intermediate], [pki.root], 'localhost', notAfter + 1).reasons).toEqual(['expired']);
    const notBefore = pki.valid.notBefore.getTime();
    expect(verify([pki.valid, pki.intermediate], [pki.root], 'localhost', notBefore).reasons).toEqual([]);
    expect(verify([pki.valid, pki.intermediate], [pki.root], 'localhost', notBefore - 1).reasons).toEqual(['not_yet_valid']);
  });

  it('answers for another day when given another clock', () => {
    const in91Days = pki.now.getTime() + days(91);
    expect(verify([pki.valid, pki.intermediate], [pki.root], 'localhost', in91Days).reasons).toEqual(['expired']);
  });

  it('reports hostname_mismatch when no SAN names the server', () => {
    expect(verify([pki.wrongName, pki.intermediate], [pki.root]).reasons).toEqual(['hostname_mismatch']);
    expect(verify([pki.wrongName, pki.intermediate], [pki.root], 'other.example').reasons).toEqual([]);
  });

  it('matches IP SANs for IP server names and wildcards for one label', () => {
    expect(verify([pki.ipOnly, pki.intermediate], [pki.root], '127.0.0.1').reasons).toEqual([]);
    expect(verify([pki.ipOnly, pki.intermediate], [pki.root], '::1').reasons).toEqual([]);
    expect(verify([pki.ipOnly, pki.intermediate], [pki.root], 'localhost').reasons).toEqual(['hostname_mismatch']);
    expect(verify([pki.wildcard, pki.intermediate], [pki.root], 'shop.example.test').reasons).toEqual([]);
    expect(verify([pki.wildcard, pki.intermediate], [pki.root], 'a.shop.example.test').reasons).toEqual(['hostname_mismatch']);
  });

  it('reports self_signed for an untrusted self-signed leaf, and verifies it once it is an anchor', () => {
    expect(verify([pki.selfSigned], [pki.root]).reasons).toEqual(['self_signed']);
    expect(verify([pki.selfSigned], [pki.root, pki.selfSigned]).reasons).toEqual([]);
  });

  it("reports missing_intermediate when the leaf's issuer is neither presented nor trusted", () => {
    const result = verify([pki.valid], [pki.root]);
    expect(result.reasons).toEqual(['missing_intermediate']);
    expect(subjects(result)).toEqual([pki.valid.subjectCn]);
  });

  it('still reports missing_intermediate when the server sends the root but not the intermediate', () => {
    expect(verify([pki.valid, pki.root], [pki.root]).reasons).toEqual(['missing_intermediate']);
  });

  it('reports untrusted_root when the presented chain ends in a CA that is not trusted', () => {
    expect(verify([pki.untrustedLeaf, pki.otherIntermediate], [pki.root]).reasons).toEqual(['untrusted_root']);
    const withRoot = verify([pki.untrustedLeaf, pki.otherIntermediate, pki.otherRoot], [pki.root]);
    expect(withRoot.reasons).toEqual(['untrusted_root']);
    expect(subjects(withRoot)).toEqual([pki.untrustedLeaf, pki.otherIntermediate, pki.otherRoot].map((c) => c.subjectCn));
  });

  it('builds the path whatever the presented order, ignoring extra certificates', () => {
    const result = verify([pki.valid, pki.otherRoot, pki.root, pki.intermediate, pki.intermediate], [pki.root]);
    expect(result.reasons).toEqual([]);
    expect(subjects(result)).toEqual([pki.valid, pki.intermediate, pki.root].map((c) => c.subjectCn));
  });

  it('takes remaining time from an intermediate that expires before its leaf', () => {
    const result = verify([pki.leafUnderShortIntermediate, pki.shortIntermediate], [pki.root]);
    expect(result.reasons).toEqual([]);
    expect(result.earliestNotAfter).toBe(pki.shortIntermediate.notAfter.getTime());
  });

  it('ignores an unused expired cross-signed root when the trusted root is an anchor', () => {
    const result = verify([pki.valid, pki.intermediate, pki.crossSignedRoot], [pki.root]);
    expect(result.reasons).toEqual([]);
    expect(result.earliestNotAfter).toBe(pki.valid.notAfter.getTime());
    expect(result.path.at(-1)?.fingerprintSha256).toBe(pki.root.fingerprintSha256);
  });

  it('follows the cross-sign when only the old root is trusted, and reports its expiry', () => {
    const result = verify([pki.valid, pki.intermediate, pki.crossSignedRoot], [pki.oldRoot]);
    expect(subjects(result)).toEqual([pki.valid, pki.intermediate, pki.crossSignedRoot, pki.oldRoot].map((c) => c.subjectCn));
    expect(result.reasons).toEqual(['expired']);
    expect(result.earliestNotAfter).toBe(pki.crossSignedRoot.notAfter.getTime());
  });

  it('reports bad_signature when a certificate was not signed by the issuer it names', async () => {
    // Same name as the intermediate, another key, and no key identifiers to tell them apart.
    const impostor = await createCertificate({ subjectCn: pki.intermediate.subjectCn, issuer: pki.root, ca: true, subjectKeyIdentifier: false });
    const forged = await createCertificate({ subjectCn: 'localhost', issuer: impostor, dnsNames: ['localhost'] });
    expect(verify([forged, pki.intermediate], [pki.root]).reasons).toEqual(['bad_signature']);
  });

  it('reports invalid_ca when a leaf certificate issued another certificate', async () => {
    const underLeaf = await createCertificate({ subjectCn: 'localhost', issuer: pki.valid, dnsNames: ['localhost'] });
    // The test intermediate has pathLenConstraint 0, so the leaf acting as a CA below it also exceeds it.
    expect(verify([underLeaf, pki.valid, pki.intermediate], [pki.root]).reasons).toEqual(['invalid_ca', 'path_length_exceeded']);
  });

  it('verifies against the system roots plus extra anchors', () => {
    const cache = new CertificateCache();
    const system = systemTrustStore(cache);
    expect(system.size).toBeGreaterThan(50);
    const result = verifyChain({ presented: [parse(pki.valid), parse(pki.intermediate)], trust: system.with([parse(pki.root)]), serverName: 'localhost', at: pki.now.getTime(), signatures });
    expect(result.reasons).toEqual([]);
    const withoutRoot = verifyChain({ presented: [parse(pki.valid), parse(pki.intermediate)], trust: system, serverName: 'localhost', at: pki.now.getTime(), signatures });
    expect(withoutRoot.reasons).toEqual(['untrusted_root']);
  });
});

describe('ChainAnalyzer', () => {
  const analyzer = new ChainAnalyzer(new CertificateCache(), new SignatureVerifier());

  it('reports malformed_certificate without a path when the leaf is not DER', () => {
    const result = analyzer.analyze({ chain: [Buffer.from('not a certificate')], trust: new TrustStore([parse(pki.root)]), serverName: 'localhost', at: pki.now.getTime() });
    expect(result.reasons).toEqual(['malformed_certificate']);
    expect(result.path).toEqual([]);
    expect(result.earliestNotAfter).toBeUndefined();
    expect(result.presented[0]?.error).toMatch(/X\.509/);
  });

  it('reports malformed_certificate beside the path it could build when a later certificate is garbage', () => {
    const truncated = pki.intermediate.der.subarray(0, 100);
    const result = analyzer.analyze({ chain: [pki.valid.der, truncated, pki.intermediate.der], trust: new TrustStore([parse(pki.root)]), serverName: 'localhost', at: pki.now.getTime() });
    expect(result.reasons).toEqual(['malformed_certificate']);
    expect(result.path).toHaveLength(3);
    expect(result.presented.map((p) => p.cert === undefined)).toEqual([false, true, false]);
  });

  describe('reusing the previous analysis', () => {
    const trust = (): TrustStore => new TrustStore([parse(pki.root)]);

    it('answers the same question inside its window with the same object, and asks again past notAfter', () => {
      const question = { chain: [pki.valid.der, pki.intermediate.der], trust: trust(), serverName: 'localhost', at: pki.now.getTime() };
      const first = analyzer.analyze(question);
      expect(first.verified).toBe(true);
      expect(first.stable.until).toBe(pki.valid.notAfter.getTime() + 1);
      const lastValid = { ...question, at: pki.valid.notAfter.getTime() };
      expect(analyzer.analyze(lastValid, first)).toBe(first);
      const after = analyzer.analyze({ ...question, at: pki.valid.notAfter.getTime() + 1 }, first);
      expect(after).not.toBe(first);
      expect(after.reasons).toEqual(['expired']);
    });

    it('asks again for another chain array, trust store, name or policy', () => {
      const question = { chain: [pki.valid.der, pki.intermediate.der], trust: trust(), serverName: 'localhost', at: pki.now.getTime() };
      const first = analyzer.analyze(question);
      expect(analyzer.analyze({ ...question }, first)).toBe(first);
      expect(analyzer.analyze({ ...question, chain: [...question.chain] }, first)).not.toBe(first);
      expect(analyzer.analyze({ ...question, trust: new TrustStore([]) }, first).reasons).toEqual(['untrusted_root']);
      expect(analyzer.analyze({ ...question, serverName: 'other.test' }, first).reasons).toEqual(['hostname_mismatch']);
      expect(analyzer.analyze({ ...question, policy: 'rfc5280' }, first)).not.toBe(first);
    });

    it('gives the verdict a fresh analysis gives, at every moment across the certificates\' dates', () => {
      const chains = [
        [pki.valid.der, pki.intermediate.der],
        [pki.notYetValid.der, pki.intermediate.der],
        [pki.leafUnderShortIntermediate.der, pki.shortIntermediate.der],
        [pki.valid.der, pki.intermediate.der, pki.crossSignedRoot.der],
      ];
      const anchors = new TrustStore([parse(pki.root), parse(pki.oldRoot)]);
      for (const chain of chains) {
        const dates = chain.flatMap((der) => {
          const cert = parseCertificate(der);
          return [cert.notBefore - 1, cert.notBefore, cert.notAfter, cert.notAfter + 1];
        }).sort((a, b) => a - b);
        let previous = analyzer.analyze({ chain, trust: anchors, serverName: 'localhost', at: (dates[0] ?? 0) - days(1) });
        for (const at of dates) {
          const reused = analyzer.analyze({ chain, trust: anchors, serverName: 'localhost', at }, previous);
          const fresh = analyzer.analyze({ chain, trust: anchors, serverName: 'localhost', at });
          expect([at, reused.reasons, reused.path.map((c) => c.fingerprintSha256)]).toEqual([at, fresh.reasons, fresh.path.map((c) => c.fingerprintSha256)]);
          previous = reused;
        }
      }
    });
  });
});
