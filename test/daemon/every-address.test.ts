/**
 * addresses: all through the whole daemon: a name whose nodes serve different certificates
 * (one of them about to expire), and one whose node is down. Proves the per-address series, the
 * distinct-leaf count that catches a stale node, and that the target reports its worst address.
 */
import { select, value } from '../support/metrics-text';
import { startHarness, type Harness } from '../support/daemon-harness';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { scrapeWhenProbed } from '../support/scrape-when-probed';
import { startNodes } from '../support/shared-port';
import type { TlsTestServer } from '../support/tls-server';

describe('the daemon with addresses: all', () => {
  let pki: TestPki;
  let harness: Harness | undefined;
  const servers: TlsTestServer[] = [];

  beforeAll(async () => {
    pki = await buildTestPki();
    const fleet = await startNodes([
      { host: '127.0.0.2', key: pki.valid.key, chain: [pki.valid, pki.intermediate] },
      { host: '127.0.0.3', key: pki.expiringSoon.key, chain: [pki.expiringSoon, pki.intermediate] },
      { host: '::1', key: pki.valid.key, chain: [pki.valid, pki.intermediate] },
    ]);
    const degraded = await startNodes([{ host: '127.0.0.4', key: pki.valid.key, chain: [pki.valid, pki.intermediate] }]);
    servers.push(...fleet.servers, ...degraded.servers);
    const names: Record<string, string[]> = { 'fleet.test': ['127.0.0.2', '127.0.0.3', '::1'], 'degraded.test': ['127.0.0.4', '127.0.0.5'], 'single.test': ['127.0.0.2', '127.0.0.3'] };
    harness = await startHarness(
      [
        'defaults:',
        '  interval: 1s',
        '  timeout: 1s',
        '  ca_file: root.pem',
        '  addresses: all',
        'targets:',
        `  - { host: fleet.test, port: ${fleet.port}, server_name: localhost, name: fleet }`,
        `  - { host: degraded.test, port: ${degraded.port}, server_name: localhost, name: degraded }`,
        `  - { host: single.test, port: ${fleet.port}, server_name: localhost, name: single, addresses: first }`,
        '',
      ].join('\n'),
      { 'root.pem': pki.root.pem },
      (host) => Promise.resolve(names[host] ?? []),
    );
  });

  afterAll(async () => {
    await harness?.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  it('exports every address of the name and counts two distinct leaves when one node serves another certificate', async () => {
    const samples = await scrapeWhenProbed(harness, 3);
    expect(value(samples, 'certexp_distinct_leaf_certificates', { target: 'fleet' })).toBe(2);
    expect(select(samples, 'certexp_address_probe_success', { target: 'fleet' }).map((s) => [s.labels.address, s.value])).toEqual([
      ['127.0.0.2', 1], ['127.0.0.3', 1], ['::1', 1],
    ]);
    expect(select(samples, 'certexp_address_cert_not_after_timestamp_seconds', { target: 'fleet' }).map((s) => [s.labels.address, s.labels.fingerprint_sha256, s.value])).toEqual([
      ['127.0.0.2', pki.valid.fingerprintSha256, pki.valid.notAfter.getTime() / 1000],
      ['127.0.0.3', pki.expiringSoon.fingerprintSha256, pki.expiringSoon.notAfter.getTime() / 1000],
      ['::1', pki.valid.fingerprintSha256, pki.valid.notAfter.getTime() / 1000],
    ]);
    expect(select(samples, 'certexp_address_verify_success', { target: 'fleet' }).map((s) => s.value)).toEqual([1, 1, 1]);
  });

  it('reports the worst address at the target level: the certificate that expires first', async () => {
    const samples = await scrapeWhenProbed(harness, 3);
    expect(value(samples, 'certexp_probe_success', { target: 'fleet' })).toBe(1);
    expect(value(samples, 'certexp_cert_remaining_days', { target: 'fleet' })).toBeLessThan(11);
    expect(value(samples, 'certexp_cert_not_after_timestamp_seconds', { target: 'fleet', depth: '0' })).toBe(pki.expiringSoon.notAfter.getTime() / 1000);
  });

  it('fails the target when one node is down, and still reports the certificate of the node that answered', async () => {
    const samples = await scrapeWhenProbed(harness, 3);
    expect(value(samples, 'certexp_probe_success', { target: 'degraded' })).toBe(0);
    expect(value(samples, 'certexp_probe_failures_total', { target: 'degraded', reason: 'connection_refused' })).toBeGreaterThanOrEqual(1);
    expect(select(samples, 'certexp_address_probe_success', { target: 'degraded' }).map((s) => [s.labels.address, s.value])).toEqual([['127.0.0.4', 1], ['127.0.0.5', 0]]);
    expect(value(samples, 'certexp_cert_remaining_days', { target: 'degraded' })).toBeGreaterThan(80);
    expect(value(samples, 'certexp_distinct_leaf_certificates', { target: 'degraded' })).toBe(1);
  });

  it('exports no per-address series for a target with addresses: first', async () => {
    const samples = await scrapeWhenProbed(harness, 3);
    expect(value(samples, 'certexp_probe_success', { target: 'single' })).toBe(1);
    expect(select(samples, 'certexp_address_probe_success', { target: 'single' })).toEqual([]);
    expect(select(samples, 'certexp_distinct_leaf_certificates', { target: 'single' })).toEqual([]);
  });
});
