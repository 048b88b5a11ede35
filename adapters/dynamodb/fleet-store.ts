import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ClaimOutcome, DecisionWrite, FleetStore, GroupClaim, HostClaim, StoredNode } from '../../core/ports';
import { decisionItem } from './decision-store';
import { BY_CHANGE, fromItem, isNodeItem, SHARD } from './node-item';

/** DynamoDB's limit of items in one TransactWriteItems. */
const MAX_TRANSACTION_ITEMS = 100;
/** Unabsorbed claims one node item may hold (≈ 200 bytes each). */
const MAX_CLAIMS_PER_NODE = 1000;
/** Parallel scan segments for the cold-start read of the whole fleet. */
const SCAN_SEGMENTS = 4;

type Update = {
  TableName: string;
  Key: Record<string, unknown>;
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
};

const groupKey = (group: string) => `#group#${group}`;

/**
 * The scheduler's view of the nodes table: a full scan at cold start, the
 * by_change index afterwards, and claims as conditional writes — the
 * condition, not the cache, decides whether a host still has room.
 */
export class DynamoFleetStore implements FleetStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** Where a claim's decision record goes, in the same transaction. */
    private readonly decisionsTable?: string,
  ) {}

  async scan(): Promise<StoredNode[]> {
    const segments = await Promise.all(
      Array.from({ length: SCAN_SEGMENTS }, async (_, segment) => {
        const nodes: StoredNode[] = [];
        let start: Record<string, unknown> | undefined;
        do {
          const out = await this.db.send(
            new ScanCommand({
              TableName: this.table,
              Segment: segment,
              TotalSegments: SCAN_SEGMENTS,
              ExclusiveStartKey: start,
              ConsistentRead: true,
            }),
          );
          for (const item of out.Items ?? []) if (isNodeItem(item)) nodes.push(fromItem(item));
          start = out.LastEvaluatedKey;
        } while (start);
        return nodes;
      }),
    );
    return segments.flat();
  }

  async changedSince(sinceMs: number): Promise<StoredNode[]> {
    const nodes: StoredNode[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: BY_CHANGE,
          KeyConditionExpression: '#shard = :shard AND #changed >= :since',
          ExpressionAttributeNames: { '#shard': 'shard', '#changed': 'changed_at' },
          ExpressionAttributeValues: { ':shard': SHARD, ':since': sinceMs },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) nodes.push(fromItem(item));
      start = out.LastEvaluatedKey;
    } while (start);
    return nodes;
  }

  async get(host: string): Promise<StoredNode | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { host }, ConsistentRead: true }));
    return out.Item && isNodeItem(out.Item) ? fromItem(out.Item) : undefined;
  }

  async groupHosts(group: string): Promise<string[]> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { host: groupKey(group) }, ConsistentRead: true }),
    );
    const hosts = out.Item?.hosts as Set<string> | undefined;
    return hosts ? [...hosts] : [];
  }

  async claim(
    hostClaims: HostClaim[],
    group: GroupClaim | undefined,
    nowMs: number,
    record?: DecisionWrite,
  ): Promise<ClaimOutcome> {
    const updates = hostClaims.map((c) => this.claimUpdate(c, nowMs));
    if (group) updates.push(this.groupUpdate(group, nowMs));
    const put =
      record && this.decisionsTable
        ? { TableName: this.decisionsTable, Item: decisionItem(record.id, record.decision, record.ttlS, nowMs) }
        : undefined;
    if (updates.length + (put ? 1 : 0) > MAX_TRANSACTION_ITEMS) {
      // request.ts caps num_instances well below this; a bug if reached.
      throw new Error(`a claim of ${updates.length} items does not fit one transaction`);
    }
    if (updates.length === 1) {
      // One host, no group: a plain conditional UpdateItem. Racing claims on one
      // item then queue up and each lands while there is room; as transactions
      // they would cancel each other (TransactionConflict) and herd.
      const r = await this.single(updates[0] as Update, hostClaims[0]?.host ?? '');
      if (r.ok && put) await this.keepDecision(put);
      return r;
    }
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [...updates.map((u) => ({ Update: u })), ...(put ? [{ Put: put }] : [])],
        }),
      );
      return { ok: true };
    } catch (e) {
      if (!(e instanceof TransactionCanceledException)) throw e;
      const codes = (e.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
      // Only lost races are retried; anything else (validation, throttling) is a real error.
      if (codes.some((c) => c !== 'None' && c !== 'ConditionalCheckFailed' && c !== 'TransactionConflict')) throw e;
      const lost = (i: number) => codes[i] === 'ConditionalCheckFailed' || codes[i] === 'TransactionConflict';
      const conflictHosts = hostClaims.filter((_, i) => lost(i)).map((c) => c.host);
      const groupConflict = group ? lost(hostClaims.length) : false;
      return { ok: false, conflictHosts, groupConflict };
    }
  }

  /**
   * The decision of a claim that has landed. Failing to keep it must not fail
   * the claim (the client would retry and claim twice): it is logged instead.
   */
  private async keepDecision(put: { TableName: string; Item: Record<string, unknown> }): Promise<void> {
    try {
      await this.db.send(new PutCommand(put));
    } catch (e) {
      console.error(
        JSON.stringify({ level: 'ERROR', message: 'decision not stored', id: put.Item.id, error: String(e) }),
      );
    }
  }

  private async single(update: Update, host: string): Promise<ClaimOutcome> {
    try {
      const out = await this.db.send(new UpdateCommand({ ...update, ReturnValues: 'ALL_NEW' }));
      return {
        ok: true,
        ...(out.Attributes && isNodeItem(out.Attributes) ? { stored: [fromItem(out.Attributes)] } : {}),
      };
    } catch (e) {
      if ((e as Error).name === 'ConditionalCheckFailedException') {
        return { ok: false, conflictHosts: [host], groupConflict: false };
      }
      throw e;
    }
  }

  private claimUpdate(c: HostClaim, nowMs: number): Update {
    const names: Record<string, string> = {
      '#claims': 'claims',
      '#baseline': 'baseline',
      '#cv': 'claimed_vcpus',
      '#cm': 'claimed_memory_mb',
      '#cd': 'claimed_disk_gb',
      '#ver': 'ver',
      '#changed': 'changed_at',
    };
    const values: Record<string, unknown> = {
      ':baseline': c.baseline,
      ':maxClaims': MAX_CLAIMS_PER_NODE,
      ':maxv': c.maxClaimedBefore.vcpus,
      ':maxm': c.maxClaimedBefore.memory_mb,
      ':maxd': c.maxClaimedBefore.disk_gb,
      ':addv': c.add.vcpus,
      ':addm': c.add.memory_mb,
      ':addd': c.add.disk_gb,
      ':one': 1,
      ':now': nowMs,
    };
    const sets = ['#changed = :now'];
    const absent: string[] = [];
    c.claims.forEach((claim, i) => {
      names[`#u${i}`] = claim.instance_uuid;
      values[`:c${i}`] = claim;
      sets.push(`#claims.#u${i} = :c${i}`);
      absent.push(`attribute_not_exists(#claims.#u${i})`);
    });
    return {
      TableName: this.table,
      Key: { host: c.host },
      UpdateExpression: `SET ${sets.join(', ')} ADD #cv :addv, #cm :addm, #cd :addd, #ver :one`,
      ConditionExpression: [
        '#baseline = :baseline',
        // An item holds 400 KB: a node never carries more than this many unabsorbed claims.
        'size(#claims) < :maxClaims',
        '#cv <= :maxv',
        '#cm <= :maxm',
        '#cd <= :maxd',
        ...absent,
      ].join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  /**
   * The group item holds the set of hosts with members. Anti-affinity: none of
   * the picked hosts may be in it; affinity: it is empty or exactly the pick.
   */
  private groupUpdate(g: GroupClaim, nowMs: number): Update {
    const names = { '#hosts': 'hosts', '#members': 'members', '#policy': 'policy', '#changed': 'changed_at' };
    const values: Record<string, unknown> = {
      ':hosts': new Set(g.hosts),
      ':members': new Set(g.instanceUuids),
      ':policy': g.policy,
      ':now': nowMs,
    };
    const conditions = ['(attribute_not_exists(#policy) OR #policy = :policy)'];
    if (g.policy === 'anti-affinity') {
      g.hosts.forEach((h, i) => {
        values[`:h${i}`] = h;
        conditions.push(`NOT contains(#hosts, :h${i})`);
      });
    } else {
      values[':h0'] = g.hosts[0];
      values[':one'] = 1;
      conditions.push('(attribute_not_exists(#hosts) OR (size(#hosts) = :one AND contains(#hosts, :h0)))');
    }
    return {
      TableName: this.table,
      Key: { host: groupKey(g.group) },
      UpdateExpression: 'ADD #hosts :hosts, #members :members SET #policy = :policy, #changed = :now',
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }
}
