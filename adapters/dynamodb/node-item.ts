import { unmarshall } from '@aws-sdk/util-dynamodb';
import { claimedTotals, type NodeRecord } from '../../core/nodes';
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
 * (the by_change index).
 */
export type NodeItem = NodeRecord & {
  ver: number;
  baseline: number;
  claimed_vcpus: number;
  claimed_memory_mb: number;
  claimed_disk_gb: number;
  shard: string;
  changed_at: number;
};

export const toItem = (record: NodeRecord, ver: number, nowMs: number): NodeItem => {
  const totals = claimedTotals(Object.values(record.claims));
  return {
    ...record,
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
  const { ver, baseline, claimed_vcpus, claimed_memory_mb, claimed_disk_gb, shard, changed_at, ...record } =
    item as unknown as NodeItem;
  return {
    record: record as NodeRecord,
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
