/** Narrowing a prober's outcome in tests, failing with what came back instead. */
import type { ProbeOutcome } from '../../src/probing/prober';

export function expectOk(outcome: ProbeOutcome): Extract<ProbeOutcome, { ok: true }> {
  if (!outcome.ok) throw new Error(`expected ok, got ${outcome.reason}: ${outcome.error}`);
  return outcome;
}

export function expectFailure(outcome: ProbeOutcome): Extract<ProbeOutcome, { ok: false }> {
  if (outcome.ok) throw new Error('expected a failure, got ok');
  return outcome;
}
