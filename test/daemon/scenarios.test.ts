import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { derToPem } from '../../src/pki/pem';
import { select, value, type Sample } from '../support/metrics-text';
import type { TestCert } from '../support/pki';
import { startHarness, waitFor, type Harness } from '../support/daemon-harness';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { startTlsServer, type LoopbackHost, type TlsTestServer } from '../support/tls-server';

const DAY_MS = 86_400_000;

interface Scenario {
  readonly name: string;
  readonly host: LoopbackHost;
  readonly serverName: string;
  readonly chain: (pki: TestPki) => TestCert[];
  readonly reasons: string[];
  /** The certificate whose notAfter remaining days must follow. */
  readonly expiresWith: (pki: TestPki) => TestCert;
}

const scenario = (name: string, chain: Scenario['chain'], reasons: string[], more: Partial<Scenario> = {}): Scenario => ({
  name, chain, reasons, host: '127.0.0.1', serverName: 'localhost', expiresWith: (p) => chain(p)[0] as TestCert, ...more,
});

const SCENARIOS: Scenario[] = [
  scenario('valid-v4', (p) => [p.valid, p.intermediate], []),
  scenario('valid-v6', (p) => [p.valid, p.intermediate], [], { host: '::1' }),
  scenario('expired', (p) => [p.expired, p.intermediate], ['expired']),
  scenario('not-yet-valid', (p) => [p.notYetValid, p.intermediate], ['not_yet_valid']),
  scenario('wrong-name', (p) => [p.wrongName, p.intermediate], ['hostname_mismatch']),
  scenario('self-signed', (p) => [p.selfSigned], ['self_signed']),
  scenario('no-intermediate', (p) => [p.valid], ['missing_intermediate']),
  scenario('private-root', (p) => [p.untrustedLeaf, p.otherIntermediate], ['untrusted_root'], { host: '::1' }),
  scenario('short-intermediate', (p) => [p.leafUnderShortIntermediate, p.shortIntermediate], [], { expiresWith: (p) => p.shortIntermediate }),
  scenario('cross-signed', (p) => [p.valid, p.intermediate, p.crossSignedRoot], []),
  scenario('ip-san-v4', (p) => [p.ipOnly, p.intermediate], [], { serverName: '127.0.0.1' }),
  scenario('ip-san-v6', (p) => [p.ipOnly, p.intermediate], [], { host: '::1', serverName: '::1' }),
  scenario('wildcard', (p) => [p.wildcard, p.intermediate], [], { serverName: 'shop.example.test' }),
];

function configFor(targets: string[]): string {
  return `defaults:\n  interval: 1s\n  timeout: 1s\n  ca_file: root.pem\ntargets:\n${targets.join('\n')}\n`;
}

describe('the daemon against real TLS servers', () => {
  let pki: TestPki;
  let harness: Harness;
  const servers: TlsTestServer[] = [];
  let refusedPort: number;
  let allTargets: string[];
  let samples: Sample[];

  beforeAll(async () => {
    pki = await buildTestPki();
    const targets: string[] = [];
    for (const s of SCENARIOS) {
      const chain = s.chain(pki);
      const server = await startTlsServer({ host: s.host, key: (chain[0] as TestCert).key, chain });
      servers.push(server);
      targets.push(`  - { name: ${s.name}, host: "${s.host}", port: ${server.port}, server_name: "${s.serverName}" }`);
    }
    // A port that was open a moment ago and is closed now: nothing listens there.
    const closed = await startTlsServer({ key: pki.valid.key, chain: [pki.valid] });
    refusedPort = closed.port;
    await closed.close();
    targets.push(`  - { name: refused, host: 127.0.0.1, port: ${refusedPort} }`);
    allTargets = targets;
    harness = await startHarness(configFor(targets), { 'root.pem': derToPem(pki.root.der) });
    // Two probes of every target: counters must count, and state-change logs must not repeat.
    await waitFor('two probes of every target', async () => {
      const { samples: now } = await harness.scrape();
      return [...SCENARIOS.map((s) => s.name), 'refused'].every((t) => select(now, 'certexp_probes_total', { target: t }).some((x) => x.value >= 2));
    }, 15_000);
    samples = (await harness.scrape()).samples;
  });

  afterAll(async () => {
    await harness.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  describe.each(SCENARIOS)('$name', (s) => {
    const target = { target: s.name };

    it('reports a finished handshake with the TLS facts and phase timings', () => {
      expect(value(samples, 'certexp_probe_success', target)).toBe(1);
      expect(select(samples, 'certexp_tls_info', target).map((x) => x.labels.version)).toEqual(['TLSv1.3']);
      const phases = select(samples, 'certexp_probe_duration_seconds', target).map((x) => x.labels.phase).sort();
      expect(phases).toEqual(['connect', 'dns', 'handshake', 'verify']);
      expect(value(samples, 'certexp_tls_handshake_duration_seconds_count', target)).toBeGreaterThanOrEqual(2);
      expect(select(samples, 'certexp_probe_failures_total', target)).toEqual([]);
    });

    it(`reports the verdict ${s.reasons.length === 0 ? 'verified' : s.reasons.join(', ')}`, () => {
      expect(value(samples, 'certexp_verify_success', target)).toBe(s.reasons.length === 0 ? 1 : 0);
      expect(select(samples, 'certexp_verify_failure', target).map((x) => x.labels.reason).sort()).toEqual(s.reasons);
      for (const reason of s.reasons) {
        expect(value(samples, 'certexp_verify_failures_total', { ...target, reason })).toBeGreaterThanOrEqual(2);
      }
    });

    it('exports remaining days of the chain verification built, and every presented certificate', () => {
      const lastProbe = value(samples, 'certexp_last_probe_timestamp_seconds', target) * 1000;
      const expected = (s.expiresWith(pki).notAfter.getTime() - lastProbe) / DAY_MS;
      expect(value(samples, 'certexp_cert_remaining_days', target)).toBeCloseTo(expected, 1);
      const chain = s.chain(pki);
      const notAfter = select(samples, 'certexp_cert_not_after_timestamp_seconds', target);
      expect(notAfter.map((x) => [x.labels.depth, x.labels.fingerprint_sha256, x.labels.subject_cn, x.value])).toEqual(
        chain.map((c, depth) => [String(depth), c.fingerprintSha256, c.subjectCn, c.notAfter.getTime() / 1000]),
      );
      const notBefore = select(samples, 'certexp_cert_not_before_timestamp_seconds', target);
      expect(notBefore.map((x) => x.value)).toEqual(chain.map((c) => c.notBefore.getTime() / 1000));
    });
  });

  it('reports a refused connection as a probe failure with its reason and no chain series', () => {
    const target = { target: 'refused' };
    expect(value(samples, 'certexp_probe_success', target)).toBe(0);
    expect(value(samples, 'certexp_probe_failures_total', { ...target, reason: 'connection_refused' })).toBeGreaterThanOrEqual(2);
    for (const name of ['certexp_verify_success', 'certexp_cert_remaining_days', 'certexp_cert_not_after_timestamp_seconds', 'certexp_tls_info']) {
      expect(select(samples, name, target)).toEqual([]);
    }
  });

  it('logs one line when a target changes state, not one per probe', () => {
    const lines = harness.logs.filter((l) => l.target === 'refused');
    expect(lines.map((l) => [l.msg, l.reason])).toEqual([['target probe failing', 'connection_refused']]);
    const expired = harness.logs.filter((l) => l.target === 'expired');
    expect(expired.map((l) => [l.msg, l.reasons])).toEqual([['target verification failing', ['expired']]]);
    expect(harness.logs.filter((l) => l.target === 'valid-v4').map((l) => l.msg)).toEqual(['target ok']);
  });

  it('exports exactly the metrics docs/metrics.md lists, with the types it gives', async () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'metrics.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `(certexp_[a-z_]+)` \| (\w+) \|/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    const { body } = await harness.scrape();
    const exported = [...body.matchAll(/^# TYPE (certexp_[a-z_]+) (\w+)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    expect(documented).toHaveLength(36);
    expect(exported).toEqual(documented);
  });

  it('serves OpenMetrics when the scraper asks for it, and text otherwise', async () => {
    const accept = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    const om = await harness.scrape(accept);
    expect(om.contentType).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    expect(om.body).toMatch(/^# TYPE certexp_probes counter$/m);
    expect(om.body).toMatch(/^certexp_probes_total\{target="valid-v4"\} \d+$/m);
    const text = await harness.scrape();
    expect(text.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text.body).toMatch(/^# TYPE certexp_probes_total counter$/m);
    expect(select(text.samples, 'certexp_probes_total', { target: 'valid-v4' })).toHaveLength(1);
  });

  it('answers /probe for a configured target with that probe only, and refuses others', async () => {
    const ok = await harness.app.inject({ method: 'GET', url: '/probe?target=expired' });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toMatch(/^certexp_probe_success\{target="expired"\} 1$/m);
    expect(ok.body).toMatch(/^certexp_verify_failure\{target="expired",reason="expired"\} 1$/m);
    expect(ok.body).not.toMatch(/valid-v4|certexp_probes_total/);
    const hostPort = await harness.app.inject({ method: 'GET', url: `/probe?target=127.0.0.1:${refusedPort}` });
    expect(hostPort.body).toMatch(/^certexp_probe_success\{target="refused"\} 0$/m);
    const sni = await harness.app.inject({ method: 'GET', url: '/probe?target=valid-v4&server_name=other.example' });
    expect(sni.body).toMatch(/^certexp_verify_failure\{target="valid-v4",reason="hostname_mismatch"\} 1$/m);
    expect((await harness.app.inject({ method: 'GET', url: '/probe?target=10.0.0.1:443' })).statusCode).toBe(403);
    expect((await harness.app.inject({ method: 'GET', url: '/probe' })).statusCode).toBe(400);
  });

  it('keeps the last good config on a bad reload, then drops removed targets on a good one', async () => {
    await harness.writeConfig('targets:\n  - host: 127.0.0.1\n    prot: 443\n');
    const bad = await harness.app.inject({ method: 'POST', url: '/-/reload' });
    expect(bad.statusCode).toBe(500);
    expect(bad.body).toMatch(/certexp\.yml:3:5: targets\[0\]\.prot: unknown key/);
    let after = (await harness.scrape()).samples;
    expect(value(after, 'certexp_config_last_reload_successful')).toBe(0);
    expect(value(after, 'certexp_probe_success', { target: 'expired' })).toBe(1);

    const kept = allTargets.filter((t) => t.includes('name: valid-v4,'));
    await harness.writeConfig(configFor(kept));
    const good = await harness.app.inject({ method: 'POST', url: '/-/reload' });
    expect(good.statusCode).toBe(200);
    after = (await harness.scrape()).samples;
    expect(value(after, 'certexp_config_last_reload_successful')).toBe(1);
    const targets = new Set(after.map((x) => x.labels.target).filter((t) => t !== undefined));
    expect([...targets]).toEqual(['valid-v4']);
  });
});
