import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  ChangeRef,
  ClaimOutcome,
  DecisionWrite,
  FleetStore,
  GroupClaim,
  GroupState,
  HostClaim,
  InstanceClaimRef,
  PointerWrite,
  StoredNode,
} from '../../core/ports';
import { allPages, batchGetAll, batchPutAll } from './batch';
import { allChangeShards, BY_CHANGE_SHARDED, CHANGE_SHARD_ATTR, DEFAULT_CHANGE_SHARDS } from './change-shard';
import { claimUpdate, type Put, pointerPuts, type Update } from './claim-write';
import { decisionItems, pointerItem, pointerKey, refOf } from './decision-store';
import { leaveGroup } from './group-membership';
import { groupUpdate, readGroup } from './group-write';
import { fromItem, isNodeItem } from './node-item';

/** DynamoDB's limit of items in one TransactWriteItems. */
const MAX_TRANSACTION_ITEMS = 100;
/**
 * The cold-start read of the whole fleet: SCAN_SEGMENTS segments, SCAN_IN_FLIGHT of them at once.
 * DynamoDB Local's cost of one Scan page grows with its segment's size, and it serves pages one at
 * a time: at 100k nodes, 4 segments at once took 5–7 s a page (past the client's 5 s request
 * timeout, so the cold start never finished); 32 segments, 4 at once, keep each page well under it
 * (bench/fleet.ts). Real DynamoDB reads segments in parallel partitions; more of them cost nothing.
 */
const SCAN_SEGMENTS = 32;
const SCAN_IN_FLIGHT = 4;
/** DynamoDB's limit of keys in one BatchGetItem. */
const MAX_BATCH_GET = 100;

/**
 * The scheduler's view of the nodes table: a full scan at cold start, the
 * by_change_sharded index afterwards (keys and `ver` only; the nodes that
 * changed are then read from the table), and claims as conditional writes —
 * the condition, not the cache, decides whether a host still has room.
 */
export class DynamoFleetStore implements FleetStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** Where a claim's decision record goes, in the same transaction. */
    private readonly decisionsTable?: string,
    /** QM_CHANGE_SHARDS: the change index's shard count, which every writer and the reader share. */
    private readonly shards: number = DEFAULT_CHANGE_SHARDS,
  ) {}

  async scan(): Promise<StoredNode[]> {
    const segments: Record<string, unknown>[][] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: SCAN_IN_FLIGHT }, async () => {
        for (let segment = next++; segment < SCAN_SEGMENTS; segment = next++) {
          segments[segment] = await allPages((start) =>
            this.db.send(
              new ScanCommand({
                TableName: this.table,
                Segment: segment,
                TotalSegments: SCAN_SEGMENTS,
                ExclusiveStartKey: start,
                ConsistentRead: true,
              }),
            ),
          );
        }
      }),
    );
    return segments.flat().filter(isNodeItem).map(fromItem);
  }

  /** Every shard of the change index queried in parallel (eventually consistent, keys and `ver` only). */
  async changedSince(sinceMs: number): Promise<ChangeRef[]> {
    const pages = await Promise.all(
      allChangeShards(this.shards).map((shard) =>
        allPages((start) =>
          this.db.send(
            new QueryCommand({
              TableName: this.table,
              IndexName: BY_CHANGE_SHARDED,
              KeyConditionExpression: '#shard = :shard AND #changed >= :since',
              ExpressionAttributeNames: { '#shard': CHANGE_SHARD_ATTR, '#changed': 'changed_at' },
              ExpressionAttributeValues: { ':shard': shard, ':since': sinceMs },
              ExclusiveStartKey: start,
            }),
          ),
        ),
      ),
    );
    return pages.flat().map((i) => ({ host: String(i.host), ver: Number(i.ver), changedAt: Number(i.changed_at) }));
  }

  async nodes(hosts: readonly string[]): Promise<StoredNode[]> {
    const batches: string[][] = [];
    for (let i = 0; i < hosts.length; i += MAX_BATCH_GET) batches.push(hosts.slice(i, i + MAX_BATCH_GET));
    const items = await Promise.all(
      batches.map((b) =>
        batchGetAll(
          this.db,
          this.table,
          b.map((host) => ({ host })),
        ),
      ),
    );
    return items.flat().filter(isNodeItem).map(fromItem);
  }

  async get(host: string): Promise<StoredNode | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { host }, ConsistentRead: true }));
    return out.Item && isNodeItem(out.Item) ? fromItem(out.Item) : undefined;
  }

  group(group: string): Promise<GroupState> {
    return readGroup(this.db, this.table, group);
  }

  async instanceClaims(uuids: readonly string[]): Promise<Map<string, InstanceClaimRef>> {
    const found = new Map<string, InstanceClaimRef>();
    if (!this.decisionsTable || uuids.length === 0) return found;
    const items = await batchGetAll(
      this.db,
      this.decisionsTable,
      uuids.map((u) => ({ id: pointerKey(u) })),
    );
    for (const item of items) {
      const ref = refOf(item);
      found.set(ref.instance_uuid, ref);
    }
    return found;
  }

  async leaveGroup(group: string, host: string, uuid: string, nowMs: number): Promise<void> {
    await leaveGroup(this.db, this.table, group, host, uuid, nowMs);
  }

  async claim(
    hostClaims: HostClaim[],
    group: GroupClaim | undefined,
    nowMs: number,
    record?: DecisionWrite,
    pointers?: PointerWrite,
  ): Promise<ClaimOutcome> {
    const updates = hostClaims.map((c) => claimUpdate(this.table, c, nowMs, this.shards));
    if (group) updates.push(groupUpdate(this.table, group, nowMs));
    // The decision's head goes with the claim; its pages (a decision of a huge fleet) in a batch after it.
    const stored =
      record && this.decisionsTable ? decisionItems(record.id, record.decision, record.ttlS, nowMs) : undefined;
    let put: Put | undefined = stored ? { TableName: this.decisionsTable as string, Item: stored.head } : undefined;
    const pages = stored?.pages ?? [];
    // Pointers read before the claim go in its transaction, conditioned on what was read (rule 6).
    const guarded = pointers?.expected ? pointerPuts(this.decisionsTable as string, pointers, nowMs) : [];
    const after = pointers && !pointers.expected ? pointers : undefined;
    const items = updates.length + guarded.length;
    if (items > MAX_TRANSACTION_ITEMS) {
      // request.ts caps instances and uuids below this; a bug if reached.
      throw new Error(`a claim of ${items} items does not fit one transaction`);
    }
    let late: Put | undefined;
    if (put && items + 1 > MAX_TRANSACTION_ITEMS) [late, put] = [put, undefined];
    const releases = hostClaims.some((c) => (c.releases?.length ?? 0) > 0);
    if (updates.length === 1 && guarded.length === 0 && !releases) {
      // One host, no group, no uuid of the client's: a plain conditional UpdateItem. Racing claims on
      // one item then queue up and each lands while there is room; as transactions they would
      // cancel each other (TransactionConflict) and herd.
      const r = await this.single(updates[0] as Update, hostClaims[0] as HostClaim);
      if (r.ok) await this.keepDecision(put, after, nowMs, pages);
      return r;
    }
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            ...updates.map((u) => ({ Update: u })),
            ...guarded.map((p) => ({ Put: p })),
            ...(put ? [{ Put: put }] : []),
          ],
        }),
      );
      if (late || after || pages.length > 0) await this.keepDecision(late, after, nowMs, pages);
      return { ok: true };
    } catch (e) {
      if (!(e instanceof TransactionCanceledException)) throw e;
      const codes = (e.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
      // Only lost races are retried; anything else (validation, throttling) is a real error.
      if (codes.some((c) => c !== 'None' && c !== 'ConditionalCheckFailed' && c !== 'TransactionConflict')) throw e;
      const lost = (i: number) => codes[i] === 'ConditionalCheckFailed' || codes[i] === 'TransactionConflict';
      const conflictHosts = hostClaims.filter((_, i) => lost(i)).map((c) => c.host);
      const groupConflict = group ? lost(hostClaims.length) : false;
      const pointerConflict = guarded.some((_, i) => lost(updates.length + i));
      return { ok: false, conflictHosts, groupConflict, pointerConflict };
    }
  }

  /**
   * The decision of a claim that has landed (its head, unless the transaction
   * held it, and its pages), and the pointers of uuids the server made up. Failing to keep them must not fail the claim (the client
   * would retry and claim twice): it is logged instead.
   */
  private async keepDecision(
    put: Put | undefined,
    pointers: PointerWrite | undefined,
    nowMs: number,
    pages: readonly Record<string, unknown>[] = [],
  ): Promise<void> {
    if (!this.decisionsTable) return;
    const items = [
      ...(put ? [put.Item] : []),
      ...pages,
      ...(pointers?.refs ?? []).map((r) => pointerItem(r, pointers?.ttlS ?? 0, nowMs)),
    ];
    try {
      await batchPutAll(this.db, this.decisionsTable, items);
    } catch (e) {
      console.error(
        JSON.stringify({ level: 'ERROR', message: 'decision not stored', id: put?.Item.id, error: String(e) }),
      );
    }
  }

  /**
   * A lone conditional UpdateItem. It asks for the whole item after the write (`ALL_NEW`, which costs
   * no read capacity), so the container's copy gets the node as it is now without a read: when
   * another writer came between the scheduler's read and this write, the copy would otherwise be
   * stale and the next request would read the host back (one BatchGetItem; `bench/claims.ts`:
   * 147 → 167 claims/s, 5.2 → 4.65 ms of CPU per claim). The price is the item's bytes in the
   * response (14 KB on the item-6 host, docs/scale.md "Node items").
   */
  private async single(update: Update, c: HostClaim): Promise<ClaimOutcome> {
    try {
      const out = await this.db.send(new UpdateCommand({ ...update, ReturnValues: 'ALL_NEW' }));
      const after = out.Attributes && isNodeItem(out.Attributes) ? fromItem(out.Attributes) : undefined;
      return { ok: true, ...(after ? { stored: [after] } : {}) };
    } catch (e) {
      if ((e as Error).name === 'ConditionalCheckFailedException') {
        return { ok: false, conflictHosts: [c.host], groupConflict: false };
      }
      throw e;
    }
  }
}
