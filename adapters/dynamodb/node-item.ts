import { unmarshall } from '@aws-sdk/util-dynamodb';
import { storedPending } from '../../core/ledger/usage';
import type { Claim, LedgerInstance, NodeRecord, Usage } from '../../core/node/record';

type LedgerInstanceRead = Usage & { at?: string; o?: number; u?: string };

import type { StoredNode } from '../../core/ports';
import { changeShard, DEFAULT_CHANGE_SHARDS } from './change-shard';

/** Items whose key starts with `#` are bookkeeping (the id counter, server groups), never nodes. */
export const META_PREFIX = '#';

/**
 * A reported instance as the item keeps it, under its lowercase uuid in `inst`: the sizes (an event
 * tests `inst.<uuid>` and moves counters by `inst.<uuid>.<size>`), its place in the report's list
 * (`o`) and its uuid as reported when that is not the key (`u`). The list itself is not stored twice.
 */
export type StoredInstance = Usage & { o: number; u?: string };

/**
 * A claim as the item keeps it, under its uuid in `claims`: the uuid is not repeated inside, and
 * its times are epoch ms (8 bytes each against 24 for an ISO string). `confirmed_at` is set by
 * notify (core/ledger/change.ts) as an ISO string. About 95 bytes an entry against 191.
 */
export type StoredClaim = Usage & { at: number; exp: number; group?: string; confirmed_at?: string };

/** The stored form of claim `c` (claim-write.ts writes it, toItem rewrites every claim so). */
export const storedClaim = (c: Claim): StoredClaim => ({
  vcpus: c.vcpus,
  memory_mb: c.memory_mb,
  disk_gb: c.disk_gb,
  at: Date.parse(c.claimed_at),
  exp: Date.parse(c.expires_at),
  ...(c.group === undefined ? {} : { group: c.group }),
  ...(c.confirmed_at === undefined ? {} : { confirmed_at: c.confirmed_at }),
});

const iso = (ms: unknown, legacy: unknown): string =>
  typeof ms === 'number' || typeof ms === 'bigint' ? new Date(Number(ms)).toISOString() : String(legacy);

/** A stored claim read back; items written before this layout hold `instance_uuid`, `claimed_at`, `expires_at`. */
const claimOf = (uuid: string, v: Record<string, unknown>): Claim => ({
  instance_uuid: uuid,
  vcpus: Number(v.vcpus),
  memory_mb: Number(v.memory_mb),
  disk_gb: Number(v.disk_gb),
  ...(v.group === undefined ? {} : { group: String(v.group) }),
  claimed_at: iso(v.at, v.claimed_at),
  expires_at: iso(v.exp, v.expires_at),
  ...(v.confirmed_at === undefined ? {} : { confirmed_at: String(v.confirmed_at) }),
});

/** The `inst` map of a report's instances; the list is rebuilt from it in its order (`instancesOf`). */
const instOf = (instances: NodeRecord['instances']): Record<string, StoredInstance> => {
  const inst: Record<string, StoredInstance> = {};
  instances.forEach((i, o) => {
    const key = i.uuid.toLowerCase();
    inst[key] = {
      vcpus: i.vcpus,
      memory_mb: i.memory_mb,
      disk_gb: i.disk_gb,
      o,
      ...(key === i.uuid ? {} : { u: i.uuid }),
    };
  });
  return inst;
};

const instancesOf = (inst: Record<string, Record<string, unknown>>): NodeRecord['instances'] =>
  Object.entries(inst)
    .sort(([, a], [, b]) => Number(a.o) - Number(b.o))
    .map(([key, i]) => ({
      uuid: i.u === undefined ? key : String(i.u),
      vcpus: Number(i.vcpus),
      memory_mb: Number(i.memory_mb),
      disk_gb: Number(i.disk_gb),
    }));

/**
 * A node item: the record's columns plus bookkeeping — `ver` (bumped by every
 * write: optimistic concurrency), `claimed_*` (sums of the claims map, so a
 * claim's condition can bound them without reading), and `change_shard`/`changed_at`
 * (the by_change_sharded index, change-shard.ts). The `claimed_*` counters hold everything the ledger adds to the
 * measured usage (claims + announced − released, `storedPending`): claims and events move
 * them with arithmetic in their update expressions, whole-item writes recompute them.
 */
export type NodeItem = Omit<NodeRecord, 'instances' | 'claims'> & {
  /** The last report's instances by uuid, so an event's condition can test `attribute_exists(inst.<uuid>)`. */
  inst: Record<string, StoredInstance>;
  claims: Record<string, StoredClaim>;
  ver: number;
  baseline: number;
  claimed_vcpus: number;
  claimed_memory_mb: number;
  claimed_disk_gb: number;
  change_shard: string;
  changed_at: number;
};

export const toItem = (
  record: NodeRecord,
  ver: number,
  nowMs: number,
  shards: number = DEFAULT_CHANGE_SHARDS,
): NodeItem => {
  const totals = storedPending(record);
  const { instances, claims, ...columns } = record;
  return {
    ...columns,
    claims: Object.fromEntries(Object.entries(claims).map(([u, c]) => [u, storedClaim(c)])),
    // A Map marshals any key (an object with an own `constructor` key makes the SDK's marshall throw).
    metadata: new Map(Object.entries(record.metadata)) as unknown as Record<string, string>,
    inst: instOf(instances),
    ver,
    // Whole-item writes (report, patch, delete) set the baseline that claims are conditioned on.
    baseline: ver,
    claimed_vcpus: totals.vcpus,
    claimed_memory_mb: totals.memory_mb,
    claimed_disk_gb: totals.disk_gb,
    change_shard: changeShard(record.host, shards),
    changed_at: nowMs,
  };
};

export const fromItem = (item: Record<string, unknown>): StoredNode => {
  // `shard` is the attribute of the single-partition index items written before by_change_sharded carry.
  const { inst, ver, baseline, claimed_vcpus, claimed_memory_mb, claimed_disk_gb, change_shard, changed_at, ...all } =
    item as unknown as NodeItem & { shard?: string };
  const { shard: _old, ...rest } = all;
  const { instances, claims, ...columns } = rest as unknown as NodeRecord & { instances?: NodeRecord['instances'] };
  // Items written before this layout keep the list beside `inst`.
  const record = {
    ...columns,
    instances: instances ?? instancesOf((inst ?? {}) as unknown as Record<string, Record<string, unknown>>),
    claims: {},
  } as NodeRecord;
  for (const [u, c] of Object.entries(claims ?? {}))
    record.claims[u] = claimOf(u, c as unknown as Record<string, unknown>);
  record.announced ??= {};
  record.released ??= {};
  record.gone ??= {};
  // A release of a reported instance copies its `inst` entry, which has no time (the tombstone has
  // it) and carries the entry's bookkeeping (`o`, `u`), which is not the ledger's.
  for (const [uuid, r] of Object.entries(record.released)) {
    const { o: _o, u: _u, ...sizes } = r as LedgerInstanceRead;
    sizes.at ??= record.gone[uuid] ?? record.updated_at;
    record.released[uuid] = sizes as LedgerInstance;
  }
  record.drift ??= [];
  return {
    record,
    ver: Number(ver),
    baseline: Number(baseline ?? 0),
    changedAt: Number(changed_at ?? 0),
    claimed: {
      vcpus: Number(claimed_vcpus ?? 0),
      memory_mb: Number(claimed_memory_mb ?? 0),
      disk_gb: Number(claimed_disk_gb ?? 0),
    },
  };
};

/** For items returned raw (ConditionalCheckFailed, cancellation reasons). */
export const fromRawItem = (item: Record<string, unknown>): StoredNode =>
  fromItem(unmarshall(item as Parameters<typeof unmarshall>[0]));

export const isNodeItem = (item: Record<string, unknown>): boolean => !String(item.host).startsWith(META_PREFIX);
