/**
 * Where a node's entry lives in the `by_change_sharded` index: its partition key `change_shard`.
 * One place computes it, for every write path that stamps `changed_at` and for the reader that
 * queries every shard. Pure: the same host always lands on the same shard for a given count.
 */

/** The change index: partition key `change_shard`, sort key `changed_at`, projection keys + `ver`. */
export const BY_CHANGE_SHARDED = 'by_change_sharded';
export const CHANGE_SHARD_ATTR = 'change_shard';
/**
 * Shards when QM_CHANGE_SHARDS is not set. 100k hosts × 1 report/min + 200 claims/s + 200
 * notifications/s ≈ 2,067 node writes/s, each a delete + put of a < 1 KB entry = 2 WCU:
 * 4,133 WCU/s ÷ 16 ≈ 258 WCU/s per shard, 26 % of a partition's 1,000 (52 % at 2×). docs/scale.md.
 */
export const DEFAULT_CHANGE_SHARDS = 16;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a of the string's UTF-8 bytes (Fowler, Noll, Vo; the public-domain reference's constants). */
export const fnv1a32 = (s: string): number => {
  let h = FNV_OFFSET;
  for (const byte of Buffer.from(s, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h >>> 0;
};

/** The shard of `host` among `shards` (a decimal string, "0" … "shards − 1"). */
export const changeShard = (host: string, shards: number = DEFAULT_CHANGE_SHARDS): string => {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`shards must be a positive integer: ${shards}`);
  return String(fnv1a32(host) % shards);
};

/** Every shard value a reader queries. */
export const allChangeShards = (shards: number = DEFAULT_CHANGE_SHARDS): string[] =>
  Array.from({ length: shards }, (_, i) => String(i));
