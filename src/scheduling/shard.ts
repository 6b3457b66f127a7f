/**
 * --shard=i/n: replica i of n schedules the configured targets whose stable hash of the name is
 * i modulo n. Every replica reads the same config and decides alone, so n replicas (a Kubernetes
 * StatefulSet) cover one long list with no coordination, and each target is probed by exactly one.
 */
import { stableHash } from './stable-hash';

export interface Shard {
  /** 0-based, below count. */
  readonly index: number;
  readonly count: number;
}

/** No sharding: one replica schedules every target. */
export const WHOLE: Shard = Object.freeze({ index: 0, count: 1 });

/** More replicas than any list needs; a larger count is a typo. */
export const MAX_SHARDS = 1000;

/** Whether the target named `name` belongs to `shard`. */
export function inShard(name: string, shard: Shard): boolean {
  return stableHash(name) % shard.count === shard.index;
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/**
 * "2/3", or "auto/3" to take the index from the host name's trailing ordinal: a StatefulSet's pod
 * certexp-2 gets shard 2. The message says what to change.
 */
export function parseShard(text: string, hostname: () => string): Shard | { readonly error: string } {
  const match = /^(\d{1,4}|auto)\/(\d{1,4})$/.exec(text);
  const count = Number(match?.[2]);
  if (match === null || count < 1 || count > MAX_SHARDS) {
    return { error: `want INDEX/COUNT (shards numbered from 0, e.g. 2/3) or auto/COUNT, with COUNT from 1 to ${MAX_SHARDS}` };
  }
  let index: number;
  if (match[1] === 'auto') {
    const host = hostname();
    const ordinal = /-(\d{1,4})$/.exec(host);
    if (ordinal === null) return { error: `auto takes the shard from a host name ending in -ORDINAL (a StatefulSet pod, e.g. certexp-2), and this host is ${JSON.stringify(host)}` };
    index = Number(ordinal[1]);
    if (index >= count) return { error: `host ${JSON.stringify(host)} is shard ${index}, and there are only ${count} (0 to ${count - 1}): make COUNT the StatefulSet's replicas` };
  } else {
    index = Number(match[1]);
    if (index >= count) return { error: `the index must be below the count: shards are numbered 0 to ${count - 1}` };
  }
  return Object.freeze({ index, count });
}
