/**
 * A `starttls:` target through the whole daemon: config, probe, verification and /metrics,
 * against loopback servers that speak the protocol first. Proves the setting reaches the prober
 * and that a server refusing the upgrade is reported as starttls_failed.
 */
import { value } from '../support/metrics-text';
import { startHarness, type Harness } from '../support/daemon-harness';
import { scrapeWhenProbed } from '../support/scrape-when-probed';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { divert, say, startStarttlsServer, STARTTLS_SCRIPTS, type StarttlsTestServer } from '../support/starttls-servers';

describe('the daemon with starttls targets', () => {
  let pki: TestPki;
  let harness: Harness;
  const servers: StarttlsTestServer[] = [];

  beforeAll(async () => {
    pki = await buildTestPki();
    const serve = (script = STARTTLS_SCRIPTS.smtp): Promise<StarttlsTestServer> =>
      startStarttlsServer({ script, key: pki.valid.key, chain: [pki.valid, pki.intermediate] });
    servers.push(await serve(), await serve(STARTTLS_SCRIPTS.postgres), await serve(divert(STARTTLS_SCRIPTS.postgres, 1, say('N'), 'hang')));
    const [smtp, postgres, refusing] = servers.map((s) => s.port);
    harness = await startHarness(
      [
        'defaults:',
        '  interval: 1s',
        '  timeout: 1s',
        '  ca_file: root.pem',
        'targets:',
        `  - { host: 127.0.0.1, port: ${smtp}, server_name: localhost, starttls: smtp, name: mx }`,
        `  - { host: 127.0.0.1, port: ${postgres}, server_name: localhost, starttls: postgres, name: db }`,
        `  - { host: 127.0.0.1, port: ${refusing}, server_name: localhost, starttls: postgres, name: db-no-tls }`,
        '',
      ].join('\n'),
      { 'root.pem': pki.root.pem },
    );
  });

  afterAll(async () => {
    await harness.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  it('verifies the chain behind the upgrade and times the starttls phase apart from the handshake', async () => {
    const samples = await scrapeWhenProbed(harness, 3);
    for (const target of ['mx', 'db']) {
      expect([target, value(samples, 'certexp_probe_success', { target })]).toEqual([target, 1]);
      expect([target, value(samples, 'certexp_verify_success', { target })]).toEqual([target, 1]);
      expect(value(samples, 'certexp_probe_duration_seconds', { target, phase: 'starttls' })).toBeGreaterThanOrEqual(0);
      expect(value(samples, 'certexp_probe_duration_seconds', { target, phase: 'handshake' })).toBeGreaterThanOrEqual(0);
    }
  });

  it('counts starttls_failed when the server refuses TLS, and logs the server\'s answer with the fix', async () => {
    const samples = await scrapeWhenProbed(harness, 3);
    expect(value(samples, 'certexp_probe_success', { target: 'db-no-tls' })).toBe(0);
    expect(value(samples, 'certexp_probe_failures_total', { target: 'db-no-tls', reason: 'starttls_failed' })).toBeGreaterThanOrEqual(1);
    const line = harness.logs.find((l) => l.target === 'db-no-tls' && l.msg === 'target probe failing');
    expect(line).toMatchObject({ reason: 'starttls_failed', error: expect.stringContaining('answered N to SSLRequest') as unknown });
  });
});
