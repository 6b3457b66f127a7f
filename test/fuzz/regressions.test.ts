/**
 * Every input the fuzzers ever broke the pipeline with, replayed on every `npm test`.
 * test/fuzz/regressions/ holds them as found (`npm run fuzz` adds new ones): <sha256>.der is a lone
 * certificate that fails on its own, <sha256>.json a whole case (chain, anchors, name, clock).
 * Each must now pass the oracle; the ones below also keep the verdict their fix gave them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChainAnalyzer } from '../../src/pki/analyze-chain';
import { MalformedCertificateError, parseCertificate, sha256Hex } from '../../src/pki/certificate';
import { CertificateCache } from '../../src/pki/certificate-cache';
import { SignatureVerifier } from '../../src/pki/signature';
import { TrustStore } from '../../src/pki/trust-store';
import { createCertificate } from '../support/pki';
import { buildTestPki, ROOT_CN } from '../support/scenarios';
import { caseFromJson, judgeCase, loneCertificateCases, parseViolations, REPLAY_AT } from './oracle';

const DIR = join(__dirname, 'regressions');
const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.der') || f.endsWith('.json')).sort();

/**
 * Fixtures of bugs still open, outside the files this suite's authors may change: they replay as
 * `it.failing`, so CI stays green while the bug stands and goes red the day it is fixed (then
 * move the fixture's line to the fixed ones).
 */
const OPEN: Readonly<Record<string, string>> = {};
const isOpen = (file: string): boolean => Object.keys(OPEN).some((prefix) => file.startsWith(prefix));

function replay(file: string): void {
  const bytes = readFileSync(join(DIR, file));
  const [hash] = file.split('.');
  expect(sha256Hex(bytes)).toBe(hash);
  if (file.endsWith('.der')) {
    expect(parseViolations(bytes)).toEqual([]);
    for (const input of loneCertificateCases(bytes)) expect(judgeCase(input).violations).toEqual([]);
  } else {
    expect(judgeCase(caseFromJson(bytes.toString('utf8'))).violations).toEqual([]);
  }
}

function fixture(prefix: string): Buffer {
  const file = fixtures.find((f) => f.startsWith(prefix));
  if (file === undefined) throw new Error(`no fixture ${prefix}`);
  return readFileSync(join(DIR, file));
}

describe('fuzz regressions', () => {
  it('has fixtures to replay', () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  it.each(fixtures.filter((f) => !isOpen(f)))('replays %s without a throw, a hang or an unsound verdict', replay);

  for (const file of fixtures.filter(isOpen)) {
    it.failing(`replays ${file} (OPEN BUG: still fails)`, () => {
      replay(file);
    });
  }
});

/**
 * What each bug the fuzzer found (against the parser as of ba3d9d0) now yields. `error` is the
 * MalformedCertificateError the parser gives; a served chain of that certificate alone is then
 * exactly `malformed_certificate`.
 */
const FOUND: readonly { readonly fixture: string; readonly bug: string; readonly error: RegExp }[] = [
  { fixture: '05a86786', bug: 'RSASSA-PSS AlgorithmIdentifier with garbage parameters: ChainAnalyzer.analyze threw from signatureDigest', error: /RSASSA-PSS parameters/ },
  { fixture: '266dd39c', bug: 'bytes after the certificate were ignored: the same certificate verified under another fingerprint', error: /bytes after the certificate/ },
  { fixture: '9bf2c67c', bug: 'the outer length one short, its last child running past it: asn1js read on', error: /length disagrees/ },
  { fixture: '6e2a7952', bug: 'a length in needless long form (BER, not DER) was accepted', error: /not DER/ },
  { fixture: '69c69ba5', bug: 'a constructed string (BER only) was accepted', error: /constructed string/ },
  { fixture: '2e21ba5a', bug: 'version 4 (INTEGER 3) was accepted as a certificate', error: /version 4/ },
  { fixture: 'c5d7cafb', bug: 'notBefore UTCTime "\\u000060531230000Z" was read as 1899-11-30', error: /notBefore .* not an RFC 5280 time/ },
  { fixture: '245395ad', bug: 'notBefore UTCTime "111605000000Z" (month 16) was read as 2012-04-05', error: /notBefore .* not an RFC 5280 time/ },
  { fixture: 'ad9f2ab1', bug: 'notAfter UTCTime "\\u000060830000000Z" was read as 1899-11-30: a broken notAfter reported as expired', error: /notAfter .* not an RFC 5280 time/ },
  { fixture: '848a19d3', bug: 'notAfter UTCTime "361529000000Z" (month 15) was read as 2037-03-29', error: /notAfter .* not an RFC 5280 time/ },
  { fixture: '17e9a37f', bug: 'a signature BIT STRING with unused bits verified (OpenSSL rejects it)', error: /unused bits/ },
  { fixture: 'd2b90a83', bug: 'an empty signature BIT STRING ("03 00", no unused-bits octet) was accepted', error: /BIT STRING has no content/ },
  { fixture: '7685c8e2', bug: 'an empty INTEGER ("02 00") was accepted (read as zero)', error: /INTEGER or BIT STRING has no content/ },
  { fixture: '36a5e2b4', bug: 'a BOOLEAN 01 (BER true, not DER) was accepted', error: /BOOLEAN other than 00 or FF/ },
  { fixture: '968cf75b', bug: 'a BOOLEAN FE (BER true, not DER) was accepted', error: /BOOLEAN other than 00 or FF/ },
  { fixture: 'f04bf8a4', bug: 'a 9-octet BOOLEAN was accepted (read as true)', error: /BOOLEAN other than 00 or FF/ },
  { fixture: '979d8277', bug: 'an issuer UTF8String that is not UTF-8 was read as Latin-1, so distinct names could compare equal', error: /issuer has a UTF8String/ },
  { fixture: '13704546', bug: 'a subject UTF8String that is not UTF-8 was read as Latin-1', error: /subject has a UTF8String/ },
];

describe('the bugs the fuzzer found', () => {
  const analyzer = new ChainAnalyzer(new CertificateCache(), new SignatureVerifier());

  it.each(FOUND)('rejects $fixture ($bug)', ({ fixture: prefix, error }) => {
    const der = fixture(prefix);
    expect(() => parseCertificate(der)).toThrow(MalformedCertificateError);
    expect(() => parseCertificate(der)).toThrow(error);
    const analysis = analyzer.analyze({ chain: [der], trust: new TrustStore([]), serverName: 'localhost', at: REPLAY_AT });
    expect(analysis.reasons).toEqual(['malformed_certificate']);
  });

  it('reads GeneralizedTime "00000101000000Z" as the year 0, not 1900 (fa48e761)', () => {
    const cert = parseCertificate(fixture('fa48e761'));
    expect(new Date(cert.notBefore).toISOString()).toBe('0000-01-01T00:00:00.000Z');
  });
});

describe('fixed: a leaf posing as a trust anchor', () => {
  /**
   * Found by `npm run fuzz` (fixture 1d7fe06e: the valid leaf with its subject and key swapped
   * for the root's, not re-signed). TrustStore.isAnchor matched any presented certificate by
   * subject and key, the leaf included, so the path was [leaf] = "the anchor": no signature, CA,
   * purpose or name-constraint check applied, and the hostname was matched against SANs nobody
   * signed. Now, as in OpenSSL and Go, a leaf is trusted as itself only when it is an anchor
   * certificate byte for byte.
   */
  it('never verifies a leaf that has a trust anchor\'s name and key but a broken signature', async () => {
    const pki = await buildTestPki();
    const forged = await createCertificate({ subjectCn: ROOT_CN, key: pki.root.key, issuer: pki.intermediate, dnsNames: ['forged.example'] });
    const broken = Buffer.from(forged.der);
    broken[broken.length - 1] = (broken[broken.length - 1] ?? 0) ^ 0x01; // the signature's last byte
    const analysis = new ChainAnalyzer(new CertificateCache(), new SignatureVerifier()).analyze({
      chain: [broken, pki.intermediate.der],
      trust: new TrustStore([parseCertificate(pki.root.der)]),
      serverName: 'forged.example',
      at: pki.now.getTime(),
    });
    expect(analysis.verified).toBe(false);
  });
});
