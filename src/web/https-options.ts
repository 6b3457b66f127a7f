/**
 * The web config's tls_server_config as Node's HTTPS server options, plus the client certificate
 * rules Node's options cannot say on their own (Go's RequireAnyClientCert and
 * VerifyClientCertIfGiven, client_allowed_sans).
 */
import type { ServerOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { canonicalSan, type WebTlsConfig } from './web-config';

export function httpsOptions(tls: WebTlsConfig): ServerOptions {
  return {
    cert: tls.cert,
    key: tls.key.reveal(),
    ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa }),
    // Asking for a certificate is all Node does by itself; rejectUnauthorized also refuses a
    // missing or unverifiable one during the handshake, which is exactly RequireAndVerifyClientCert.
    requestCert: tls.clientAuth !== 'NoClientCert',
    rejectUnauthorized: tls.clientAuth === 'RequireAndVerifyClientCert',
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
    ...(tls.ciphers === undefined ? {} : { ciphers: tls.ciphers }),
    ...(tls.ecdhCurve === undefined ? {} : { ecdhCurve: tls.ecdhCurve }),
    honorCipherOrder: tls.honorCipherOrder,
  };
}

/**
 * Every SAN in Node's rendering of the extension (X509Certificate.subjectAltName):
 * `DNS:a.example, IP Address:10.0.0.1, URI:"with, comma"` — values with a comma or quote come as JSON strings.
 */
export function parseSubjectAltName(text: string | undefined): string[] {
  const names: string[] = [];
  for (const match of (text ?? '').matchAll(/(?:^|, )(?:DNS|IP Address|URI|email):("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    const value = match[1] ?? '';
    names.push(canonicalSan(value.startsWith('"') ? (JSON.parse(value) as string) : value));
  }
  return names;
}

/**
 * Why the client on this socket may not be served, or undefined when it may. Runs after the
 * handshake, so a refused client gets a clear 403 instead of a bare reset.
 */
export function clientCertificateProblem(tls: WebTlsConfig, socket: TLSSocket): string | undefined {
  if (tls.clientAuth === 'NoClientCert' || tls.clientAuth === 'RequestClientCert') return undefined;
  const certificate = socket.getPeerX509Certificate();
  if (certificate === undefined) {
    return tls.clientAuth === 'VerifyClientCertIfGiven' ? undefined : 'a client certificate is required';
  }
  if (tls.clientAuth !== 'RequireAnyClientCert' && !socket.authorized) return 'the client certificate does not verify against client_ca_file';
  const allowed = tls.clientAllowedSans;
  if (allowed !== undefined && !parseSubjectAltName(certificate.subjectAltName).some((name) => allowed.includes(name))) {
    return 'the client certificate carries none of the SANs in client_allowed_sans';
  }
  return undefined;
}
