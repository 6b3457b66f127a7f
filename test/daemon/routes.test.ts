/**
 * address and proxy_url through the whole daemon, config to /metrics and /probe: a load-balancer
 * node probed by IP under the public name, and targets reached only through a loopback CONNECT
 * proxy, one of them taken out of it with `direct`.
 */
import { value } from '../support/metrics-text';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy';
import { startHarness, type Harness } from '../support/daemon-harness';
import { scrapeWhenProbed } from '../support/scrape-when-probed';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { startTlsServer, type TlsTestServer } from '../support/tls-server';

describe('the daemon with address overrides and a proxy', () => {
  let pki: TestPki;
  let harness: Harness | undefined;
  let relay: ConnectProxy;
  const servers: TlsTestServer[] = [];

  beforeAll(async () => {
    pki = await buildTestPki();
    const server = await startTlsServer({ key: pki.valid.key, chain: [pki.valid, pki.intermediate] });
    relay = await startConnectProxy({ names: { 'shop.test': '127.0.0.1' } });
    servers.push(server, relay);
    harness = await startHarness(
      [
        'defaults:',
        '  interval: 1s',
        '  timeout: 1s',
        '  ca_file: root.pem',
        `  proxy_url: http://127.0.0.1:${relay.port}`,
        'targets:',
        `  - { host: shop.test, port: ${server.port}, server_name: localhost, name: via-proxy }`,
        `  - { host: shop.test, port: ${server.port}, server_name: localhost, name: node-a, address: 127.0.0.1, proxy_url: direct }`,
        '',
      ].join('\n'),
      { 'root.pem': pki.root.pem },
      // The daemon itself never resolves shop.test: the proxy does, and node-a has an address.
      (host) => Promise.reject(new Error(`unexpected lookup of ${host}`)),
    );
  });

  afterAll(async () => {
    await harness?.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  it('verifies both targets without resolving their name, one through the proxy and one straight to its address', async () => {
    const samples = await scrapeWhenProbed(harness, 2);
    for (const target of ['via-proxy', 'node-a']) expect([target, value(samples, 'certexp_verify_success', { target })]).toEqual([target, 1]);
    expect(new Set(relay.requests.map((r) => r.authority))).toEqual(new Set([`shop.test:${servers[0]?.port ?? 0}`]));
  });

  it('probes an address-override target with another server_name on /probe', async () => {
    const response = await harness?.app.inject({ method: 'GET', url: '/probe?target=node-a&server_name=other.example' });
    expect(response?.body).toMatch(/^certexp_verify_failure\{target="node-a",reason="hostname_mismatch"\} 1$/m);
  });
});
