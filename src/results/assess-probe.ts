import type { Clock } from '../clock';
import type { ChainAnalyzer } from '../pki/analyze-chain';
import type { ChainExpectations } from '../pki/expectations';
import type { VerifyPolicy } from '../pki/path-checks';
import type { TrustStore } from '../pki/trust-store';
import type { ProbeOutcome } from '../probing/prober';
import { combineAddresses } from './combine-addresses';
import type { ProbeFailure, TargetResult } from './target-result';

function failureOf(outcome: ProbeOutcome): ProbeFailure | undefined {
  return outcome.ok ? undefined : { reason: outcome.reason, error: outcome.error };
}

export interface AssessInput {
  readonly target: string;
  readonly serverName: string;
  readonly policy: VerifyPolicy;
  /** The target's pins, allowed issuers and maximum lifetime, when it has any. */
  readonly expectations?: ChainExpectations;
  readonly outcome: ProbeOutcome;
  readonly previous: TargetResult | undefined;
  readonly trust: TrustStore;
  readonly analyzer: ChainAnalyzer;
  readonly clock: Clock;
}

/** Turns a probe's outcome into the target's new result: verifies a received chain, or keeps the last one. */
export function assessProbe(input: AssessInput): TargetResult {
  const { outcome, clock } = input;
  if (outcome.everyAddress !== undefined) {
    // Each address is assessed on its own; a previous chain means nothing for one address.
    return combineAddresses(outcome.everyAddress.map((at) => assessProbe({ ...input, outcome: at, previous: undefined })), input.previous);
  }
  // A failed probe may still have seen the server's chain (a client certificate refused after
  // the server sent it): that chain is verified and reported, with the failure.
  const received = outcome.ok ? outcome : outcome.seen;
  if (received === undefined) {
    return {
      target: input.target,
      finishedAt: clock.now(),
      failure: failureOf(outcome),
      address: outcome.address,
      phases: outcome.phases,
      tls: input.previous?.tls,
      ...(input.previous?.versions === undefined ? {} : { versions: input.previous.versions }),
      chain: input.previous?.chain,
    };
  }
  const started = clock.monotonic();
  const chain = input.analyzer.analyze({
    chain: received.chain, trust: input.trust, serverName: input.serverName, policy: input.policy, at: clock.now(),
    ...(input.expectations === undefined ? {} : { expectations: input.expectations }),
  }, input.previous?.chain);
  return {
    target: input.target,
    finishedAt: clock.now(),
    failure: failureOf(outcome),
    address: outcome.address,
    phases: { ...outcome.phases, verify: (clock.monotonic() - started) / 1000 },
    tls: received.tls,
    ...(outcome.ok && outcome.versions !== undefined ? { versions: outcome.versions } : {}),
    chain,
  };
}
