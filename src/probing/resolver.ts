import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { classifyError, ProbeError } from './probe-failure';

/** Name to addresses; injected so tests can answer for names without a DNS server. */
export type Resolver = (host: string) => Promise<readonly string[]>;

/** The system resolver (getaddrinfo), so /etc/hosts and the host's DNS setup apply as for any client. */
export const systemResolver: Resolver = async (host) => {
  const answers = await lookup(host, { all: true });
  return answers.map((a) => a.address);
};

/**
 * Every address of `host` (an IP literal is its own), at least one, or a ProbeError: dns_error,
 * timeout when `signal` ends the wait first, or the resolver's own ProbeError.
 */
export async function resolveAddresses(resolver: Resolver, host: string, signal: AbortSignal): Promise<readonly [string, ...string[]]> {
  // An IP literal needs no lookup, whatever resolver is injected.
  if (isIP(host) !== 0) return [host];
  // getaddrinfo cannot be cancelled; the race bounds our wait, not the lookup thread.
  const addresses = await new Promise<readonly string[]>((resolve, reject) => {
    const onAbort = (): void => { reject(classifyError('dns', signal.reason, true)); };
    if (signal.aborted) { onAbort(); return; }
    signal.addEventListener('abort', onAbort, { once: true });
    // Through then(): a resolver that throws instead of rejecting is still a DNS failure. A
    // ProbeError already has its reason (the guard of ad-hoc probes refusing an address).
    Promise.resolve(host).then(resolver).then(resolve, (error: unknown) => { reject(error instanceof ProbeError ? error : classifyError('dns', error, false)); })
      .finally(() => { signal.removeEventListener('abort', onAbort); });
  });
  const [first, ...rest] = addresses;
  if (first === undefined) throw new ProbeError('dns_error', `dns: ${host} has no addresses`);
  return [first, ...rest];
}
