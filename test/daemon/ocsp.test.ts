/**
 * Revocation end to end: the daemon probing real loopback servers whose leaves name a real OCSP
 * responder (OpenSSL's, behind HTTP on 127.0.0.1), or that staple OpenSSL-made responses from
 * openssl s_server, and what /metrics then says.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { derToPem } from '../../src/pki/pem';
import { startHarness, waitFor, type Harness } from '../support/daemon-harness';
import { select, value, type Sample } from '../support/metrics-text';
import { OcspFiles, ocspUrlExtension, startOcspResponder, type OcspResponder } from '../support/ocsp';
import { createCertificate, days, type TestCert } from '../support/pki';
import { freePort } from '../support/ports';
import { startSServer, type SServer } from '../support/s-server';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { startTlsServer, type TlsTestServer } from '../support/tls-server';
import { describeWithTool } from '../support/tools';

describeWithTool('openssl', 'openssl', 'the daemon checking revocation with OCSP', () => {
  let pki: TestPki;
  let dir: string;
  let files: OcspFiles;
  let responder: OcspResponder;
  let harness: Harness;
  const servers: TlsTestServer[] = [];
  const sServers: SServer[] = [];
  let samples: Sample[];
  let startedAt: number;

  const statusOf = (target: string): string[] => select(samples, 'certexp_ocsp_status', { target }).filter((s) => s.value === 1).map((s) => s.labels.status ?? '');
  const reasonsOf = (target: string): string[] => select(samples, 'certexp_verify_failure', { target }).map((s) => s.labels.reason ?? '').sort();

  beforeAll(async () => {
    pki = await buildTestPki();
    dir = await mkdtemp(join(tmpdir(), 'certexp-ocsp-daemon-'));
    files = await OcspFiles.create({ ca: pki.intermediate, signer: pki.intermediate }, []);
    responder = await startOcspResponder(files);
    const nobody = `http://127.0.0.1:${await freePort()}/`;
    const leaf = (url: string): Promise<TestCert> =>
      createCertificate({ subjectCn: 'localhost', issuer: pki.intermediate, dnsNames: ['localhost'], extraExtensions: [ocspUrlExtension(url)] });
    const [good, revoked, down, stapledRevoked, stapledGood] = await Promise.all([leaf(responder.url), leaf(responder.url), leaf(nobody), leaf(responder.url), leaf(nobody)]);
    await files.setIndex([
      { cert: good }, { cert: revoked, revokedAt: new Date(Date.now() - days(1)), reason: 'keyCompromise' },
      { cert: stapledRevoked, revokedAt: new Date(Date.now() - days(1)), reason: 'superseded' }, { cert: stapledGood },
    ]);

    const targets: string[] = [];
    const node = async (name: string, chainLeaf: TestCert, more: string): Promise<void> => {
      const server = await startTlsServer({ key: chainLeaf.key, chain: [chainLeaf, pki.intermediate] });
      servers.push(server);
      targets.push(`  - { name: ${name}, host: 127.0.0.1, port: ${server.port}, server_name: localhost${more} }`);
    };
    const stapling = async (name: string, chainLeaf: TestCert, more: string): Promise<void> => {
      const server = await startSServer(dir, name, [chainLeaf, pki.intermediate], { statusFile: await files.stapleFor(chainLeaf) });
      sServers.push(server);
      targets.push(`  - { name: ${name}, host: 127.0.0.1, port: ${server.port}, server_name: localhost${more} }`);
    };
    await node('responder-good', good, ', ocsp: responder');
    await node('responder-revoked', revoked, ', ocsp: responder');
    await node('responder-down', down, ', ocsp: responder');
    await node('revoked-but-none', revoked, ', ocsp: none');
    await node('revoked-not-asked', revoked, '');
    await node('no-responder', pki.valid, ', ocsp: responder');
    await stapling('stapled-revoked', stapledRevoked, '');
    await stapling('stapled-good', stapledGood, ', ocsp: responder');

    startedAt = Date.now();
    const config = ['defaults:', '  interval: 1s', '  timeout: 1s', '  ca_file: root.pem', 'targets:', ...targets, ''].join('\n');
    harness = await startHarness(config, { 'root.pem': derToPem(pki.root.der) });
    await waitFor('two probes of every target', async () => {
      ({ samples } = await harness.scrape());
      return targets.length === 8 && select(samples, 'certexp_probes_total').filter((s) => s.value >= 2).length === 8;
    }, 15_000);
  });

  afterAll(async () => {
    // Everything that started is stopped, even when beforeAll failed half-way.
    for (const server of sServers) server.child.kill();
    await Promise.all(servers.map((s) => s.close()));
    await (responder as OcspResponder | undefined)?.close();
    await (files as OcspFiles | undefined)?.remove();
    await rm(dir, { recursive: true, force: true });
    await (harness as Harness | undefined)?.close();
  });

  it('reports good and the responder\'s nextUpdate for a leaf its responder calls good', () => {
    expect(statusOf('responder-good')).toEqual(['good']);
    expect(select(samples, 'certexp_ocsp_status', { target: 'responder-good' }).map((s) => s.labels.status)).toEqual(['good', 'revoked', 'unknown', 'error']);
    const nextUpdate = value(samples, 'certexp_ocsp_next_update_timestamp_seconds', { target: 'responder-good' }) * 1000;
    expect(nextUpdate).toBeGreaterThan(startedAt + 59 * 60_000);
    expect(nextUpdate).toBeLessThan(Date.now() + 61 * 60_000);
    expect(value(samples, 'certexp_verify_success', { target: 'responder-good' })).toBe(1);
    expect(value(samples, 'certexp_probe_duration_seconds', { target: 'responder-good', phase: 'ocsp' })).toBeGreaterThanOrEqual(0);
  });

  it('fails verification with revoked for a leaf its responder calls revoked, keeping its expiry series', () => {
    expect(statusOf('responder-revoked')).toEqual(['revoked']);
    expect(reasonsOf('responder-revoked')).toEqual(['revoked']);
    expect(value(samples, 'certexp_verify_success', { target: 'responder-revoked' })).toBe(0);
    expect(value(samples, 'certexp_verify_failures_total', { target: 'responder-revoked', reason: 'revoked' })).toBeGreaterThanOrEqual(2);
    expect(select(samples, 'certexp_cert_not_after_timestamp_seconds', { target: 'responder-revoked' })).toHaveLength(2);
  });

  it('asks the responder once per certificate, not once per probe, while its answer is fresh', () => {
    // Three leaves name this responder: good and revoked (asked), stapled-revoked (stapled, never asked).
    expect(responder.requests()).toBe(2);
  });

  it('reports a responder that is down as status error, and the probe and the verdict as they are', () => {
    expect(statusOf('responder-down')).toEqual(['error']);
    expect(select(samples, 'certexp_ocsp_next_update_timestamp_seconds', { target: 'responder-down' })).toEqual([]);
    expect(value(samples, 'certexp_probe_success', { target: 'responder-down' })).toBe(1);
    expect(value(samples, 'certexp_verify_success', { target: 'responder-down' })).toBe(1);
  });

  it('fails verification with revoked when the server staples a revoked response, by default', () => {
    expect(statusOf('stapled-revoked')).toEqual(['revoked']);
    expect(reasonsOf('stapled-revoked')).toEqual(['revoked']);
  });

  it('takes a good staple over asking the responder, whose URL here leads nowhere', () => {
    expect(statusOf('stapled-good')).toEqual(['good']);
    expect(value(samples, 'certexp_verify_success', { target: 'stapled-good' })).toBe(1);
  });

  it('checks nothing with ocsp: none, asks no responder by default, and exports no OCSP series for a leaf that names none', () => {
    for (const target of ['revoked-but-none', 'revoked-not-asked', 'no-responder']) {
      expect([target, select(samples, 'certexp_ocsp_status', { target })]).toEqual([target, []]);
      expect([target, value(samples, 'certexp_verify_success', { target })]).toEqual([target, 1]);
    }
  });
});
