/**
 * Hostile certificates and chains, one generated case per item: what a broken or malicious server
 * can present. Each case asserts the exact verdict ChainAnalyzer gives, that nothing throws, and
 * that the answer comes in bounded time. Certificates are re-signed after DER surgery
 * (test/support/der.ts), so the only thing wrong with each is the thing under test.
 */
import { ChainAnalyzer, type ChainAnalysis } from '../../src/pki/analyze-chain';
import { MalformedCertificateError, parseCertificate } from '../../src/pki/certificate';
import { CertificateCache } from '../../src/pki/certificate-cache';
import type { VerifyPolicy } from '../../src/pki/path-checks';
import { SignatureVerifier } from '../../src/pki/signature';
import { TrustStore } from '../../src/pki/trust-store';
import {
  childrenOf, contentOf, encodeLength, generalizedTime, name, oid, readTbs, readTlv, rebuildCertificate, signTbs, splitCertificate, TAG, tlv,
  utcTime, validityTimes, writeTbs, type TbsFields,
} from '../support/der';
import { createCertificate, type TestCert } from '../support/pki';
import { seeded } from '../support/seeded-random';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { cpuMs } from '../fuzz/oracle';

/**
 * CPU time one analyze call may take. The point is "bounded", not fast: typical answers take
 * milliseconds, the 120-CA chain and the cross-signed mesh a few hundred. CPU time, not wall
 * time, so a loaded CI box does not fail it.
 */
const BUDGET_MS = 2000;

let pki: TestPki;

beforeAll(async () => {
  pki = await buildTestPki();
});

interface Options {
  readonly anchors?: readonly TestCert[];
  readonly serverName?: string;
  readonly at?: number;
  readonly policy?: VerifyPolicy;
  readonly maxDepth?: number;
}

/** A fresh analyzer per call (no warm cache), timed; it must not throw and must answer within BUDGET_MS. */
function analyze(chain: readonly Buffer[], options: Options = {}): ChainAnalysis {
  const analyzer = new ChainAnalyzer(new CertificateCache(), new SignatureVerifier());
  const start = cpuMs();
  const analysis = analyzer.analyze({
    chain,
    trust: new TrustStore((options.anchors ?? [pki.root]).map((a) => parseCertificate(a.der))),
    serverName: options.serverName ?? 'localhost',
    at: options.at ?? pki.now.getTime(),
    ...(options.policy === undefined ? {} : { policy: options.policy }),
    ...(options.maxDepth === undefined ? {} : { maxDepth: options.maxDepth }),
  });
  expect(cpuMs() - start).toBeLessThan(BUDGET_MS);
  expect(analysis.verified).toBe(analysis.reasons.length === 0);
  return analysis;
}

function reasons(chain: readonly Buffer[], options: Options = {}): readonly string[] {
  return analyze(chain, options).reasons;
}

/** The valid leaf with its TBS edited and re-signed by the intermediate, served with the intermediate. */
function leafWith(edit: (fields: TbsFields) => void): Buffer {
  return rebuildCertificate(pki.valid.der, pki.intermediate.key, edit);
}

function setTime(fields: TbsFields, which: 'notBefore' | 'notAfter', time: Buffer): void {
  const times = childrenOf(fields.validity, readTlv(fields.validity)).map((t) => fields.validity.subarray(t.start, t.end));
  times[which === 'notBefore' ? 0 : 1] = time;
  fields.validity = tlv(TAG.sequence, ...times);
}

function timeText(time: Buffer): string {
  return contentOf(time, readTlv(time)).toString('latin1');
}

const iso = (ms: number): string => new Date(ms).toISOString();

describe('truncated DER', () => {
  it.each([1, 2, 4, 100, -1])('reports malformed_certificate for a leaf cut at %i bytes', (cut) => {
    const der = pki.valid.der.subarray(0, cut < 0 ? pki.valid.der.length + cut : cut);
    expect(() => parseCertificate(der)).toThrow(MalformedCertificateError);
    expect(reasons([der, pki.intermediate.der])).toEqual(['malformed_certificate']);
  });

  it('reports malformed_certificate for an empty certificate and for an empty chain', () => {
    expect(reasons([Buffer.alloc(0)])).toEqual(['malformed_certificate']);
    expect(reasons([])).toEqual(['malformed_certificate']);
  });

  it('reports the truncated intermediate as malformed and the leaf as missing its issuer', () => {
    const cut = pki.intermediate.der.subarray(0, pki.intermediate.der.length - 10);
    const analysis = analyze([pki.valid.der, cut]);
    expect(analysis.reasons).toEqual(['malformed_certificate', 'missing_intermediate']);
    expect(analysis.presented[1]?.error).toMatch(/not an X\.509 certificate/);
  });
});

describe('bad lengths', () => {
  const der = (): Buffer => pki.valid.der;
  // The leaf is over 255 bytes: its header is 30 82 HH LL.
  const withOuterLength = (length: Buffer): Buffer => Buffer.concat([Buffer.from([0x30]), length, der().subarray(4)]);
  const content = (): number => der().length - 4;

  it.each<[string, () => Buffer]>([
    ['the outer length one too long', () => withOuterLength(encodeLength(content() + 1))],
    ['the outer length one too short', () => withOuterLength(encodeLength(content() - 1))],
    ['an indefinite outer length (BER)', () => Buffer.concat([withOuterLength(Buffer.from([0x80])), Buffer.from([0, 0])])],
    ['a needlessly long outer length (BER)', () => withOuterLength(Buffer.from([0x84, 0, 0, content() >> 8, content() & 0xff]))],
    ['a length of 2^31 - 1', () => withOuterLength(Buffer.from([0x84, 0x7f, 0xff, 0xff, 0xff]))],
    ['a length of length 0x7f', () => withOuterLength(Buffer.from([0xff]))],
    ['bytes after the certificate', () => Buffer.concat([der(), Buffer.from([0])])],
    ['a second certificate glued on', () => Buffer.concat([der(), pki.intermediate.der])],
    ['the TBS length off by one', () => {
      const out = Buffer.from(der());
      out[7] = (out[7] ?? 0) + 1; // 30 82 HH LL | 30 82 HH LL: the TBS length's low byte
      return out;
    }],
  ])('reports malformed_certificate for %s', (_, make) => {
    const bad = make();
    expect(() => parseCertificate(bad)).toThrow(MalformedCertificateError);
    expect(reasons([bad, pki.intermediate.der])).toEqual(['malformed_certificate']);
  });
});

describe('encodings DER forbids inside a signed certificate', () => {
  it.each<[string, number]>([['01', 0x01], ['FE', 0xfe]])('reports malformed_certificate for a critical flag of BOOLEAN %s (BER true)', (_, octet) => {
    // The keyUsage extension: 30 0e 06 03 55 1d 0f 01 01 ff 04 04 ...: the critical BOOLEAN's value.
    const der = leafWith((f) => {
      f.extensions = (f.extensions ?? []).map((e) => {
        const at = e.indexOf(Buffer.from([0x01, 0x01, 0xff]));
        if (at < 0) return e;
        const out = Buffer.from(e);
        out[at + 2] = octet;
        return out;
      });
    });
    expect(() => parseCertificate(der)).toThrow(/BOOLEAN/);
    expect(reasons([der, pki.intermediate.der])).toEqual(['malformed_certificate']);
  });

  it('reports malformed_certificate for a signature BIT STRING with unused bits, which OpenSSL also rejects', () => {
    const parts = splitCertificate(pki.valid.der);
    const signature = Buffer.from(parts.signatureValue);
    const header = readTlv(signature).headerLength;
    signature[header] = 3; // the unused-bits octet
    const der = tlv(TAG.sequence, parts.tbs, parts.signatureAlgorithm, signature);
    expect(() => parseCertificate(der)).toThrow(/unused bits/);
    expect(reasons([der, pki.intermediate.der])).toEqual(['malformed_certificate']);
  });

  it('reports malformed_certificate, and does not throw, for RSASSA-PSS parameters that do not decode', () => {
    const pss = tlv(TAG.sequence, oid('1.2.840.113549.1.1.10'), tlv(TAG.integer, Buffer.from([5])));
    const parts = splitCertificate(pki.valid.der);
    const fields = readTbs(parts.tbs);
    fields.signature = pss;
    const der = signTbs(writeTbs(fields), pss, pki.intermediate.key);
    expect(() => parseCertificate(der)).toThrow(/RSASSA-PSS/);
    expect(reasons([der, pki.intermediate.der])).toEqual(['malformed_certificate']);
    expect(reasons([der])).toEqual(['malformed_certificate']);
  });

  it('reports malformed_certificate for version 4', () => {
    const der = leafWith((f) => {
      f.version = tlv(TAG.context0, tlv(TAG.integer, Buffer.from([3])));
    });
    expect(() => parseCertificate(der)).toThrow(/version 4/);
    expect(reasons([der, pki.intermediate.der])).toEqual(['malformed_certificate']);
  });
});

describe('critical extensions', () => {
  const unknown = (critical: boolean): { oid: string; critical: boolean; valueDer: Buffer }[] =>
    [{ oid: '1.3.6.1.4.1.55555.7', critical, valueDer: tlv(TAG.null) }];

  it('reports unsupported_critical_extension for an unknown critical extension on the leaf, and nothing when it is not critical', async () => {
    const critical = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, extraExtensions: unknown(true) });
    const plain = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, extraExtensions: unknown(false) });
    expect(reasons([critical.der, pki.intermediate.der])).toEqual(['unsupported_critical_extension']);
    expect(reasons([plain.der, pki.intermediate.der])).toEqual([]);
  });

  it('reports unsupported_critical_extension for an unknown critical extension on an intermediate', async () => {
    const ca = await createCertificate({ subjectCn: 'Critical CA', issuer: pki.root, ca: true, extraExtensions: unknown(true) });
    const leaf = await createCertificate({ subjectCn: 'localhost', issuer: ca });
    expect(reasons([leaf.der, ca.der])).toEqual(['unsupported_critical_extension']);
  });
});

describe('UTCTime and GeneralizedTime at the edges (RFC 5280 §4.1.2.5)', () => {
  const Y2049_END = Date.parse('2049-12-31T23:59:59Z');
  const Y2050 = Date.parse('2050-01-01T00:00:00Z');
  const Y1950 = Date.parse('1950-01-01T00:00:00Z');

  it('encodes 2049-12-31T23:59:59Z as UTCTime "491231235959Z" and reads it back as 2049', async () => {
    const cert = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, notAfter: new Date(Y2049_END) });
    const { notAfter } = validityTimes(cert.der);
    expect(notAfter[0]).toBe(TAG.utcTime);
    expect(timeText(notAfter)).toBe('491231235959Z');
    expect(iso(parseCertificate(cert.der).notAfter)).toBe('2049-12-31T23:59:59.000Z');
  });

  it('encodes 2050-01-01 as GeneralizedTime "20500101000000Z" and reads it back as 2050', async () => {
    const cert = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, notAfter: new Date(Y2050) });
    const { notAfter } = validityTimes(cert.der);
    expect(notAfter[0]).toBe(TAG.generalizedTime);
    expect(timeText(notAfter)).toBe('20500101000000Z');
    expect(iso(parseCertificate(cert.der).notAfter)).toBe('2050-01-01T00:00:00.000Z');
  });

  it('reads UTCTime "500101000000Z" as 1950 and GeneralizedTime "19491231235959Z" as 1949', async () => {
    const cert = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, notBefore: new Date(Y1950) });
    expect(timeText(validityTimes(cert.der).notBefore)).toBe('500101000000Z');
    expect(iso(parseCertificate(cert.der).notBefore)).toBe('1950-01-01T00:00:00.000Z');
    const older = leafWith((f) => { setTime(f, 'notBefore', generalizedTime('19491231235959Z')); });
    expect(iso(parseCertificate(older).notBefore)).toBe('1949-12-31T23:59:59.000Z');
  });

  it('accepts GeneralizedTime for a date before 2050: CAs must not, but verifiers must read both', () => {
    const der = leafWith((f) => { setTime(f, 'notAfter', generalizedTime('20491231235959Z')); });
    expect(iso(parseCertificate(der).notAfter)).toBe('2049-12-31T23:59:59.000Z');
    expect(reasons([der, pki.intermediate.der])).toEqual([]);
  });

  it('reads a notAfter of "2050" spelled as UTCTime "500101000000Z" as 1950, so the leaf is expired', () => {
    const der = leafWith((f) => { setTime(f, 'notAfter', utcTime('500101000000Z')); });
    expect(iso(parseCertificate(der).notAfter)).toBe('1950-01-01T00:00:00.000Z');
    expect(reasons([der, pki.intermediate.der])).toEqual(['expired']);
  });

  it('verifies through the last second of 2049 and not after, on a chain that outlives it', async () => {
    const root = await createCertificate({ subjectCn: 'Long Root', ca: true, notAfter: new Date('2070-01-01T00:00:00Z') });
    const utc = await createCertificate({ subjectCn: 'localhost', issuer: root, notAfter: new Date(Y2049_END) });
    const generalized = await createCertificate({ subjectCn: 'localhost', issuer: root, notAfter: new Date(Y2050) });
    expect(reasons([utc.der], { anchors: [root], at: Y2049_END })).toEqual([]);
    expect(reasons([utc.der], { anchors: [root], at: Y2049_END + 1000 })).toEqual(['expired']);
    expect(reasons([generalized.der], { anchors: [root], at: Y2050 })).toEqual([]);
    expect(reasons([generalized.der], { anchors: [root], at: Y2050 + 1 })).toEqual(['expired']);
  });

  it.each<[string, Buffer]>([
    ['UTCTime without seconds', utcTime('4912312359Z')],
    ['UTCTime with an offset instead of Z', utcTime('491231235959+0100')],
    ['UTCTime without Z', utcTime('491231235959')],
    ['UTCTime in month 13', utcTime('491331235959Z')],
    ['UTCTime on 30 February', utcTime('490230120000Z')],
    ['UTCTime on 29 February of a common year', utcTime('490229120000Z')],
    ['UTCTime at hour 24', utcTime('491231240000Z')],
    ['UTCTime at second 60', utcTime('491231235960Z')],
    ['UTCTime with a non-digit', utcTime('49123123595:Z')],
    ['an empty UTCTime', utcTime('')],
    ['GeneralizedTime with fractional seconds', generalizedTime('20491231235959.5Z')],
    ['GeneralizedTime without Z (local time)', generalizedTime('20491231235959')],
    ['GeneralizedTime without seconds', generalizedTime('204912312359Z')],
    ['a PrintableString where a time belongs', tlv(TAG.printableString, Buffer.from('491231235959Z'))],
  ])('reports malformed_certificate for a notAfter in %s', (_, time) => {
    const der = leafWith((f) => { setTime(f, 'notAfter', time); });
    expect(() => parseCertificate(der)).toThrow(MalformedCertificateError);
    expect(reasons([der, pki.intermediate.der])).toEqual(['malformed_certificate']);
  });

  it('reads UTCTime "000229120000Z" (2000 was a leap year) as 29 February 2000', () => {
    const der = leafWith((f) => { setTime(f, 'notBefore', utcTime('000229120000Z')); });
    expect(iso(parseCertificate(der).notBefore)).toBe('2000-02-29T12:00:00.000Z');
  });
});

describe('serial numbers', () => {
  it.each<[string, Buffer]>([
    ['negative', Buffer.from([0xff, 0x01])],
    ['zero', Buffer.from([0x00])],
    ['40 bytes long', Buffer.alloc(40, 0x41)],
    ['21 bytes long', Buffer.alloc(21, 0x41)],
  ])('reports invalid_serial for a %s serial under policy web, and nothing under rfc5280', async (_, serial) => {
    const cert = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, serial });
    expect(parseCertificate(cert.der).serialHex).toBe(serial.toString('hex'));
    expect(reasons([cert.der, pki.intermediate.der])).toEqual(['invalid_serial']);
    expect(reasons([cert.der, pki.intermediate.der], { policy: 'rfc5280' })).toEqual([]);
  });

  it('accepts a positive 20-byte serial', async () => {
    const cert = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, serial: Buffer.alloc(20, 0x41) });
    expect(reasons([cert.der, pki.intermediate.der])).toEqual([]);
  });

  it('reports malformed_certificate for an empty serial INTEGER (X.690 §8.3.1: at least one octet)', () => {
    const der = leafWith((f) => {
      f.serialNumber = tlv(TAG.integer);
    });
    expect(() => parseCertificate(der)).toThrow(MalformedCertificateError);
    expect(reasons([der, pki.intermediate.der], { policy: 'rfc5280' })).toEqual(['malformed_certificate']);
  });
});

describe('names', () => {
  it('verifies a leaf with an empty subject that names the server in its subjectAltName', () => {
    const der = leafWith((f) => {
      f.subject = tlv(TAG.sequence);
    });
    const cert = parseCertificate(der);
    expect(cert.subject.key).toBe('');
    expect(cert.subject.commonName).toBe('');
    // RFC 5280 §4.2.1.6 wants the SAN critical then; certexp does not check it (OpenSSL -x509_strict does).
    expect(reasons([der, pki.intermediate.der])).toEqual([]);
  });

  it('reports hostname_mismatch for an empty subject and no subjectAltName', async () => {
    const noSan = await createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, omitSubjectAltName: true });
    const der = rebuildCertificate(noSan.der, pki.intermediate.key, (f) => {
      f.subject = tlv(TAG.sequence);
    });
    expect(reasons([der, pki.intermediate.der])).toEqual(['hostname_mismatch']);
  });

  it.each<[string, Buffer]>([
    ['a UTF8String that is not UTF-8', tlv(TAG.utf8String, Buffer.from([0x6c, 0xff, 0xfe, 0x6f]))],
    ['a UTF8String with a truncated sequence', tlv(TAG.utf8String, Buffer.from([0x6c, 0xc3]))],
    ['a BMPString of odd length', tlv(TAG.bmpString, Buffer.from([0x00, 0x6c, 0x00]))],
    ['a UniversalString of 3 bytes', tlv(TAG.universalString, Buffer.from([0x00, 0x00, 0x6c]))],
  ])('reports malformed_certificate for a subject CN in %s', (_, value) => {
    const der = leafWith((f) => {
      f.subject = name(['2.5.4.3', value]);
    });
    expect(() => parseCertificate(der)).toThrow(MalformedCertificateError);
    expect(reasons([der, pki.intermediate.der])).toEqual(['malformed_certificate']);
  });

  it('reports malformed_certificate for an issuer name that is not UTF-8, rather than chaining it by its Latin-1 reading', () => {
    const der = leafWith((f) => {
      f.issuer = name(['2.5.4.3', tlv(TAG.utf8String, Buffer.from([0xff]))]);
    });
    expect(reasons([der, pki.intermediate.der])).toEqual(['malformed_certificate']);
  });

  it('reads a UTF-8 CN with non-ASCII letters as text', () => {
    const der = leafWith((f) => {
      f.subject = name(['2.5.4.3', tlv(TAG.utf8String, Buffer.from('Bücherstraße'))]);
    });
    expect(parseCertificate(der).subject.commonName).toBe('Bücherstraße');
    expect(reasons([der, pki.intermediate.der])).toEqual([]);
  });

  it('finds the server name at the end of a 5,000-name subjectAltName, and reports a name not in it, in bounded time', async () => {
    const dnsNames = [...Array.from({ length: 5000 }, (_, i) => `host-${i}.example.test`), 'localhost'];
    const san = tlv(TAG.sequence, ...dnsNames.map((n) => tlv(0x82, Buffer.from(n))));
    const cert = await createCertificate({
      subjectCn: 'localhost', issuer: pki.intermediate, omitSubjectAltName: true, extraExtensions: [{ oid: '2.5.29.17', critical: false, valueDer: san }],
    });
    expect(parseCertificate(cert.der).dnsNames).toHaveLength(5001);
    expect(reasons([cert.der, pki.intermediate.der])).toEqual([]);
    expect(reasons([cert.der, pki.intermediate.der], { serverName: 'absent.example.test' })).toEqual(['hostname_mismatch']);
  });
});

describe('oversized and malformed chains', () => {
  it('reports chain_too_long for a chain of 120 CAs, and verifies it when the depth limit allows, in bounded time', async () => {
    const cas: TestCert[] = [];
    let issuer = pki.root;
    for (let i = 0; i < 120; i++) {
      issuer = await createCertificate({ subjectCn: `certexp-test Chain CA ${i}`, issuer, ca: true });
      cas.push(issuer);
    }
    const leaf = await createCertificate({ subjectCn: 'localhost', issuer });
    const chain = [leaf.der, ...cas.reverse().map((c) => c.der)];
    expect(chain).toHaveLength(121);
    expect(reasons(chain)).toEqual(['chain_too_long']);
    const deep = analyze(chain, { maxDepth: 200 });
    expect(deep.reasons).toEqual([]);
    expect(deep.path).toHaveLength(122);
    // Served in random order: path building does not care.
    const random = seeded(120);
    const shuffled = [chain[0] as Buffer, ...chain.slice(1).sort(() => random() - 0.5)];
    expect(reasons(shuffled, { maxDepth: 200 })).toEqual([]);
  }, 30_000);

  it('verifies a 1 MB certificate (a 1 MB non-critical extension) in bounded time', async () => {
    const big = await createCertificate({
      subjectCn: 'localhost',
      issuer: pki.intermediate,
      extraExtensions: [{ oid: '1.3.6.1.4.1.55555.8', critical: false, valueDer: tlv(TAG.octetString, Buffer.alloc(1024 * 1024, 0x61)) }],
    });
    expect(big.der.length).toBeGreaterThan(1024 * 1024);
    expect(reasons([big.der, pki.intermediate.der])).toEqual([]);
  });

  it('reports malformed_certificate for a 1 MB subjectAltName of 50,000 names: asn1js stops at 10,000 nodes, so work stays bounded', async () => {
    const names = Array.from({ length: 50_000 }, (_, i) => tlv(0x82, Buffer.from(`host-${i}.example.test`)));
    const san = tlv(TAG.sequence, ...names, tlv(0x82, Buffer.from('localhost')));
    const big = await createCertificate({
      subjectCn: 'localhost', issuer: pki.intermediate, omitSubjectAltName: true, extraExtensions: [{ oid: '2.5.29.17', critical: false, valueDer: san }],
    });
    expect(big.der.length).toBeGreaterThan(1024 * 1024);
    expect(() => parseCertificate(big.der)).toThrow(/node count/);
    expect(reasons([big.der, pki.intermediate.der])).toEqual(['malformed_certificate']);
  });

  it('verifies a chain with every certificate sent twice, and one with the intermediate sent 200 times', () => {
    const { valid, intermediate, root } = pki;
    expect(reasons([valid.der, intermediate.der, intermediate.der, root.der, root.der, valid.der])).toEqual([]);
    expect(reasons([valid.der, ...Array.from({ length: 200 }, () => intermediate.der)])).toEqual([]);
  });

  it('verifies a chain served out of order, with an unused expired cross-sign in the middle', () => {
    expect(reasons([pki.valid.der, pki.root.der, pki.intermediate.der])).toEqual([]);
    expect(reasons([pki.valid.der, pki.crossSignedRoot.der, pki.oldRoot.der, pki.intermediate.der])).toEqual([]);
  });

  it('judges the first certificate as the leaf when the intermediate is sent first', () => {
    // A CA certificate names no server and has no TLS key usage: the same verdict a TLS client reaches.
    expect(reasons([pki.intermediate.der, pki.valid.der])).toEqual(['hostname_mismatch', 'wrong_purpose']);
  });

  it('ends a loop of two CAs that cross-signed each other in untrusted_root, and verifies it once a trusted root cross-signs one', async () => {
    const [a, b] = await Promise.all([
      createCertificate({ subjectCn: 'Loop CA A', ca: true }),
      createCertificate({ subjectCn: 'Loop CA B', ca: true }),
    ]);
    const aByB = await createCertificate({ subjectCn: 'Loop CA A', key: a.key, issuer: b, ca: true });
    const bByA = await createCertificate({ subjectCn: 'Loop CA B', key: b.key, issuer: a, ca: true });
    const leaf = await createCertificate({ subjectCn: 'localhost', issuer: a });
    expect(reasons([leaf.der, aByB.der, bByA.der])).toEqual(['untrusted_root']);
    const bByRoot = await createCertificate({ subjectCn: 'Loop CA B', key: b.key, issuer: pki.root, ca: true });
    expect(reasons([leaf.der, aByB.der, bByA.der, bByRoot.der])).toEqual([]);
  });

  it('answers in bounded time for a mesh of 12 CAs that all cross-signed each other (132 certificates)', async () => {
    const size = 12;
    const selfSigned = await Promise.all(Array.from({ length: size }, (_, i) => createCertificate({ subjectCn: `Mesh CA ${i}`, ca: true })));
    const mesh: Buffer[] = [];
    for (const [i, subject] of selfSigned.entries()) {
      for (const [j, issuer] of selfSigned.entries()) {
        if (i !== j) mesh.push((await createCertificate({ subjectCn: `Mesh CA ${i}`, key: subject.key, issuer, ca: true })).der);
      }
    }
    const leaf = await createCertificate({ subjectCn: 'localhost', issuer: selfSigned[0] as TestCert });
    expect(reasons([leaf.der, ...mesh])).toEqual(['chain_too_long']);
    expect(reasons([leaf.der, ...mesh], { maxDepth: 200 })).toEqual(['untrusted_root']);
    // Once one mesh CA is trusted, the shortest way there is found.
    const trusted = analyze([leaf.der, ...mesh], { anchors: [selfSigned[5] as TestCert] });
    expect(trusted.reasons).toEqual([]);
  }, 30_000);
});

describe('a certificate that is not what it says', () => {
  it('reports bad_signature for a leaf whose signature BIT STRING was swapped for another certificate\'s', () => {
    const der = rebuildCertificate(pki.valid.der, pki.intermediate.key, () => undefined);
    const other = splitCertificate(pki.expired.der).signatureValue;
    const parts = splitCertificate(der);
    const swapped = tlv(TAG.sequence, parts.tbs, parts.signatureAlgorithm, other);
    expect(reasons([swapped, pki.intermediate.der])).toEqual(['bad_signature']);
  });
});
