import type { ChainAnalysis } from '../pki/analyze-chain';
import type { AddressResult, TargetResult } from './target-result';

/** Compares by failure, then verification, then expiry: negative when `a` is worse than `b`. */
function compare(a: TargetResult, b: TargetResult, byFailure: boolean): number {
  const failed = (r: TargetResult): number => (byFailure && r.failure !== undefined ? 0 : 1);
  const verified = (r: TargetResult): number => (r.chain?.verified === true ? 1 : 0);
  const expiry = (r: TargetResult): number => r.chain?.earliestNotAfter ?? Number.POSITIVE_INFINITY;
  return failed(a) - failed(b) || verified(a) - verified(b) || expiry(a) - expiry(b);
}

/** The worst of `results` by `compare`; the first address wins a tie, so series stay put. */
function worstOf(results: readonly TargetResult[], byFailure: boolean): TargetResult | undefined {
  return results.reduce<TargetResult | undefined>((worst, r) => (worst === undefined || compare(r, worst, byFailure) < 0 ? r : worst), undefined);
}

function addressResult(r: TargetResult): AddressResult {
  return { address: r.address ?? '', failure: r.failure, chain: r.chain };
}

/**
 * The target's result from one result per address of its name (addresses: all). The target
 * reports the worst address: a failed probe first, then a chain that does not verify, then the
 * earliest expiry. The chain series come from the worst address that got a chain, so a node that
 * is down does not hide an expiring certificate on another; when none got one, from the last probe.
 */
export function combineAddresses(results: readonly TargetResult[], previous: TargetResult | undefined): TargetResult {
  const worst = worstOf(results, true);
  if (worst === undefined) throw new Error('combineAddresses needs at least one address');
  const withChain = worstOf(results.filter((r) => r.chain !== undefined), false);
  const chain: ChainAnalysis | undefined = withChain?.chain ?? previous?.chain;
  const tls = withChain?.tls ?? previous?.tls;
  const versions = withChain === undefined ? previous?.versions : withChain.versions;
  return {
    target: worst.target,
    finishedAt: worst.finishedAt,
    failure: worst.failure,
    address: worst.address,
    phases: worst.phases,
    chain,
    tls,
    ...(versions === undefined ? {} : { versions }),
    addresses: results.map(addressResult),
  };
}
