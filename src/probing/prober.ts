import type { ProbeFailureReason } from './probe-failure';
import type { StarttlsProtocol } from './starttls/upgrade';

export interface ProbeRequest {
  readonly host: string;
  readonly port: number;
  /** SNI (omitted for IP literals, as RFC 6066 requires) and the name verification checks. */
  readonly serverName: string;
  /** The plain-text protocol to switch to TLS before the handshake; absent for implicit TLS. */
  readonly starttls?: StarttlsProtocol;
}

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
      /** DER OCSP response the server stapled in the handshake; absent when it sent none. */
      readonly ocspResponse?: Buffer;
    }
  | {
      readonly ok: false;
      readonly reason: ProbeFailureReason;
      readonly error: string;
      readonly address: string | undefined;
      readonly phases: PhaseDurations;
    };

/**
 * One probe kind (blackbox_exporter's ProbeFn): I/O only, bounded by `signal`, and it never
 * throws — every failure comes back as an outcome with a reason.
 */
export type Prober = (request: ProbeRequest, signal: AbortSignal) => Promise<ProbeOutcome>;
