/**
 * What the fuzzers mutate: the real certificates of the test PKI (test/support/scenarios.ts), plus
 * an RSA issuer, an Ed25519 chain and a name-constrained CA, so every signature scheme and every
 * extension the parser reads is in the seeds. Chains are the ones a server would really send.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { cachedKeyPair, createCertificate, days, hours, type KeyPair, type TestCert } from '../support/pki';
import { buildTestPki } from '../support/scenarios';

export interface FuzzSeed {
  readonly name: string;
  readonly der: Buffer;
  /** The key that signed it (its issuer's, or its own when self-signed): field mutations re-sign with it. */
  readonly signer: KeyPair;
}

export interface FuzzCorpus {
  /** The clock the seeds were generated around, in epoch milliseconds. */
  readonly now: number;
  readonly seeds: readonly FuzzSeed[];
  /** Presented chains, as seed indices, leaf first: what mutations start from. */
  readonly chains: readonly (readonly number[])[];
  /** Seed indices a trust store may hold. */
  readonly anchors: readonly number[];
  /** Index of the leaf whose signed part the "never verifies" property mutates, and its chain and anchor. */
  readonly leaf: { readonly chain: readonly number[]; readonly anchor: number };
}

/** A fixed clock keeps the seeds' dates, and so most mutation offsets, the same from run to run. */
export const FUZZ_NOW = new Date('2026-06-01T00:00:00Z');

function nameConstraintsDer(permittedDns: string): Buffer {
  const value = new pkijs.NameConstraints({
    permittedSubtrees: [new pkijs.GeneralSubtree({ base: new pkijs.GeneralName({ type: 2, value: permittedDns }) })],
  });
  return Buffer.from(value.toSchema().toBER(false));
}

export async function buildFuzzCorpus(now = FUZZ_NOW): Promise<FuzzCorpus> {
  const pki = await buildTestPki(now);
  const t = now.getTime();
  const validity = { notBefore: new Date(t - hours(1)), notAfter: new Date(t + days(90)) };
  const [rsaKey, edRootKey, edLeafKey] = await Promise.all([
    cachedKeyPair('rsa-2048', 'fuzz-ca'),
    cachedKeyPair('ed25519', 'fuzz-root'),
    cachedKeyPair('ed25519', 'fuzz-leaf'),
  ]);
  const rsaCa = await createCertificate({ subjectCn: 'certexp-fuzz RSA CA', issuer: pki.root, key: rsaKey, ca: true, ...validity });
  const edRoot = await createCertificate({ subjectCn: 'certexp-fuzz Ed25519 Root', key: edRootKey, ca: true, ...validity });
  const constrained = await createCertificate({
    subjectCn: 'certexp-fuzz Constrained CA',
    issuer: pki.root,
    ca: true,
    extraExtensions: [{ oid: '2.5.29.30', critical: true, valueDer: nameConstraintsDer('localhost') }],
    ...validity,
  });
  const unknownExtension = Buffer.from(new asn1js.Utf8String({ value: 'certexp fuzz' }).toBER(false));
  const [rsaLeaf, edLeaf, constrainedLeaf] = await Promise.all([
    createCertificate({ subjectCn: 'localhost', issuer: rsaCa, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], ...validity }),
    createCertificate({ subjectCn: 'localhost', issuer: edRoot, key: edLeafKey, dnsNames: ['localhost', '*.example.test'], ...validity }),
    createCertificate({
      subjectCn: 'localhost',
      issuer: constrained,
      dnsNames: ['localhost'],
      ipAddresses: ['::1'],
      extraExtensions: [{ oid: '1.3.6.1.4.1.55555.1', critical: false, valueDer: unknownExtension }],
      ...validity,
    }),
  ]);

  // Each seed with the certificate that issued it.
  const named: [string, TestCert, TestCert][] = [
    ['valid', pki.valid, pki.intermediate], ['intermediate', pki.intermediate, pki.root], ['root', pki.root, pki.root],
    ['expired', pki.expired, pki.intermediate], ['notYetValid', pki.notYetValid, pki.intermediate],
    ['wrongName', pki.wrongName, pki.intermediate], ['wildcard', pki.wildcard, pki.intermediate], ['ipOnly', pki.ipOnly, pki.intermediate],
    ['selfSigned', pki.selfSigned, pki.selfSigned], ['untrustedLeaf', pki.untrustedLeaf, pki.otherIntermediate],
    ['otherIntermediate', pki.otherIntermediate, pki.otherRoot], ['otherRoot', pki.otherRoot, pki.otherRoot],
    ['shortIntermediate', pki.shortIntermediate, pki.root], ['leafUnderShortIntermediate', pki.leafUnderShortIntermediate, pki.shortIntermediate],
    ['crossSignedRoot', pki.crossSignedRoot, pki.oldRoot], ['oldRoot', pki.oldRoot, pki.oldRoot],
    ['rsaCa', rsaCa, pki.root], ['rsaLeaf', rsaLeaf, rsaCa], ['edRoot', edRoot, edRoot], ['edLeaf', edLeaf, edRoot],
    ['constrained', constrained, pki.root], ['constrainedLeaf', constrainedLeaf, constrained],
  ];
  const seeds = named.map(([name, cert, issuer]) => ({ name, der: cert.der, signer: issuer.key }));
  const at = (name: string): number => {
    const index = seeds.findIndex((s) => s.name === name);
    if (index < 0) throw new Error(`no seed ${name}`);
    return index;
  };
  const chain = (...names: string[]): number[] => names.map(at);
  return {
    now: t,
    seeds,
    chains: [
      chain('valid', 'intermediate'),
      chain('valid', 'intermediate', 'root'),
      chain('valid', 'intermediate', 'crossSignedRoot', 'oldRoot'),
      chain('expired', 'intermediate'),
      chain('wildcard', 'intermediate'),
      chain('ipOnly', 'intermediate'),
      chain('untrustedLeaf', 'otherIntermediate', 'otherRoot'),
      chain('leafUnderShortIntermediate', 'shortIntermediate'),
      chain('selfSigned'),
      chain('rsaLeaf', 'rsaCa'),
      chain('edLeaf', 'edRoot'),
      chain('constrainedLeaf', 'constrained'),
    ],
    anchors: chain('root', 'otherRoot', 'oldRoot', 'edRoot', 'intermediate'),
    leaf: { chain: chain('valid', 'intermediate'), anchor: at('root') },
  };
}
