import { createHash } from 'node:crypto';

/**
 * The first 32 bits (big-endian) of the SHA-256 of `key` in UTF-8: the same number in every
 * process, version and platform. Probe offsets and shard membership both come from it, so it is
 * part of the contract: changing it moves every target's probe time and its shard on upgrade.
 */
export function stableHash(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0);
}
