import type { Clock } from '../clock';
import { ProbeError } from './probe-failure';
import type { ProbeOutcome, Prober } from './prober';
import { resolveAddresses, type Resolver } from './resolver';

/** More addresses than any load-balanced name should have; the first ones are probed. */
export const MAX_ADDRESSES = 32;

/**
 * The `addresses: all` probe kind: resolves the host to every address (A and AAAA, as the
 * resolver returns them), probes each with `inner` under the same name and settings, all at once
 * within the one signal, and returns every outcome in `everyAddress`. The top-level fields are
 * the first failure's, or the first address's: assessProbe picks the worst after verification.
 */
export function createEveryAddressProber(deps: { readonly resolver: Resolver; readonly clock: Clock; readonly inner: Prober }): Prober {
  const { resolver, clock, inner } = deps;
  return async (request, signal) => {
    const started = clock.monotonic();
    let addresses: readonly string[];
    try {
      addresses = await resolveAddresses(resolver, request.host, signal);
    } catch (error) {
      const failure = error instanceof ProbeError ? error : new ProbeError('dns_error', `dns: ${String(error)}`);
      return { ok: false, reason: failure.reason, error: failure.message, address: undefined, phases: {} };
    }
    const dns = (clock.monotonic() - started) / 1000;
    const unique = [...new Set(addresses)].slice(0, MAX_ADDRESSES);
    // Each address is an IP literal, so the inner probes resolve nothing; the one lookup is the dns phase.
    const outcomes = await Promise.all(unique.map((address) => inner({ ...request, address }, signal)));
    const withDns = outcomes.map((outcome): ProbeOutcome => ({ ...outcome, phases: { ...outcome.phases, dns } }));
    const top = withDns.find((outcome) => !outcome.ok) ?? withDns[0];
    if (top === undefined) throw new Error('resolveAddresses returned no address');
    return { ...top, everyAddress: withDns };
  };
}
