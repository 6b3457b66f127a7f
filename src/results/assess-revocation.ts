import type { Clock } from '../clock';
import { checkOcspResponse, type OcspMode } from '../pki/ocsp';
import type { OcspClient } from '../probing/ocsp-client';
import type { OcspCheck, TargetResult } from './target-result';

export interface RevocationInput {
  /** The result assessProbe made of this probe. */
  readonly result: TargetResult;
  /** What the server stapled in this probe's handshake. */
  readonly stapled: Buffer | undefined;
  readonly previous: TargetResult | undefined;
  readonly mode: OcspMode;
  readonly client: Pick<OcspClient, 'status'>;
  readonly clock: Clock;
  /** The probe's own deadline: a slow responder eats into the probe's timeout, not beyond it. */
  readonly signal: AbortSignal;
}

/** The result with its OCSP status; a revoked leaf fails verification with `revoked`. */
function withOcsp(result: TargetResult, ocsp: OcspCheck, seconds: number | undefined): TargetResult {
  const { chain } = result;
  const revoked = ocsp.status === 'revoked' && chain !== undefined && !chain.reasons.includes('revoked');
  return {
    ...result,
    ocsp,
    ...(seconds === undefined ? {} : { phases: { ...result.phases, ocsp: seconds } }),
    ...(revoked ? { chain: { ...chain, verified: false, reasons: [...chain.reasons, 'revoked' as const].sort() } } : {}),
  };
}

/**
 * Adds the leaf's revocation status to a probe's result: the stapled response when the server
 * sent one, else (mode `responder`) the answer of the responder the leaf names. The issuer is the
 * one on the path verification built. A responder that is down gives status `error`, never a
 * failed probe; a probe that got no chain keeps the last status, as it keeps the last chain.
 */
export async function assessRevocation(input: RevocationInput): Promise<TargetResult> {
  const { result, clock } = input;
  if (input.mode === 'none') return result;
  if (result.failure !== undefined) return input.previous?.ocsp === undefined ? result : { ...result, ocsp: input.previous.ocsp };
  const [leaf, issuer] = result.chain?.path ?? [];
  if (leaf === undefined || issuer === undefined) return result;
  let check: OcspCheck | undefined;
  if (input.stapled !== undefined) check = { ...checkOcspResponse({ response: input.stapled, leaf, issuer, at: clock.now() }), source: 'stapled' };
  if (input.mode !== 'responder' || (check !== undefined && check.status !== 'error')) return check === undefined ? result : withOcsp(result, check, undefined);
  const started = clock.monotonic();
  const verdict = await input.client.status(leaf, issuer, input.signal);
  const seconds = (clock.monotonic() - started) / 1000;
  // A leaf that names no responder keeps what the staple said, if anything.
  if (verdict !== undefined) check = { ...verdict, source: 'responder' };
  return check === undefined ? result : withOcsp(result, check, seconds);
}
