import { spawnSync } from 'node:child_process';
import { derToPem } from '../../src/pki/pem';
import { select } from '../support/metrics-text';
import { startHarness, waitFor, type Harness } from '../support/daemon-harness';
import { buildTestPki, chainPem } from '../support/scenarios';
import { startTlsServer, type TlsTestServer } from '../support/tls-server';
import { describeWithTool } from '../support/tools';

/** The contract's one accepted lint finding: remaining days are in days on purpose. */
const ACCEPTED = /^certexp_cert_remaining_days\b/;

describeWithTool('promtool', 'prometheus', 'promtool check metrics on a real /metrics', () => {
  let harness: Harness;
  let servers: TlsTestServer[];

  beforeAll(async () => {
    const pki = await buildTestPki();
    servers = await Promise.all([
      startTlsServer({ key: pki.valid.key, chain: [pki.valid, pki.intermediate] }),
      startTlsServer({ key: pki.expired.key, chain: [pki.expired, pki.intermediate] }),
    ]);
    const [good, expired] = servers as [TlsTestServer, TlsTestServer];
    // Every family shows up: a verified chain, a failing one, a probe that fails outright, and
    // certificate files in the same families as targets, with a file that cannot be read.
    harness = await startHarness(`defaults: { interval: 1s, timeout: 1s, ca_file: root.pem }
targets:
  - { name: good, host: 127.0.0.1, port: ${good.port}, server_name: localhost }
  - { name: "expired \\"quoted\\"", host: 127.0.0.1, port: ${expired.port}, server_name: localhost }
  - { name: refused, host: 127.0.0.1, port: 1 }
files:
  - { name: disk, paths: [chain.pem, expired.pem, missing.pem, "nowhere/**/*.pem"] }
`, { 'root.pem': derToPem(pki.root.der), 'chain.pem': chainPem(pki.valid, pki.intermediate), 'expired.pem': chainPem(pki.expired, pki.intermediate) });
    await waitFor('a probe of every target and a pass over the files', async () => {
      const { samples } = await harness.scrape();
      return select(samples, 'certexp_probe_success').length === 3 && select(samples, 'certexp_file_read_success').length === 3;
    });
  });

  afterAll(async () => {
    await harness.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  it('finds nothing wrong but the accepted remaining-days unit', async () => {
    const { body } = await harness.scrape();
    expect(body).toMatch(/certexp_verify_failure\{target="expired \\"quoted\\"",reason="expired"\} 1/);
    expect(body).toMatch(/^certexp_verify_failure\{source="disk",file="[^"]+expired\.pem",reason="expired"\} 1$/m);
    expect(body).toMatch(/^certexp_file_read_errors_total\{source="disk",file="[^"]+missing\.pem",reason="not_found"\} \d+$/m);
    const result = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    const findings = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
    expect(findings.filter((line) => !ACCEPTED.test(line))).toEqual([]);
    expect(findings).toEqual([expect.stringMatching(/^certexp_cert_remaining_days .*unit/)]);
  });
});
