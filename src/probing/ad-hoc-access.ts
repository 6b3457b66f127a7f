/**
 * Which targets /probe may reach that the config does not list. Two checks, because a name is
 * not an address: the target as requested must match `probe.allow` (names by glob, IP literals
 * by range), and every address it leads to must not be denied. The second check runs on what the
 * resolver answered, the addresses actually connected to, so a name allowed by its glob that
 * resolves to a cloud metadata address (DNS rebinding) is refused too.
 */
import { BlockList, isIPv4 } from 'node:net';
import type { AddressRange, PortMatch, ProbeConfig } from '../config/config-types';
import { ProbeError } from './probe-failure';
import type { Resolver } from './resolver';

/**
 * Never connected to for an ad-hoc target unless `probe.allow` names an address inside the range
 * itself: the local host and the cloud metadata services, where a TLS probe learns what a
 * relay must not tell (open ports, certificates, and the way in to credentials). `deny:` adds to
 * these; it cannot remove them.
 */
export const BUILT_IN_DENY: readonly { readonly range: string; readonly what: string }[] = [
  { range: '0.0.0.0/8', what: 'an address of "this network" (0.0.0.0 reaches the local host)' },
  { range: '127.0.0.0/8', what: 'loopback' },
  { range: '::/128', what: 'the unspecified address (reaches the local host)' },
  { range: '::1/128', what: 'loopback' },
  { range: '169.254.0.0/16', what: 'link-local, where cloud metadata services answer (169.254.169.254)' },
  { range: 'fe80::/10', what: 'link-local' },
  { range: 'fd00:ec2::254/128', what: 'the AWS metadata service over IPv6' },
  { range: '100.100.100.200/32', what: 'the Alibaba Cloud metadata service' },
  { range: '168.63.129.16/32', what: 'the Azure host endpoint (WireServer)' },
];

const IPV4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/;

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return isIPv4(address) ? 'ipv4' : 'ipv6';
}

function blockListOf(ranges: readonly AddressRange[]): BlockList {
  const list = new BlockList();
  for (const { address, prefix, family } of ranges) list.addSubnet(address, prefix, family);
  return list;
}

function rangeOf(text: string): AddressRange {
  const [address = '', prefix = ''] = text.split('/');
  return { text, address, prefix: Number(prefix), family: familyOf(address) };
}

/** An IPv4-mapped IPv6 range (::ffff:10.0.0.0/104) as the IPv4 range it is, so containment compares like with like. */
function unmapped(range: AddressRange): AddressRange {
  const mapped = IPV4_MAPPED.exec(range.address);
  return mapped?.[1] !== undefined && range.prefix >= 96 ? { ...range, address: mapped[1], prefix: range.prefix - 96, family: 'ipv4' } : range;
}

function portMatches(match: PortMatch, port: number): boolean {
  return match === 'any' || match === port;
}

const BUILT_IN = BUILT_IN_DENY.map(({ range, what }) => ({ range: rangeOf(range), what, list: blockListOf([rangeOf(range)]) }));

export class AdHocAccess {
  private readonly names: readonly { readonly pattern: RegExp; readonly port: PortMatch }[];
  private readonly ranges: readonly { readonly list: BlockList; readonly port: PortMatch }[];
  private readonly denied: BlockList;
  /** Allowed ranges that lie inside a built-in range: the operator named those addresses on purpose. */
  private readonly lifted: BlockList;

  constructor(probe: Pick<ProbeConfig, 'allow' | 'deny'>) {
    this.names = probe.allow.flatMap((p) => (p.kind === 'name' ? [{ pattern: p.pattern, port: p.port }] : []));
    const ranges = probe.allow.flatMap((p) => (p.kind === 'range' ? [p] : []));
    this.ranges = ranges.map((p) => ({ list: blockListOf([p.range]), port: p.port }));
    this.denied = blockListOf(probe.deny);
    this.lifted = blockListOf(ranges.map((p) => unmapped(p.range)).filter((r) => BUILT_IN.some((b) => r.prefix >= b.range.prefix && b.list.check(r.address, r.family))));
  }

  /**
   * Why `host`:`port` may not be probed ad hoc, or undefined when it may. `host` is as requested
   * (parsed, lowercase, before any DNS): a name is matched by the name globs, an IP literal by
   * the ranges, and a literal must also pass the address check, since no resolver sees it.
   */
  refusal(host: string, port: number, ipLiteral: boolean): string | undefined {
    if (!ipLiteral) return this.names.some((n) => portMatches(n.port, port) && n.pattern.test(host)) ? undefined : 'no probe.allow pattern matches it';
    const family = familyOf(host);
    if (!this.ranges.some((r) => portMatches(r.port, port) && r.list.check(host, family))) return 'no probe.allow pattern matches it';
    return this.deniedAddress(host);
  }

  /** Why an ad-hoc probe must not connect to `address`, or undefined when it may. */
  deniedAddress(address: string): string | undefined {
    const family = familyOf(address);
    if (this.denied.check(address, family)) return `${address} is in probe.deny`;
    const builtIn = BUILT_IN.find((b) => b.list.check(address, family));
    if (builtIn === undefined || this.lifted.check(address, family)) return undefined;
    return `${address} is ${builtIn.what}, never probed unless probe.allow names an address in ${builtIn.range.text}`;
  }
}

/**
 * The resolver of ad-hoc probes: an answer with any denied address fails the probe with
 * address_denied before a connection is opened, whichever phase asked (the target's name, every
 * address of it, a proxy's name). `access` is read at each lookup, so a reload applies at once.
 */
export function guardedResolver(inner: Resolver, access: () => AdHocAccess | undefined): Resolver {
  return async (host) => {
    const addresses = await inner(host);
    // No probe: section any more (a reload during the probe): nothing ad hoc may connect.
    const current = access();
    for (const address of addresses) {
      const why = current === undefined ? 'ad-hoc probes are off (no probe: section)' : current.deniedAddress(address);
      if (why !== undefined) throw new ProbeError('address_denied', `dns: ${host} resolves to ${why}`);
    }
    return addresses;
  };
}
