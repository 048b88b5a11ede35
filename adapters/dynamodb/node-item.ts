import { unmarshall } from '@aws-sdk/util-dynamodb';
import { reportedByUuid } from '../../core/ledger/steps';
import { storedPending } from '../../core/ledger/usage';
import type { NodeRecord, Usage } from '../../core/node/record';
import type { StoredNode } from '../../core/ports';

/** Items whose key starts with `#` are bookkeeping (the id counter, server groups), never nodes. */
export const META_PREFIX = '#';
/** The single partition of the `by_change` index (one fleet fits one partition's 1,000 writes/s). */
export const SHARD = 'n';
export const BY_CHANGE = 'by_change';

/**
 * A node item: the record's columns plus bookkeeping — `ver` (bumped by every
 * write: optimistic concurrency), `claimed_*` (sums of the claims map, so a
 * claim's condition can bound them without reading), and `shard`/`changed_at`
 * (the by_change index). The `claimed_*` counters hold everything the ledger adds to the
 * measured usage (claims + announced − released, `storedPending`): claims and events move
 * them with arithmetic in their update expressions, whole-item writes recompute them.
 */
export type NodeItem = NodeRecord & {
  /** The last report's instances by uuid, so an event's condition can test `attribute_exists(inst.<uuid>)`. */
  inst: Record<string, Usage>;
  ver: number;
  baseline: number;
  claimed_vcpus: number;
  claimed_memory_mb: number;
  claimed_disk_gb: number;
  shard: string;
  changed_at: number;
};

export const toItem = (record: NodeRecord, ver: number, nowMs: number): NodeItem => {
  const totals = storedPending(record);
  return {
    ...record,
    // A Map marshals any key (an object with an own `constructor` key makes the SDK's marshall throw).
    metadata: new Map(Object.entries(record.metadata)) as unknown as Record<string, string>,
    inst: reportedByUuid(record.instances),
    ver,
    // Whole-item writes (report, patch, delete) set the baseline that claims are conditioned on.
    baseline: ver,
    claimed_vcpus: totals.vcpus,
    claimed_memory_mb: totals.memory_mb,
    claimed_disk_gb: totals.disk_gb,
    shard: SHARD,
    changed_at: nowMs,
  };
};

export const fromItem = (item: Record<string, unknown>): StoredNode => {
  const { inst, ver, baseline, claimed_vcpus, claimed_memory_mb, claimed_disk_gb, shard, changed_at, ...rest } =
    item as unknown as NodeItem;
  const record = rest as NodeRecord;
  record.announced ??= {};
  record.released ??= {};
  record.gone ??= {};
  // A release of a reported instance copies its `inst` entry, which has no time: the tombstone has it.
  for (const [uuid, r] of Object.entries(record.released)) r.at ??= record.gone[uuid] ?? record.updated_at;
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
