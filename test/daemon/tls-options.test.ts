/**
 * Client certificates and version checks through the whole daemon, config to /metrics: the
 * client certificate's expiry, a server refusing the certificate (probe failed, the server's
 * certificate series still there), and certexp_tls_protocol_accepted per checked version.
 */
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { select, value } from '../support/metrics-text';
import { startHarness, type Harness } from '../support/daemon-harness';
import { scrapeWhenProbed } from '../support/scrape-when-probed';
import { createCertificate, days, hours, type TestCert } from '../support/pki';
import { buildTestPki, chainPem, type TestPki } from '../support/scenarios';

describe('the daemon with client certificates and version checks', () => {
  let pki: TestPki;
  let client: TestCert;
  let harness: Harness | undefined;
  const servers: Server[] = [];

  /** A TLS 1.3 server that requires a client certificate under `trusted`, and waits for the client to speak. */
  async function mutualTlsServer(trusted: TestCert): Promise<number> {
    const server = createServer({
      key: pki.valid.key.privateKeyPem, cert: chainPem(pki.valid, pki.intermediate), ca: [trusted.pem], requestCert: true, rejectUnauthorized: true,
    });
    server.on('secureConnection', (socket: TLSSocket) => { socket.on('error', () => undefined); setTimeout(() => { socket.end(); }, 100); });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    return address.port;
  }

  beforeAll(async () => {
    pki = await buildTestPki();
    client = await createCertificate({
      subjectCn: 'certexp-probe', issuer: pki.intermediate, notBefore: new Date(Date.now() - hours(1)), notAfter: new Date(Date.now() + days(20)),
      dnsNames: [], extKeyUsage: ['clientAuth'],
    });
    const trusting = await mutualTlsServer(pki.root);
    const refusing = await mutualTlsServer(pki.otherRoot);
    harness = await startHarness(
      [
        'defaults:',
        '  interval: 2s',
        '  timeout: 2s',
        '  ca_file: root.pem',
        '  cert_file: client.pem',
        '  key_file: client.key',
        'targets:',
        `  - { host: 127.0.0.1, port: ${trusting}, server_name: localhost, name: trusting, check_versions: [TLS11, TLS13] }`,
        `  - { host: 127.0.0.1, port: ${refusing}, server_name: localhost, name: refusing }`,
        '',
      ].join('\n'),
      { 'root.pem': pki.root.pem, 'client.pem': chainPem(client, pki.intermediate), 'client.key': client.key.privateKeyPem },
    );
  });

  afterAll(async () => {
    await harness?.close();
    await Promise.all(servers.map((s) => new Promise((resolve) => { s.close(resolve); })));
  });

  it('exports the client certificate\'s expiry for every target that presents it', async () => {
    const samples = await scrapeWhenProbed(harness, 2);
    for (const target of ['trusting', 'refusing']) {
      expect(value(samples, 'certexp_client_cert_not_after_timestamp_seconds', { target })).toBe(client.notAfter.getTime() / 1000);
    }
  });

  it('verifies the chain of a server that accepts the certificate, and reports the versions it accepts', async () => {
    const samples = await scrapeWhenProbed(harness, 2);
    expect(value(samples, 'certexp_probe_success', { target: 'trusting' })).toBe(1);
    expect(value(samples, 'certexp_verify_success', { target: 'trusting' })).toBe(1);
    expect(value(samples, 'certexp_tls_protocol_accepted', { target: 'trusting', version: 'TLSv1.1' })).toBe(0);
    expect(value(samples, 'certexp_tls_protocol_accepted', { target: 'trusting', version: 'TLSv1.3' })).toBe(1);
  });

  it('fails a server that refuses the certificate with client_cert_rejected, and still reports its certificate', async () => {
    const samples = await scrapeWhenProbed(harness, 2);
    expect(value(samples, 'certexp_probe_success', { target: 'refusing' })).toBe(0);
    expect(value(samples, 'certexp_probe_failures_total', { target: 'refusing', reason: 'client_cert_rejected' })).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'certexp_verify_success', { target: 'refusing' })).toBe(1);
    expect(value(samples, 'certexp_cert_not_after_timestamp_seconds', { target: 'refusing', depth: '0' })).toBe(pki.valid.notAfter.getTime() / 1000);
    expect(select(samples, 'certexp_tls_protocol_accepted', { target: 'refusing' })).toEqual([]);
  });
});
