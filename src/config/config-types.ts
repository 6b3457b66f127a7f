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
 * What a target inherits or sets besides where it is: timing, trust, checks, the TLS settings
 * (offered versions, version checks, client certificate) and the route (an address override, a
 * proxy). An ad-hoc /probe target gets these from `probe.defaults` over `defaults:`.
 */
export interface TargetSettings extends TlsSettings, RouteSettings {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Absolute path, resolved relative to the config file's directory (as Prometheus does). */
  readonly caFile?: string;
  /** DER of every certificate in caFile; empty when there is none. Buffers cannot be frozen. */
  readonly caCertificates: readonly Buffer[];
  /** Verification profile: 'web' (default) or 'rfc5280'. */
  readonly policy: VerifyPolicy;
  /** Pins, allowed issuers and maximum lifetime of the leaf; absent when the target expects none. */
  readonly expectations?: ChainExpectations;
  /** How revocation is checked; absent means 'stapled'. */
  readonly ocsp?: OcspMode;
  /** Whether the leaf's CRL is fetched; absent means 'none'. */
  readonly crl?: CrlMode;
}

export interface TargetConfig extends TargetSettings {
  /** The `target` label; default `${host}:${port}`, an IPv6 host in brackets: "[::1]:443". */
  readonly name: string;
  /** DNS name (lowercased, no trailing dot) or IP literal without brackets. */
  readonly host: string;
  readonly port: number;
  /** SNI and the name checked against the certificate; default host. */
  readonly serverName: string;
  /** The plain-text protocol upgraded to TLS before the handshake; absent for implicit TLS. */
  readonly starttls?: StarttlsProtocol;
  /** 1-based line of the target's entry, so later stages can point people back at the file; 0 for an ad-hoc target. */
  readonly line: number;
}

/** An IP address and prefix length: 10.0.0.0/8, or a single address at /32 or /128. */
export interface AddressRange {
  /** As written in the file. */
  readonly text: string;
  /** Without brackets, lowercase. */
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

export type PortMatch = number | 'any';

/** One `probe.allow` entry: a name glob, or an address range, each with a port. */
export type ProbeAllowPattern =
  | { readonly text: string; readonly kind: 'name'; readonly pattern: RegExp; readonly port: PortMatch }
  | { readonly text: string; readonly kind: 'range'; readonly range: AddressRange; readonly port: PortMatch };

/** The `probe:` section: targets /probe may probe without their being configured. */
export interface ProbeConfig {
  readonly allow: readonly ProbeAllowPattern[];
  /** Never connected to for an ad-hoc target, besides the built-in ranges. */
  readonly deny: readonly AddressRange[];
  readonly settings: TargetSettings;
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
  /** Absent: /probe answers for configured targets only. */
  readonly probe?: ProbeConfig;
}
