import type { HttpProxy } from './http-connect';
import type { ProbeFailureReason } from './probe-failure';
import type { SecureVersion } from 'node:tls';
import type { ClientCertificate } from './secure-contexts';
import type { StarttlsProtocol } from './starttls/upgrade';

export interface ProbeRequest {
  readonly host: string;
  readonly port: number;
  /** SNI (omitted for IP literals, as RFC 6066 requires) and the name verification checks. */
  readonly serverName: string;
  /** Connect here instead of to `host`'s addresses (an IP literal or another name); SNI stays serverName. */
  readonly address?: string;
  /** Reach the target through this HTTP proxy's CONNECT tunnel. */
  readonly proxy?: HttpProxy;
  /** Probe every address of `host`, each under the same name (src/probing/every-address.ts). */
  readonly everyAddress?: boolean;
  /** The plain-text protocol to switch to TLS before the handshake; absent for implicit TLS. */
  readonly starttls?: StarttlsProtocol;
  /** Lowest and highest TLS version offered; by default TLS 1.0 to 1.3, to see what the server picks. */
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
  /** Presented when the server asks for one (mutual TLS). */
  readonly clientCertificate?: ClientCertificate;
  /** Versions to try one at a time after a successful probe, each in a handshake of its own. */
  readonly checkVersions?: readonly SecureVersion[];
}

/** Per checked version, whether the server completed a handshake limited to it. */
export type VersionVerdicts = Partial<Record<SecureVersion, boolean>>;

export interface TlsFacts {
  readonly version: string;
  readonly cipher: string;
}

/** Seconds per phase; a phase is absent when the probe did not reach it (starttls: or had none). */
export type PhaseDurations = Partial<Record<'dns' | 'connect' | 'starttls' | 'handshake', number>>;

export type ProbeOutcome =
  | {
      readonly ok: true;
      readonly address: string;
      /** DER of every certificate the server presented, in its order, leaf first. */
      readonly chain: readonly Buffer[];
      readonly tls: TlsFacts;
      readonly phases: PhaseDurations;
      /** The answers to request.checkVersions; a version whose check could not connect is absent. */
      readonly versions?: VersionVerdicts;
      /** With request.everyAddress: the outcome at each address, this one among them. */
      readonly everyAddress?: readonly ProbeOutcome[];
      /** DER OCSP response the server stapled in the handshake; absent when it sent none. */
      readonly ocspResponse?: Buffer;
    }
  | {
      readonly ok: false;
      readonly reason: ProbeFailureReason;
      readonly error: string;
      readonly address: string | undefined;
      readonly phases: PhaseDurations;
      /** The chain and TLS facts the handshake showed before the failure (a client certificate refused after them). */
      readonly seen?: { readonly chain: readonly Buffer[]; readonly tls: TlsFacts };
      /** With request.everyAddress: the outcome at each address, this one among them. */
      readonly everyAddress?: readonly ProbeOutcome[];
    };

/**
 * One probe kind (blackbox_exporter's ProbeFn): I/O only, bounded by `signal`, and it never
 * throws — every failure comes back as an outcome with a reason.
 */
export type Prober = (request: ProbeRequest, signal: AbortSignal) => Promise<ProbeOutcome>;
