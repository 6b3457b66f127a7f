import type { Clock } from '../clock';
import type { ChainAnalysis } from '../pki/analyze-chain';
import type { ParsedCertificate } from '../pki/certificate';
import type { CrlMode } from '../pki/crl';
import { checkOcspResponse, type OcspMode } from '../pki/ocsp';
import type { CrlAnswer, CrlClient } from '../probing/crl-client';
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
  /** The CRL check; absent means none. */
  readonly crl?: { readonly mode: CrlMode; readonly client: Pick<CrlClient, 'status'> };
  readonly clock: Clock;
  /** The probe's own deadline: a slow responder eats into the probe's timeout, not beyond it. */
  readonly signal: AbortSignal;
}

interface Revocation {
  readonly ocsp: OcspCheck | undefined;
  readonly crl: CrlAnswer | undefined;
  /** Per revocation server asked and answering, how long it took: the `ocsp` and `crl` phases. */
  readonly seconds: { readonly ocsp?: number; readonly crl?: number };
}

/** The chain's verdict once a revocation check said revoked: not verified, with the reason `revoked`. */
export function markRevoked(chain: ChainAnalysis): ChainAnalysis {
  return chain.reasons.includes('revoked') ? chain : { ...chain, verified: false, reasons: [...chain.reasons, 'revoked' as const].sort() };
}

/** The result with its revocation checks; a leaf either calls revoked fails verification with `revoked`. */
function withRevocation(result: TargetResult, found: Revocation): TargetResult {
  const { chain } = result;
  const revoked = found.ocsp?.status === 'revoked' || found.crl?.status === 'revoked';
  return {
    ...result,
    ...(found.ocsp === undefined ? {} : { ocsp: found.ocsp }),
    ...(found.crl === undefined ? {} : { crl: found.crl }),
    phases: { ...result.phases, ...found.seconds },
    ...(revoked && chain !== undefined ? { chain: markRevoked(chain) } : {}),
  };
}

/** Times one query to a revocation server with the probe's clock. */
async function timed<T>(clock: Clock, query: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = clock.monotonic();
  const value = await query();
  return { value, seconds: (clock.monotonic() - started) / 1000 };
}

/** The stapled response, else (mode `responder`) the answer of the responder the leaf names; seconds only when one was asked. */
interface Checked<T> {
  readonly check?: T;
  readonly seconds?: number;
}

async function ocspCheck(input: RevocationInput, leaf: ParsedCertificate, issuer: ParsedCertificate): Promise<Checked<OcspCheck>> {
  let check: OcspCheck | undefined;
  if (input.stapled !== undefined) check = { ...checkOcspResponse({ response: input.stapled, leaf, issuer, at: input.clock.now() }), source: 'stapled' };
  if (input.mode !== 'responder' || (check !== undefined && check.status !== 'error')) return check === undefined ? {} : { check };
  const { value, seconds } = await timed(input.clock, () => input.client.status(leaf, issuer, input.signal));
  // A leaf that names no responder keeps what the staple said, if anything.
  if (value === undefined) return check === undefined ? {} : { check };
  return { check: { ...value, source: 'responder' }, seconds };
}

/**
 * Adds the leaf's revocation status to a probe's result: OCSP (mode `stapled` or `responder`)
 * and the CRL of its distribution point (crl `distribution_point`), checked side by side with
 * the issuer on the path verification built. A server that is down gives status `error`, never
 * a failed probe; a probe that got no chain keeps the last statuses, as it keeps the last chain.
 */
export async function assessRevocation(input: RevocationInput): Promise<TargetResult> {
  const { result } = input;
  const crlClient = input.crl?.mode === 'distribution_point' ? input.crl.client : undefined;
  if (input.mode === 'none' && crlClient === undefined) return result;
  if (result.failure !== undefined) {
    const { ocsp, crl } = input.previous ?? {};
    return { ...result, ...(ocsp === undefined ? {} : { ocsp }), ...(crl === undefined ? {} : { crl }) };
  }
  const [leaf, issuer] = result.chain?.path ?? [];
  if (leaf === undefined || issuer === undefined) return result;
  const none: Checked<OcspCheck> = {};
  const [ocsp, crl] = await Promise.all([
    input.mode === 'none' ? none : ocspCheck(input, leaf, issuer),
    crlClient === undefined ? undefined : timed(input.clock, () => crlClient.status(leaf, issuer, input.signal)),
  ]);
  const seconds = {
    ...(ocsp.seconds === undefined ? {} : { ocsp: ocsp.seconds }),
    ...(crl?.value === undefined ? {} : { crl: crl.seconds }),
  };
  return withRevocation(result, { ocsp: ocsp.check, crl: crl?.value, seconds });
}
