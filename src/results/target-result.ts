import type { ChainAnalysis } from '../pki/analyze-chain';
import type { OcspVerdict } from '../pki/ocsp';
import type { CrlAnswer } from '../probing/crl-client';
import type { ProbeFailureReason } from '../probing/probe-failure';
import type { PhaseDurations, TlsFacts, VersionVerdicts } from '../probing/prober';

export interface ProbeFailure {
  readonly reason: ProbeFailureReason;
  readonly error: string;
}

/**
 * What the last probe of one target found. Chain-derived fields come from the last probe that
 * received a chain, so one failed connection does not blank the expiry series and reset the
 * `for:` clock of an alert that is about to fire; `failure` and `finishedAt` say how fresh they are.
 */
export interface TargetResult {
  readonly target: string;
  /** Epoch milliseconds when the latest probe finished. */
  readonly finishedAt: number;
  /** Why the latest probe got no chain; undefined when it got one. */
  readonly failure: ProbeFailure | undefined;
  readonly address: string | undefined;
  /** Seconds per phase of the latest probe. */
  readonly phases: PhaseDurations & { readonly verify?: number; readonly ocsp?: number; readonly crl?: number };
  /** The last completed handshake's protocol and cipher. */
  readonly tls: TlsFacts | undefined;
  /** The last chain received and its verdict. */
  readonly chain: ChainAnalysis | undefined;
  /** Which of the target's check_versions the server accepted, from the last probe that checked. */
  readonly versions?: VersionVerdicts;
  /** With addresses: all, one entry per address of the name; the fields above report the worst. */
  readonly addresses?: readonly AddressResult[];
  /** The leaf's OCSP status, when a staple or the responder gave one for the last chain. */
  readonly ocsp?: OcspCheck;
  /** The leaf's status in the CRL of its distribution point, when the target checks CRLs and the leaf names one. */
  readonly crl?: CrlAnswer;
}

/** An OCSP verdict and where it came from: stapled in the handshake, or asked of the responder. */
export type OcspCheck = OcspVerdict & { readonly source: 'stapled' | 'responder' };

/** With addresses: all, what the last probe found at one address of the target's name. */
export interface AddressResult {
  readonly address: string;
  readonly failure: ProbeFailure | undefined;
  readonly chain: ChainAnalysis | undefined;
}

/** One word for logs: a target (or a file, failing as `read_failed`) is ok, or failing for these reasons. */
export function stateOf(
  result: { readonly failure: { readonly reason: string } | undefined; readonly chain: ChainAnalysis | undefined },
  failed = 'probe_failed',
): string {
  if (result.failure !== undefined) return `${failed}:${result.failure.reason}`;
  if (result.chain === undefined || result.chain.verified) return 'ok';
  return `verify_failed:${result.chain.reasons.join(',')}`;
}
