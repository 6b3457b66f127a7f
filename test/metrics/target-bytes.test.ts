import { gunzipSync } from 'node:zlib';
import type { Clock } from '../../src/clock';
import { ExporterMetrics } from '../../src/metrics/exporter-metrics';
import type { Format } from '../../src/metrics/exposition';
import { sectionText } from '../../src/metrics/sections';
import { encodeTarget, renderResultFamilies, targetFamilyTexts } from '../../src/metrics/target-families';
import { derToPem } from '../../src/pki/pem';
import { ChainAnalyzer } from '../../src/pki/analyze-chain';
import { parseCertificate } from '../../src/pki/certificate';
import { CertificateCache } from '../../src/pki/certificate-cache';
import { SignatureVerifier } from '../../src/pki/signature';
import { TrustStore } from '../../src/pki/trust-store';
import { ResultsStore } from '../../src/results/results-store';
import type { TargetResult } from '../../src/results/target-result';
import { WHOLE } from '../../src/scheduling/shard';
import { startHarness, waitFor, type Harness } from '../support/daemon-harness';
import { select, type Sample } from '../support/metrics-text';
import type { TestCert } from '../support/pki';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { startTlsServer, type TlsTestServer } from '../support/tls-server';

const DAY = 86_400_000;
const FORMATS: readonly [Format, string | undefined][] = [['text', undefined], ['openmetrics', 'application/openmetrics-text']];

/** A family's HELP and TYPE lines, and the lines after them up to the next family. */
interface Block {
  readonly family: string;
  readonly lines: string;
}

/** The per-target part of a body (before prom-client's metrics), family by family. */
function blocks(body: string): Block[] {
  const ours = body.slice(0, body.indexOf('# HELP certexp_config_last_reload_successful'));
  return ours.split(/^(?=# HELP )/m).map((text) => {
    const [, family = '', lines = ''] = /^# HELP (\S+) .*\n# TYPE .*\n([^]*)$/.exec(text) ?? [];
    return { family, lines };
  });
}

describe('per-target lines encoded as bytes', () => {
  let pki: TestPki;
  let now: number;
  let results: TargetResult[];

  beforeAll(async () => {
    pki = await buildTestPki();
    now = pki.now.getTime();
    const analyzer = new ChainAnalyzer(new CertificateCache(), new SignatureVerifier());
    const trust = new TrustStore([parseCertificate(pki.root.der)]);
    const analyze = (chain: TestCert[]): TargetResult['chain'] => analyzer.analyze({ chain: chain.map((c) => c.der), trust, serverName: 'localhost', at: now });
    const base = { finishedAt: now - 1500, address: '127.0.0.1', failure: undefined, tls: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' } };
    const phases = { dns: 0.0001234567, connect: 0.0005, handshake: 0.0123456789, verify: 0.002 };
    results = [
      {
        ...base, target: 'ok', phases, chain: analyze([pki.valid, pki.intermediate]), versions: { 'TLSv1.2': true, 'TLSv1.1': false },
        ocsp: { status: 'good', thisUpdate: now - DAY, nextUpdate: now + 3 * DAY, source: 'stapled' },
        crl: { status: 'good', thisUpdate: now - DAY, nextUpdate: now + 7 * DAY, url: 'http://127.0.0.1/ca.crl' },
      },
      // A failed probe keeps the chain of the last one that got a chain.
      { ...base, target: 'refused', phases: { dns: 0 }, failure: { reason: 'connection_refused', error: 'connect ECONNREFUSED' }, tls: undefined, chain: analyze([pki.expired, pki.intermediate]) },
      {
        ...base, target: 'wrong-name', phases, chain: analyze([pki.wrongName]),
        ocsp: { status: 'error', error: 'responder unreachable', source: 'responder' },
        crl: { status: 'revoked', thisUpdate: now - DAY, nextUpdate: undefined, revokedAt: now - 2 * DAY, revocationReason: 'keyCompromise' },
      },
      {
        ...base, target: 'every-address', phases, chain: analyze([pki.expiringSoon, pki.intermediate]),
        addresses: [
          { address: '127.0.0.1', failure: undefined, chain: analyze([pki.valid, pki.intermediate]) },
          { address: '::1', failure: undefined, chain: analyze([pki.expiringSoon, pki.intermediate]) },
          { address: '127.0.0.2', failure: { reason: 'connect_timeout', error: 'timed out' }, chain: undefined },
        ],
      },
      // Multi-byte and escaped label values: byte offsets are not character offsets.
      { ...base, target: 'bücher "€"\\shop', phases, chain: analyze([pki.selfSigned]) },
    ];
  });

  function exporter(store: ResultsStore, holdProbes = (): (() => void) => () => undefined): ExporterMetrics {
    // Each render is 10 s after the last on this clock: never a body reused from the one before.
    let tick = 0;
    const clock: Clock = { now: () => now, monotonic: () => (tick += 10_000) };
    return new ExporterMetrics({ store, targets: () => [], clock, reloadStatus: () => ({ successful: true, lastSuccessAt: 0 }), shard: WHOLE, files: () => [], holdProbes, probesInFlight: () => ({ running: 0, limit: 256 }) });
  }

  const bodyOf = async (metrics: ExporterMetrics, accept?: string): Promise<string> =>
    gunzipSync(Buffer.concat((await metrics.render(accept)).body.chunks)).toString('utf8');

  it('holds back new probes from the start of each rendering until its body, gzip included, is ready', async () => {
    const store = new ResultsStore();
    for (const result of results) store.record(result);
    const events: string[] = [];
    const metrics = exporter(store, () => {
      events.push('hold');
      return () => { events.push('release'); };
    });
    for (const [, accept] of FORMATS) {
      const rendered = metrics.render(accept);
      expect(events).toEqual(['hold']);
      const { body } = await rendered;
      expect(events).toEqual(['hold', 'release']);
      expect(gunzipSync(Buffer.concat(body.chunks)).toString('utf8')).toContain('certexp_probe_success{target="ok"} 1\n');
      events.length = 0;
    }
  });

  it('scrapes the same lines, family by family, as the strings each family renders for each target', async () => {
    const store = new ResultsStore();
    const metrics = exporter(store);
    // The first probe of `refused` got a chain: counts of both outcomes, and a handshake histogram.
    store.record({ ...(results[0] as TargetResult), target: 'refused' });
    for (const result of results) {
      store.record(result);
      // One left for the scrape to encode, as a result recorded without prepare() would be.
      if (result.target !== 'wrong-name') metrics.prepare(result);
    }
    const stored = store.results();
    const texts = stored.map((r) => targetFamilyTexts(r, store.countsOf(r.target), store.handshakeBuckets));
    const sections = (texts[0] ?? []).length;
    for (const [format, accept] of FORMATS) {
      const body = await bodyOf(metrics, accept);
      const got = blocks(body);
      const days = got.findIndex((b) => b.family === 'certexp_cert_remaining_days');
      const joined = (section: number): string => texts.map((t) => t[section]).join('');
      // Result families, remaining days (computed per scrape), count families, in the order of the sections.
      for (let i = 0; i < days; i++) expect(got[i]?.lines).toBe(joined(i));
      expect(got[days]?.lines).toBe(stored.map((r) => {
        const notAfter = r.chain?.earliestNotAfter;
        return notAfter === undefined ? '' : `certexp_cert_remaining_days{target="${r.target.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"} ${(notAfter - now) / DAY}\n`;
      }).join(''));
      for (let i = days; i < sections; i++) expect(got[i + 1]?.lines).toBe(joined(i));
      // Each family's lines sit under its own header.
      for (const { family, lines } of got.slice(0, sections + 1)) {
        for (const line of lines.split('\n').filter((l) => l !== '')) expect(line).toMatch(new RegExp(`^${family}(_total|_bucket|_sum|_count)?\\{`));
      }
      expect(body).toContain('certexp_probe_failures_total{target="refused",reason="connection_refused"} 1\n');
      expect(body).toContain('certexp_address_probe_success{target="every-address",address="127.0.0.2"} 0\n');
      expect(body).toContain('certexp_tls_protocol_accepted{target="ok",version="TLSv1.1"} 0\n');
      expect(body).toContain('certexp_crl_status{target="wrong-name",status="revoked"} 1\n');
      if (format === 'openmetrics') expect(body.endsWith('# EOF\n')).toBe(true);
    }
    // /probe: the same bytes, without counts.
    const one = results[2] as TargetResult;
    const probe = blocks(`${renderResultFamilies([one], now, 'text')}# HELP certexp_config_last_reload_successful x\n`);
    const alone = targetFamilyTexts(one, undefined, []);
    for (let i = 0; i < probe.length - 1; i++) expect(probe[i]?.lines).toBe(alone[i]);
  });

  it('keeps the chain\'s sections of a target\'s last bytes when its next result has the same chain, and renders them anew when not', () => {
    const [withChain, otherChain] = [results[0], results[3]].map((r) => ({ ...(r as TargetResult), target: 'shop' }));
    if (withChain === undefined || otherChain === undefined) throw new Error('no result');
    // The next probe: the same chain object, as the analyzer hands back for an unchanged chain.
    const next: TargetResult = { ...withChain, phases: { ...withChain.phases, handshake: 0.25 }, finishedAt: withChain.finishedAt + 60_000 };
    const sections = (bytes: Buffer): string[] => targetFamilyTexts(next, undefined, []).map((_, i) => sectionText(bytes, i));
    const textsOf = (result: TargetResult): string[] => targetFamilyTexts(result, undefined, []).map((text) => text ?? '');

    const last = encodeTarget(withChain, undefined, []);
    const encoded = encodeTarget(next, undefined, [], { bytes: last, from: withChain });
    expect(encoded).toBe(last);
    expect(sections(encoded)).toEqual(textsOf(next));

    const fromOther = encodeTarget(next, undefined, [], { bytes: encodeTarget(otherChain, undefined, []), from: otherChain });
    expect(sections(fromOther)).toEqual(textsOf(next));

    // Kept, not rendered: bytes of another chain said to come from a result with this chain stay as they were.
    const kept = sections(encodeTarget(next, undefined, [], { bytes: encodeTarget(otherChain, undefined, []), from: withChain }));
    const notAfter = textsOf(next).findIndex((text) => text.startsWith('certexp_cert_not_after_timestamp_seconds{'));
    expect(notAfter).toBeGreaterThanOrEqual(0);
    expect(kept[notAfter]).toBe(textsOf(otherChain)[notAfter]);
    expect(kept[notAfter]).not.toBe(textsOf(next)[notAfter]);
    // The rest is this result's: its handshake took 0.25 s.
    const durations = textsOf(next).findIndex((text) => text.startsWith('certexp_probe_duration_seconds{'));
    expect(kept[durations]).toContain('certexp_probe_duration_seconds{target="shop",phase="handshake"} 0.25\n');
  });

  it('replaces a target\'s lines when it is recorded again and drops them with the target', async () => {
    const store = new ResultsStore();
    const metrics = exporter(store);
    const [first, second] = [results[0], results[1]].map((r) => ({ ...(r as TargetResult), target: 'shop' }));
    for (const result of [first, second]) {
      if (result === undefined) throw new Error('no result');
      store.record(result);
      metrics.prepare(result);
      const body = await bodyOf(metrics);
      expect(body.match(/^certexp_probe_success\{target="shop"\} .*$/gm)).toEqual([`certexp_probe_success{target="shop"} ${result.failure === undefined ? 1 : 0}`]);
      expect(body.match(/^certexp_cert_not_after_timestamp_seconds\{target="shop",depth="0",.*$/gm)?.map((l) => /fingerprint_sha256="(\w+)"/.exec(l)?.[1]))
        .toEqual([result.chain?.presented[0]?.fingerprintSha256]);
      expect(body.match(/^certexp_probes_total\{target="shop"\} .*$/gm)).toEqual([`certexp_probes_total{target="shop"} ${store.countsOf('shop')?.probes}`]);
    }
    // A later record without prepare() is not hidden by the bytes of the one before.
    store.record({ ...(results[2] as TargetResult), target: 'shop' });
    expect(store.renderedOf('shop')).toBeUndefined();
    expect(await bodyOf(metrics)).toContain('certexp_verify_failure{target="shop",reason="hostname_mismatch"} 1\n');
    store.retain(new Set());
    expect(store.renderedOf('shop')).toBeUndefined();
    expect(await bodyOf(metrics)).not.toMatch(/target="shop"/);
  });
});

describe('a daemon probing a server that changes its certificate', () => {
  let pki: TestPki;
  let harness: Harness;
  const servers = new Map<string, TlsTestServer>();
  const config = (targets: string[]): string => [
    'defaults:', '  interval: 1s', '  timeout: 1s', '  ca_file: root.pem', 'targets:',
    ...targets.map((name) => `  - { name: ${name}, host: 127.0.0.1, port: ${servers.get(name)?.port ?? 0}, server_name: localhost }`), '',
  ].join('\n');
  const leafSeries = (samples: Sample[], target: string): string[] =>
    select(samples, 'certexp_cert_not_after_timestamp_seconds', { target, depth: '0' }).map((s) => s.labels.fingerprint_sha256 ?? '');

  beforeAll(async () => {
    pki = await buildTestPki();
    for (const [name, leaf] of [['swapped', pki.valid], ['kept', pki.expired]] as const) servers.set(name, await startTlsServer({ key: leaf.key, chain: [leaf, pki.intermediate] }));
    harness = await startHarness(config(['swapped', 'kept']), { 'root.pem': derToPem(pki.root.der) });
  });

  afterAll(async () => {
    await harness.close();
    await Promise.all([...servers.values()].map((s) => s.close()));
  });

  it('replaces the target\'s lines on its next probe, and removes them when it leaves the config', async () => {
    let samples: Sample[] = [];
    await waitFor('a probe of both targets', async () => {
      ({ samples } = await harness.scrape());
      return leafSeries(samples, 'kept').length === 1 && leafSeries(samples, 'swapped').length === 1;
    });
    expect(leafSeries(samples, 'swapped')).toEqual([pki.valid.fingerprintSha256]);
    const old = servers.get('swapped');
    await old?.close();
    servers.set('swapped', await startTlsServer({ port: old?.port ?? 0, key: pki.expiringSoon.key, chain: [pki.expiringSoon, pki.intermediate] }));
    await waitFor('a probe of the new certificate', async () => {
      ({ samples } = await harness.scrape());
      return leafSeries(samples, 'swapped')[0] === pki.expiringSoon.fingerprintSha256;
    });
    expect(leafSeries(samples, 'swapped')).toEqual([pki.expiringSoon.fingerprintSha256]);
    expect(select(samples, 'certexp_probes_total', { target: 'swapped' })).toHaveLength(1);
    expect(select(samples, 'certexp_probes_total', { target: 'swapped' })[0]?.value).toBeGreaterThanOrEqual(2);

    await harness.writeConfig(config(['kept']));
    expect((await harness.app.inject({ method: 'POST', url: '/-/reload' })).statusCode).toBe(200);
    ({ samples } = await harness.scrape());
    expect(samples.filter((s) => s.labels.target === 'swapped')).toEqual([]);
    expect(harness.daemon.store.renderedOf('swapped')).toBeUndefined();
    expect(leafSeries(samples, 'kept')).toEqual([pki.expired.fingerprintSha256]);
  });
});
