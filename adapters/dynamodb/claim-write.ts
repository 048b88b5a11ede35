import type { HostClaim, PointerWrite } from '../../core/ports';
import { CHANGE_SHARD_ATTR, changeShard, DEFAULT_CHANGE_SHARDS } from './change-shard';
import { pointerItem } from './decision-store';
import { storedClaim } from './node-item';
import { updateExpression } from './update-expression';

/**
 * The writes a claim is made of, built but not sent (fleet-store.ts sends them, alone or in one
 * transaction): the update of each claimed node item and the guarded pointer of each uuid.
 */

/** Unabsorbed claims one node item may hold (≈ 95 bytes each, node-item.ts `StoredClaim`). */
const MAX_CLAIMS_PER_NODE = 1000;

/** One Update of a TransactWriteItems (or a lone UpdateItem), in the document client's shape. */
export type Update = {
  TableName: string;
  Key: Record<string, unknown>;
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
};

/** One Put of a TransactWriteItems, optionally conditioned. */
export type Put = { TableName: string; Item: Record<string, unknown>; ConditionExpression?: string } & Partial<
  Pick<Update, 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>
>;

/**
 * The conditional update that adds host claim `c` to its node item: the claimed counters may not have
 * grown past the bound the scheduler decided on (`maxClaimedBefore`), the baseline is the one it read,
 * no claimed uuid is there already, and a moved claim (rule 6) is still the very one the pointer names.
 */
export const claimUpdate = (
  table: string,
  c: HostClaim,
  nowMs: number,
  shards: number = DEFAULT_CHANGE_SHARDS,
): Update => {
  const names: Record<string, string> = {
    '#shard': CHANGE_SHARD_ATTR,
    '#claims': 'claims',
    '#cv': 'claimed_vcpus',
    '#cm': 'claimed_memory_mb',
    '#cd': 'claimed_disk_gb',
    '#ver': 'ver',
    '#changed': 'changed_at',
  };
  const releases = c.releases ?? [];
  // A claim that moves away (rule 6) leaves claimed_* as it is: the bounds are relative to the value a
  // scheduler read, and one that still counts the claim (or thinks it expired) stays on the safe side.
  // The next whole-item write recomputes the counters.
  const values: Record<string, unknown> = {
    ':addv': c.add.vcpus,
    ':addm': c.add.memory_mb,
    ':addd': c.add.disk_gb,
    ':one': 1,
    ':now': nowMs,
    ':shard': changeShard(c.host, shards),
  };
  // The shard is set on every write (not if_not_exists): an item written before by_change_sharded,
  // or under another QM_CHANGE_SHARDS, moves to the shard readers query.
  const sets = ['#changed = :now', '#shard = :shard'];
  const removes: string[] = [];
  const conditions: string[] = [];
  if (c.claims.length > 0) {
    Object.assign(names, { '#baseline': 'baseline' });
    Object.assign(values, {
      ':baseline': c.baseline,
      ':maxClaims': MAX_CLAIMS_PER_NODE,
      ':maxv': c.maxClaimedBefore.vcpus,
      ':maxm': c.maxClaimedBefore.memory_mb,
      ':maxd': c.maxClaimedBefore.disk_gb,
    });
    conditions.push(
      '#baseline = :baseline',
      // An item holds 400 KB: a node never carries more than this many unabsorbed claims.
      'size(#claims) < :maxClaims',
      '#cv <= :maxv',
      '#cm <= :maxm',
      '#cd <= :maxd',
    );
  }
  const replaced = new Set(releases.map((r) => r.instance_uuid));
  c.claims.forEach((claim, i) => {
    names[`#u${i}`] = claim.instance_uuid;
    values[`:c${i}`] = storedClaim(claim);
    sets.push(`#claims.#u${i} = :c${i}`);
    if (!replaced.has(claim.instance_uuid)) conditions.push(`attribute_not_exists(#claims.#u${i})`);
  });
  const placed = new Set(c.claims.map((x) => x.instance_uuid));
  releases.forEach((r, i) => {
    // Only the very claim the pointer names: a report, a release or another move may have taken it.
    names[`#r${i}`] = r.instance_uuid;
    names['#at'] = 'at';
    names['#cat'] = 'claimed_at';
    values[`:r${i}`] = Date.parse(r.claimed_at);
    values[`:ri${i}`] = r.claimed_at;
    // Epoch ms as stored now, or the ISO string of a claim written before (node-item.ts `StoredClaim`).
    conditions.push(`(#claims.#r${i}.#at = :r${i} OR #claims.#r${i}.#cat = :ri${i})`);
    if (!placed.has(r.instance_uuid)) removes.push(`#claims.#r${i}`);
  });
  return {
    TableName: table,
    Key: { host: c.host },
    UpdateExpression: updateExpression({
      set: sets,
      remove: removes,
      add: ['#cv :addv', '#cm :addm', '#cd :addd', '#ver :one'],
    }),
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
};

/** One pointer per uuid, conditioned on the value it was read at: concurrent moves of one uuid serialize here. */
export const pointerPuts = (table: string, p: PointerWrite, nowMs: number): Put[] =>
  p.refs.map((ref) => {
    const was = p.expected?.get(ref.instance_uuid) ?? null;
    return {
      TableName: table,
      Item: pointerItem(ref, p.ttlS, nowMs),
      ...(was === null
        ? { ConditionExpression: 'attribute_not_exists(id)' }
        : {
            ConditionExpression: '#did = :did',
            ExpressionAttributeNames: { '#did': 'decision_id' },
            ExpressionAttributeValues: { ':did': was },
          }),
    };
  });
