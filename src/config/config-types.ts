/**
 * The validated configuration the rest of certexp sees. Plain readonly data, so schedulers and
 * probers never depend on the YAML library or on TypeBox; loadConfig freezes every object.
 */

import type { ChainExpectations } from '../pki/expectations';
import type { CrlMode } from '../pki/crl';
import type { OcspMode } from '../pki/ocsp';
import type { VerifyPolicy } from '../pki/path-checks';
import type { StarttlsProtocol } from '../probing/starttls/upgrade';
import type { Secret } from '../web/secret';
import type { RouteSettings } from './route-config';
import type { TlsSettings } from './tls-config';

/**
 * Besides these fields, the TLS settings (offered versions, version checks, client certificate)
 * and the route (an address override, a proxy).
 */
export interface TargetConfig extends TlsSettings, RouteSettings {
  /** The `target` label; default `${host}:${port}`, an IPv6 host in brackets: "[::1]:443". */
  readonly name: string;
  /** DNS name (lowercased, no trailing dot) or IP literal without brackets. */
  readonly host: string;
  readonly port: number;
  /** SNI and the name checked against the certificate; default host. */
  readonly serverName: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Absolute path, resolved relative to the config file's directory (as Prometheus does). */
  readonly caFile?: string;
  /** DER of every certificate in caFile; empty when there is none. Buffers cannot be frozen. */
  readonly caCertificates: readonly Buffer[];
  /** Verification profile: 'web' (default) or 'rfc5280'. */
  readonly policy: VerifyPolicy;
  /** The plain-text protocol upgraded to TLS before the handshake; absent for implicit TLS. */
  readonly starttls?: StarttlsProtocol;
  /** Pins, allowed issuers and maximum lifetime of the leaf; absent when the target expects none. */
  readonly expectations?: ChainExpectations;
  /** How revocation is checked; absent means 'stapled'. */
  readonly ocsp?: OcspMode;
  /** Whether the leaf's CRL is fetched; absent means 'none'. */
  readonly crl?: CrlMode;
  /** 1-based line of the target's entry, so later stages can point people back at the file. */
  readonly line: number;
}

/** One entry of `files:`: certificate files read from disk, each verified as a chain. */
export interface FileSourceConfig {
  /** The `source` label; default the first path as written. */
  readonly name: string;
  /** Absolute paths and globs, resolved against the config file's directory. */
  readonly patterns: readonly string[];
  readonly intervalMs: number;
  /** Absolute path of the extra trust anchors, as for a target. */
  readonly caFile?: string;
  /** DER of every certificate in caFile; empty when there is none. */
  readonly caCertificates: readonly Buffer[];
  readonly policy: VerifyPolicy;
  /** A name every leaf must cover; absent: no name is checked. */
  readonly serverName?: string;
  /** Absolute path of pkcs12_password_file. */
  readonly pkcs12PasswordFile?: string;
  /** Its content, read at (re)load; never logged. */
  readonly pkcs12Password?: Secret;
  /** 1-based line of the entry. */
  readonly line: number;
}

export interface Config {
  /** The path as given to loadConfig. */
  readonly file: string;
  readonly targets: readonly TargetConfig[];
  readonly files: readonly FileSourceConfig[];
}
