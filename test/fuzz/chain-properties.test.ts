/**
 * Property tests over mutated real certificates: the DER → parse → verify → classify pipeline
 * under fast-check, with fixed seeds and bounded runs so `npm test` is reproducible and quick.
 * `npm run fuzz` (scripts/fuzz.ts) runs the same properties far longer with fresh seeds.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../src/config/duration';
import { parseCertificate, sha256Hex, type ParsedCertificate } from '../../src/pki/certificate';
import { bytesToIp, ipToBytes } from '../../src/pki/ip-address';
import { certificateMatchesName } from '../../src/pki/server-name';
import { splitCertificate } from '../support/der';
import { buildFuzzCorpus, type FuzzCorpus } from './corpus';
import { byteMutation, chainRecipe, contextFor, materialize, mutate, type FuzzCase } from './mutations';
import { caseToJson, cpuMs, judgeCase, parseViolations } from './oracle';

/** Fixed seeds: CI replays the same recipes on every run. Change one only to explore, then put it back. */
const SEED = 0x5eed_ce27;
const CHAIN_RUNS = 1200;
const LEAF_RUNS = 300;
/**
 * CPU time the whole chain property may take: about 3 s on one core, so this catches work that
 * grows without bound, not a slow machine. CPU time, not wall time, so a loaded CI box does not
 * fail it (each single analyze call is held to wall time by the oracle).
 */
const CHAIN_CPU_BUDGET_MS = 15_000;


let corpus: FuzzCorpus;

beforeAll(async () => {
  corpus = await buildFuzzCorpus();
});

/** Keeps a failing case where CI collects artifacts, so it can be added to test/fuzz/regressions/. */
function keep(input: FuzzCase): string {
  const json = caseToJson(input);
  const dir = join(__dirname, '..', '..', 'test-artifacts', 'fuzz');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${sha256Hex(Buffer.from(json))}.json`);
  writeFileSync(file, json);
  return file;
}

function holds(input: FuzzCase): void {
  const { violations } = judgeCase(input);
  if (violations.length > 0) throw new Error(`${violations.join('\n')}\n(case saved to ${keep(input)})`);
}

describe('the certificate pipeline under mutation', () => {
  it('ends every mutated chain in a coherent verdict, in bounded time, without throwing', () => {
    const start = cpuMs();
    fc.assert(fc.property(chainRecipe(corpus), (recipe) => { holds(materialize(recipe, corpus)); }), { seed: SEED, numRuns: CHAIN_RUNS });
    expect(cpuMs() - start).toBeLessThan(CHAIN_CPU_BUDGET_MS);
  });

  it('never verifies a leaf with any byte of its signed part changed', () => {
    const [leafIndex = 0, ...rest] = corpus.leaf.chain;
    const leaf = corpus.seeds[leafIndex]?.der ?? Buffer.alloc(0);
    const chainTail = rest.map((i) => corpus.seeds[i]?.der ?? Buffer.alloc(0));
    const anchor = corpus.seeds[corpus.leaf.anchor]?.der ?? Buffer.alloc(0);
    const tbsStart = 4; // SEQUENCE header of a certificate over 255 bytes: 30 82 LL LL
    const tbsLength = splitCertificate(leaf).tbs.length;
    const base = { anchors: [anchor], serverName: 'localhost', at: corpus.now, policy: undefined, maxDepth: undefined };
    expect(judgeCase({ ...base, chain: [leaf, ...chainTail] }).analysis?.verified).toBe(true);

    fc.assert(
      fc.property(fc.nat({ max: tbsLength - 1 }), fc.integer({ min: 1, max: 255 }), (offset, xor) => {
        const mutated = Buffer.from(leaf);
        mutated[tbsStart + offset] = (mutated[tbsStart + offset] ?? 0) ^ xor;
        const { analysis, violations } = judgeCase({ ...base, chain: [mutated, ...chainTail] });
        expect([...violations, ...parseViolations(mutated)]).toEqual([]);
        expect(analysis?.verified).toBe(false);
        expect(analysis?.reasons.length).toBeGreaterThan(0);
      }),
      { seed: SEED, numRuns: LEAF_RUNS },
    );
  });

  it('never verifies a leaf whose bytes were changed in any way, unless they became another seed certificate', () => {
    const [leafIndex = 0, ...rest] = corpus.leaf.chain;
    const seeds = corpus.seeds.map((s) => s.der);
    const leaf = seeds[leafIndex] ?? Buffer.alloc(0);
    const chainTail = rest.map((i) => seeds[i] ?? Buffer.alloc(0));
    const anchor = seeds[corpus.leaf.anchor] ?? Buffer.alloc(0);
    const known = new Set(seeds.map((d) => d.toString('hex')));
    fc.assert(
      fc.property(fc.array(byteMutation(seeds.length, { resign: false }), { minLength: 1, maxLength: 3 }), (mutations) => {
        const mutated = mutate(leaf, mutations, contextFor(corpus, leafIndex));
        const mustNotVerify = !known.has(mutated.toString('hex'));
        holds({ chain: [mutated, ...chainTail], anchors: [anchor], serverName: 'localhost', at: corpus.now, policy: undefined, maxDepth: undefined, mustNotVerify });
        expect(parseViolations(mutated)).toEqual([]);
      }),
      { seed: SEED, numRuns: LEAF_RUNS },
    );
  });
});

describe('server name matching under arbitrary names', () => {
  let parsed: ParsedCertificate[];

  beforeAll(() => {
    parsed = corpus.seeds.map((s) => parseCertificate(s.der));
  });

  it('never throws, whatever the server name', () => {
    fc.assert(
      fc.property(fc.nat(), fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 80 }), fc.domain(), fc.webUrl()), (i, name) => {
        const cert = parsed[i % parsed.length] as ParsedCertificate;
        expect(typeof certificateMatchesName(cert, name)).toBe('boolean');
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('never matches an IP literal against a dNSName SAN or a CN that spells it', () => {
    const [template] = parsed;
    if (template === undefined) throw new Error('empty corpus');
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended()), fc.boolean(), (ip, bracket) => {
        const spelled = [ip, ip.toUpperCase(), `[${ip}]`];
        const sanOnly: ParsedCertificate = { ...template, hasSubjectAltName: true, dnsNames: spelled, ipAddresses: [] };
        const cnOnly: ParsedCertificate = {
          ...template, hasSubjectAltName: false, dnsNames: [], ipAddresses: [], subject: { ...template.subject, commonName: ip },
        };
        const serverName = bracket && ip.includes(':') ? `[${ip}]` : ip;
        expect(certificateMatchesName(sanOnly, serverName)).toBe(false);
        expect(certificateMatchesName(cnOnly, serverName)).toBe(false);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('matches an IP literal exactly when an iPAddress SAN has the same bytes', () => {
    const [template] = parsed;
    if (template === undefined) throw new Error('empty corpus');
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.oneof(fc.ipV4(), fc.ipV6()), (serverIp, sanIp) => {
        const cert: ParsedCertificate = { ...template, hasSubjectAltName: true, dnsNames: [], ipAddresses: [bytesToIp(ipToBytes(sanIp) ?? Buffer.alloc(0))] };
        const same = ipToBytes(serverIp)?.equals(ipToBytes(sanIp) ?? Buffer.alloc(0)) === true;
        expect(certificateMatchesName(cert, serverIp)).toBe(same);
        expect(certificateMatchesName(cert, sanIp)).toBe(true);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('address and duration parsing under arbitrary text', () => {
  it('reads every IPv4 and IPv6 literal to 4 or 16 bytes that print back to the same bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (ip) => {
        const bytes = ipToBytes(ip);
        expect(bytes?.length).toBe(ip.includes(':') ? 16 : 4);
        expect(ipToBytes(bytesToIp(bytes ?? Buffer.alloc(0)))).toEqual(bytes);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('prints any 4 or 16 bytes as an address that reads back to them, and never throws on text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 })), fc.string({ maxLength: 60 }), (bytes, text) => {
        expect(ipToBytes(bytesToIp(bytes))).toEqual(Buffer.from(bytes));
        const read = ipToBytes(text);
        expect(read === undefined || read.length === 4 || read.length === 16).toBe(true);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('inverts formatDuration with parseDuration, and answers any text with a duration or undefined', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.string({ maxLength: 40 }), (ms, text) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
        const read = parseDuration(text);
        expect(read === undefined || (Number.isSafeInteger(read) && read >= 0)).toBe(true);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('parses long runs of digits and units in linear time (no regex backtracking blow-up)', () => {
    const hostile = ['1'.repeat(100_000), `${'1'.repeat(50_000)}x`, '1m'.repeat(50_000), `${'9'.repeat(30_000)}ms${'9'.repeat(30_000)}`];
    const start = performance.now();
    for (const text of hostile) expect(parseDuration(text)).toBeUndefined();
    expect(performance.now() - start).toBeLessThan(500);
  });
});
