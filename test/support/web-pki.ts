/**
 * Certificates for certexp's own HTTPS endpoint: a server CA and its leaf for localhost, and a
 * client CA with a client certificate for mutual TLS, plus a client certificate no configured CA
 * signed. EC P-256 throughout, so building the set takes milliseconds.
 */
import { createCertificate, type TestCert } from './pki';

export interface WebTestPki {
  readonly serverCa: TestCert;
  /** CN=localhost, SANs DNS:localhost and IP:127.0.0.1, under serverCa. */
  readonly server: TestCert;
  readonly clientCa: TestCert;
  /** CN=prometheus, SAN DNS:prometheus.example, extKeyUsage clientAuth, under clientCa. */
  readonly client: TestCert;
  /** Like client, but signed by a CA the server does not know. */
  readonly strangerClient: TestCert;
}

export async function buildWebPki(): Promise<WebTestPki> {
  const serverCa = await createCertificate({ subjectCn: 'certexp-test web CA', ca: true });
  const server = await createCertificate({ subjectCn: 'localhost', issuer: serverCa, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const clientCa = await createCertificate({ subjectCn: 'certexp-test client CA', ca: true });
  const client = await createCertificate({ subjectCn: 'prometheus', issuer: clientCa, dnsNames: ['prometheus.example'], extKeyUsage: ['clientAuth'] });
  const strangerCa = await createCertificate({ subjectCn: 'certexp-test stranger CA', ca: true });
  const strangerClient = await createCertificate({ subjectCn: 'prometheus', issuer: strangerCa, dnsNames: ['prometheus.example'], extKeyUsage: ['clientAuth'] });
  return { serverCa, server, clientCa, client, strangerClient };
}
