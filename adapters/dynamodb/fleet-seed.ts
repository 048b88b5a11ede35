/**
 * How a cold schedule container gets the fleet into memory (docs/scale.md, "Cold start"): the
 * snapshot when there is a whole one, else a parallel scan sized to the table; and how the
 * container holding the lease keeps the snapshot fresh.
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Fleet, StoredNode } from '../../core/ports';
import { allPages } from './batch';
import type { FleetSnapshotStore, SnapshotWritten } from './fleet-snapshot';
import { fromItem, isNodeItem } from './node-item';

/** The seam CachedFleet calls on its first refresh: nodes and the time they are complete up to. */
export type FleetSeed = () => Promise<{ asOfMs: number; nodes: StoredNode[] } | undefined>;

/** Table bytes per scan segment: 150 MB (100k × 1.5 KB) gives 10 segments of ~15 1-MB pages each. */
const SEGMENT_TARGET_BYTES = 16 * 1024 * 1024;
const MIN_SEGMENTS = 4;
const MAX_SEGMENTS = 32;

/** Parallel scan segments for a table of `tableBytes`: one per 16 MB, within 4..32. */
export const scanSegments = (tableBytes: number): number =>
  Math.min(MAX_SEGMENTS, Math.max(MIN_SEGMENTS, Math.ceil(tableBytes / SEGMENT_TARGET_BYTES)));

/**
 * Every node item, by a parallel scan with segments sized to the table (DescribeTable's
 * TableSizeBytes, which DynamoDB refreshes about every six hours: good enough for a size), eventually
 * consistent (half the RCU of a consistent scan: the feed read from the scan's start − lookback
 * brings any write the scan saw stale). No projection: the scheduler's node uses every attribute
 * but `shard`.
 */
export const coldScan = async (db: DynamoDBDocumentClient, table: string): Promise<StoredNode[]> => {
  const d = await db.send(new DescribeTableCommand({ TableName: table }));
  const segments = scanSegments(d.Table?.TableSizeBytes ?? 0);
  const parts = await Promise.all(
    Array.from({ length: segments }, (_, segment) =>
      allPages((start) =>
        db.send(
          new ScanCommand({ TableName: table, Segment: segment, TotalSegments: segments, ExclusiveStartKey: start }),
        ),
      ),
    ),
  );
  const nodes: StoredNode[] = [];
  for (const items of parts) for (const item of items) if (isNodeItem(item)) nodes.push(fromItem(item));
  return nodes;
};

/**
 * The seed of a cold container: the snapshot, else the cold scan as of its start. A torn or missing
 * snapshot is logged and scanned around, never an error.
 */
export const fleetSeed =
  (
    snapshots: FleetSnapshotStore,
    scan: () => Promise<StoredNode[]>,
    now: () => number,
    log: (fields: Record<string, unknown>) => void,
  ): FleetSeed =>
  async () => {
    const started = now();
    try {
      const s = await snapshots.read();
      if ('nodes' in s) {
        log({ message: 'fleet from snapshot', nodes: s.nodes.length, bytes: s.bytes, ms: now() - started });
        return { asOfMs: s.asOfMs, nodes: s.nodes };
      }
      log({ message: 'no usable fleet snapshot', reason: s.miss });
    } catch (e) {
      log({ message: 'fleet snapshot unreadable', error: String(e) });
    }
    const asOfMs = now();
    const nodes = await scan();
    log({ message: 'fleet from scan', nodes: nodes.length, ms: now() - started });
    return { asOfMs, nodes };
  };

/**
 * A fleet that, every `everyMs`, after a refresh, writes a snapshot of the copy it just returned —
 * if it holds the writer's lease (taken for twice the period, so one missed turn does not hand it
 * over). The snapshot's as-of is the start of that refresh (the copy holds every write visible in
 * the index by then), taken conservatively as `t0 − ageMs` (t0: before the call, ageMs: at its end).
 * A failed write is logged: the old snapshot stays valid, only older.
 */
export class SnapshottingFleet implements Fleet {
  private lastTurnMs = Number.NEGATIVE_INFINITY;
  /** The last snapshot written, for the bench and the logs. */
  written: SnapshotWritten | undefined;

  constructor(
    private readonly inner: Fleet,
    private readonly snapshots: FleetSnapshotStore,
    private readonly everyMs: number,
    private readonly now: () => number,
    private readonly log: (fields: Record<string, unknown>) => void,
  ) {}

  async refresh(opts?: { fresh?: boolean }): Promise<{ nodes: StoredNode[]; itemsRead: number; ageMs: number }> {
    const t0 = this.now();
    const r = await this.inner.refresh(opts);
    if (this.everyMs > 0 && t0 - this.lastTurnMs >= this.everyMs) {
      this.lastTurnMs = t0;
      try {
        if (await this.snapshots.acquireLease(2 * this.everyMs)) {
          this.written = await this.snapshots.write(r.nodes, t0 - r.ageMs);
          this.log({ message: 'fleet snapshot written', ...this.written, ms: this.now() - t0 });
        }
      } catch (e) {
        this.log({ message: 'fleet snapshot not written', error: String(e) });
      }
    }
    return r;
  }

  update(node: StoredNode): void {
    this.inner.update(node);
  }

  invalidate(hosts?: readonly string[]): void {
    this.inner.invalidate(hosts);
  }
}
