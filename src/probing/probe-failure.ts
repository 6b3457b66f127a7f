/**
 * The closed set of reasons a probe got no certificate chain, with the fix an operator should
 * reach for. `network_unreachable`, `client_cert_rejected`, `proxy_failed` and `starttls_failed`
 * extend the contract: no route is not a refusal, a server refusing our certificate is not a
 * broken handshake, a proxy refusing a tunnel is not the target failing, and a plain-text
 * protocol that would not switch to TLS is not a TLS failure. `address_denied` exists for ad-hoc
 * /probe targets only (src/probing/ad-hoc-access.ts): /probe answers it with 403, so it is never
 * in a series.
 */
export const PROBE_FAILURE_REASONS = {
  dns_error: 'the name does not resolve: check the host spelling and the DNS the exporter uses',
  connection_refused: 'nothing listens on that port: check the port and that the service runs',
  network_unreachable: 'no route to the address: check routing, firewalls, and IPv4/IPv6 reachability',
  connect_timeout: 'the TCP connection was not answered in time: check firewalls dropping packets',
  handshake_timeout: 'the server accepted TCP but did not finish TLS in time: is it TLS on that port?',
  handshake_failed: 'the TLS handshake failed (alert, reset, or not TLS): check protocol versions, ciphers, SNI',
  client_cert_rejected: 'the server refused our client certificate, or its absence: check cert_file is issued by a CA the server trusts, unexpired, and meant for client authentication',
  proxy_failed: 'the HTTP proxy did not open a tunnel to the target: check proxy_url, the proxy\'s rules and credentials (403, 407) and its route to the target (502, 503, 504)',
  starttls_failed: 'the server did not complete the STARTTLS upgrade: check that starttls names the protocol on that port and that the server offers TLS',
  timeout: 'the probe ran out of time: raise timeout or check the slow phase in certexp_probe_duration_seconds',
  address_denied: 'an ad-hoc /probe target resolved to an address probe.deny or the built-in list (loopback, link-local, cloud metadata) refuses; no connection was made: if it is meant to be probed, configure the target or name its address in probe.allow',
} as const;

export type ProbeFailureReason = keyof typeof PROBE_FAILURE_REASONS;

export const PROBE_FAILURE_REASON_NAMES = Object.keys(PROBE_FAILURE_REASONS) as ProbeFailureReason[];

export type ProbePhase = 'dns' | 'connect' | 'starttls' | 'handshake';

/** A probe failure as a value: the reason is decided where the error happens, never parsed from text later. */
export class ProbeError extends Error {
  override readonly name = 'ProbeError';

  constructor(readonly reason: ProbeFailureReason, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

const TIMEOUT_REASON: Readonly<Record<ProbePhase, ProbeFailureReason>> = {
  dns: 'timeout',
  connect: 'connect_timeout',
  // A server that never sends its greeting or its go-ahead is failing the upgrade, whatever the cause.
  starttls: 'starttls_failed',
  handshake: 'handshake_timeout',
};

/**
 * Alerts a server sends about the client's certificate. We never send them ourselves (we accept
 * any server chain and judge it later), so receiving one means the server refused ours.
 */
const CLIENT_CERTIFICATE_ALERTS: ReadonlySet<string> = new Set([
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
]);

/** Connect-phase codes; anything else there means the address cannot be reached. */
const CONNECT_REASONS: Readonly<Record<string, ProbeFailureReason>> = {
  ECONNREFUSED: 'connection_refused',
  ETIMEDOUT: 'connect_timeout',
  // Accepted, then reset at once (a load balancer with no backend): the contract's "reset".
  ECONNRESET: 'handshake_failed',
  EPIPE: 'handshake_failed',
};

/** The one place where operating-system and OpenSSL errors become contract reasons, by phase and code. */
export function classifyError(phase: ProbePhase, error: unknown, timedOut: boolean): ProbeError {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const detail = error instanceof Error ? error.message : String(error);
  if (timedOut) return new ProbeError(TIMEOUT_REASON[phase], `${phase} timed out`, { cause: error });
  let reason: ProbeFailureReason;
  if (phase === 'dns') reason = 'dns_error';
  else if (phase === 'handshake') reason = CLIENT_CERTIFICATE_ALERTS.has(code) ? 'client_cert_rejected' : 'handshake_failed';
  else if (phase === 'starttls') reason = 'starttls_failed';
  else reason = CONNECT_REASONS[code] ?? 'network_unreachable';
  return new ProbeError(reason, `${phase}: ${detail}`, { cause: error });
}
