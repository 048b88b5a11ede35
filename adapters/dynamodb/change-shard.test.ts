import { describe, expect, it } from 'vitest';
import { allChangeShards, changeShard, fnv1a32 } from './change-shard';

describe('fnv1a32', () => {
  it.each([
    // The published FNV-1a 32-bit test vectors (offset basis for the empty string).
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('hashes %j to its reference value', (s, h) => {
    expect(fnv1a32(s)).toBe(h);
  });
});

describe('changeShard', () => {
  it.each([
    // host, shards, FNV-1a(host) mod shards
    ['cn-01', 16, '0'], // 0x2cd42480 mod 16 = 0
    ['compute-00042', 16, '1'], // 0x1ea77551 mod 16 = 1
    ['foobar', 16, '8'], // 0xbf9cf968 mod 16 = 8
    ['foobar', 1, '0'],
    ['a', 7, String(0xe40c292c % 7)],
  ])('puts %s among %i shards in shard %s', (host, shards, shard) => {
    expect(changeShard(host, shards)).toBe(shard);
  });

  it('spreads a fleet about evenly: 10,000 hosts over 16 shards, none above 1.2 × the mean', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const s = changeShard(`compute-${String(i).padStart(5, '0')}`);
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(allChangeShards().sort());
    expect(Math.max(...counts.values())).toBeLessThan(1.2 * (10_000 / 16));
  });

  it('refuses a shard count that is not a positive integer', () => {
    expect(() => changeShard('a', 0)).toThrow(RangeError);
    expect(() => changeShard('a', 1.5)).toThrow(RangeError);
  });
});
