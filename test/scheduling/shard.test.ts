import { parseDaemonFlags, UsageError } from '../../src/cli/daemon-flags';
import { formatShard, inShard, parseShard, WHOLE, type Shard } from '../../src/scheduling/shard';
import { stableHash } from '../../src/scheduling/stable-hash';
import { runOnce } from '../support/process';

const noHost = (): string => { throw new Error('the host name is asked for auto/N only'); };

describe('stableHash', () => {
  it('gives the pinned values (a change would move every target to another shard and probe time on upgrade)', () => {
    // The first four bytes of SHA-256, as `printf %s shop | sha256sum` shows them.
    expect(stableHash('shop')).toBe(0x8d90_01d3);
    expect(stableHash('example.com:443')).toBe(0x2d92_752e);
    expect(stableHash('')).toBe(0xe3b0_c442);
  });
});

describe('parseShard', () => {
  it.each<[string, Shard]>([
    ['0/1', { index: 0, count: 1 }],
    ['2/3', { index: 2, count: 3 }],
    ['0/1000', { index: 0, count: 1000 }],
  ])('reads %s', (text, shard) => {
    expect(parseShard(text, noHost)).toEqual(shard);
  });

  it.each<[string, RegExp]>([
    ['3/3', /index must be below the count: shards are numbered 0 to 2/],
    ['x', /want INDEX\/COUNT/],
    ['1/0', /want INDEX\/COUNT/],
    ['-1/3', /want INDEX\/COUNT/],
    ['1/3/5', /want INDEX\/COUNT/],
    ['0/1001', /COUNT from 1 to 1000/],
    ['', /want INDEX\/COUNT/],
  ])('refuses %j and says what is wanted', (text, message) => {
    const parsed = parseShard(text, noHost);
    expect('error' in parsed ? parsed.error : parsed).toMatch(message);
  });

  it('takes auto/N\'s index from a StatefulSet pod\'s host name', () => {
    expect(parseShard('auto/3', () => 'certexp-2')).toEqual({ index: 2, count: 3 });
    expect(parseShard('auto/3', () => 'certexp-shard-0')).toEqual({ index: 0, count: 3 });
  });

  it('refuses auto/N on a host name without an ordinal, or with one beyond N', () => {
    const none = parseShard('auto/3', () => 'certexp-7d9f8b-x2x4z');
    expect('error' in none ? none.error : none).toMatch(/host name ending in -ORDINAL .* this host is "certexp-7d9f8b-x2x4z"/);
    const beyond = parseShard('auto/3', () => 'certexp-3');
    expect('error' in beyond ? beyond.error : beyond).toMatch(/"certexp-3" is shard 3, and there are only 3 \(0 to 2\)/);
  });
});

describe('inShard', () => {
  it('puts every name in exactly one of n shards', () => {
    for (const count of [1, 2, 3, 7]) {
      const shards = Array.from({ length: count }, (_, index) => ({ index, count }));
      for (let i = 0; i < 500; i++) {
        expect(shards.filter((s) => inShard(`target-${i}`, s))).toHaveLength(1);
      }
    }
    expect(inShard('anything', WHOLE)).toBe(true);
  });

  it('spreads 10,000 names over 3 shards evenly, each within 5 % of a third', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 10_000; i++) {
      const index = [0, 1, 2].find((s) => inShard(`host-${i}.example.com:443`, { index: s, count: 3 }));
      if (index !== undefined) counts[index] = (counts[index] ?? 0) + 1;
    }
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10_000);
    for (const count of counts) {
      expect(Math.abs(count - 10_000 / 3)).toBeLessThan((10_000 / 3) * 0.05);
    }
  });

  it('formats a shard as the flag writes it', () => {
    expect(formatShard({ index: 2, count: 3 })).toBe('2/3');
  });
});

describe('--shard', () => {
  it('defaults to the whole list and reads I/N and auto/N', () => {
    expect(parseDaemonFlags([]).shard).toEqual(WHOLE);
    expect(parseDaemonFlags(['--shard=1/4']).shard).toEqual({ index: 1, count: 4 });
    expect(parseDaemonFlags(['--shard=auto/4'], () => 'certexp-3').shard).toEqual({ index: 3, count: 4 });
  });

  it('is a usage error when malformed, naming the flag', () => {
    expect(() => parseDaemonFlags(['--shard=3/3'])).toThrow(new UsageError('--shard=3/3: the index must be below the count: shards are numbered 0 to 2'));
    expect(() => parseDaemonFlags(['--shard=x'])).toThrow(/^--shard=x: want INDEX\/COUNT/);
  });

  it('makes the process exit 2 with the reason and the usage', () => {
    const result = runOnce(['--shard=3/3', '--config.file=config/certexp.yml']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^certexp: --shard=3\/3: the index must be below the count[\s\S]*--shard=I\/N/);
  });
});
