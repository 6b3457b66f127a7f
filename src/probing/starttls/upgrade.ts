import type { Socket } from 'node:net';
import type { ProbeFailureReason } from '../probe-failure';

/**
 * The protocols certexp can switch to TLS, and the port each listens on for it when the target
 * names none. Submission (587) and implicit-TLS ports need no entry: 587 speaks SMTP, and
 * implicit TLS needs no upgrade at all.
 */
export const STARTTLS_DEFAULT_PORTS = {
  smtp: 25,
  imap: 143,
  pop3: 110,
  ftp: 21,
  ldap: 389,
  xmpp: 5222,
  postgres: 5432,
  mysql: 3306,
} as const;

export type StarttlsProtocol = keyof typeof STARTTLS_DEFAULT_PORTS;

export const STARTTLS_PROTOCOLS = Object.keys(STARTTLS_DEFAULT_PORTS) as StarttlsProtocol[];

/**
 * One protocol's plain-text prelude: speaks on a connected socket until the server agrees to
 * TLS, then leaves the socket with nothing read past the go-ahead, for the TLS handshake.
 * Fails with a ProbeError whose reason is `starttls_failed`; bounded by `signal`.
 */
export type Upgrade = (socket: Socket, serverName: string, signal: AbortSignal) => Promise<void>;

/** How an upgrade's errors read: reason starttls_failed, message "starttls: smtp: ...". */
export function upgradeFailure(protocol: StarttlsProtocol): { readonly reason: ProbeFailureReason; readonly prefix: string } {
  return { reason: 'starttls_failed', prefix: `starttls: ${protocol}` };
}
