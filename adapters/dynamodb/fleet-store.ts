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
      const r = await this.chunked(hostClaims, group, nowMs);
      if (r.ok && put) await this.db.send(new PutCommand(put));
      return r;
    }
    if (updates.length === 1 && !put) return this.single(updates[0] as Update, hostClaims[0]?.host ?? '');
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [...updates.map((u) => ({ Update: u })), ...(put ? [{ Put: put }] : [])],
        }),
      );
      return { ok: true };
    } catch (e) {
      if (!(e instanceof TransactionCanceledException)) throw e;
      const reasons = e.CancellationReasons ?? [];
      const failed = (i: number) => reasons[i]?.Code === 'ConditionalCheckFailed';
      const conflictHosts = hostClaims.filter((_, i) => failed(i)).map((c) => c.host);
      const groupConflict = group ? failed(hostClaims.length) : false;
      if (conflictHosts.length === 0 && !groupConflict) {
        // Cancelled for another reason (TransactionConflict: a concurrent transaction on the same item): retryable.
        return { ok: false, conflictHosts: hostClaims.map((c) => c.host), groupConflict: false };
      }
      return { ok: false, conflictHosts, groupConflict };
    }
  }

  private async single(update: Update, host: string): Promise<ClaimOutcome> {
    try {
      await this.db.send(new UpdateCommand(update));
      return { ok: true };
    } catch (e) {
      if ((e as Error).name === 'ConditionalCheckFailedException') {
        return { ok: false, conflictHosts: [host], groupConflict: false };
      }
      throw e;
    }
  }

  /** Over 100 items: claim host by host and give back what was taken if one fails. */
  private async chunked(hostClaims: HostClaim[], group: GroupClaim | undefined, nowMs: number): Promise<ClaimOutcome> {
    if (group) {
      const g = await this.single(this.groupUpdate(group, nowMs), groupKey(group.group));
      if (!g.ok) return { ok: false, conflictHosts: [], groupConflict: true };
    }
    const done: HostClaim[] = [];
    for (const c of hostClaims) {
      const r = await this.single(this.claimUpdate(c, nowMs), c.host);
      if (!r.ok) {
        await Promise.all(done.map((d) => this.release(d, nowMs)));
        if (group) await this.releaseGroup(group);
        return r;
      }
      done.push(c);
    }
    return { ok: true };
  }

  private claimUpdate(c: HostClaim, nowMs: number): Update {
    const names: Record<string, string> = {
      '#claims': 'claims',
      '#seq': 'seq',
      '#deleted': 'deleted',
      '#disabled': 'disabled',
      '#cv': 'claimed_vcpus',
      '#cm': 'claimed_memory_mb',
      '#cd': 'claimed_disk_gb',
      '#ver': 'ver',
      '#changed': 'changed_at',
    };
    const values: Record<string, unknown> = {
      ':seq': c.seq,
      ':zero': 0,
      ':false': false,
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
        '#seq = :seq',
        '#deleted = :zero',
        '#disabled = :false',
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

  private async release(c: HostClaim, nowMs: number): Promise<void> {
    const names: Record<string, string> = {
      '#claims': 'claims',
      '#cv': 'claimed_vcpus',
      '#cm': 'claimed_memory_mb',
      '#cd': 'claimed_disk_gb',
      '#ver': 'ver',
      '#changed': 'changed_at',
    };
    const removes: string[] = [];
    const exists: string[] = [];
    c.claims.forEach((claim, i) => {
      names[`#u${i}`] = claim.instance_uuid;
      removes.push(`#claims.#u${i}`);
      exists.push(`attribute_exists(#claims.#u${i})`);
    });
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { host: c.host },
          UpdateExpression: `REMOVE ${removes.join(', ')} SET #changed = :now ADD #cv :v, #cm :m, #cd :d, #ver :one`,
          ConditionExpression: exists.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':v': -c.add.vcpus,
            ':m': -c.add.memory_mb,
            ':d': -c.add.disk_gb,
            ':one': 1,
            ':now': nowMs,
          },
        }),
      );
    } catch (e) {
      // Already absorbed by a report or released: nothing to give back.
      if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
    }
  }

  private async releaseGroup(g: GroupClaim): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { host: groupKey(g.group) },
        UpdateExpression: 'DELETE #hosts :hosts, #members :members',
        ExpressionAttributeNames: { '#hosts': 'hosts', '#members': 'members' },
        ExpressionAttributeValues: { ':hosts': new Set(g.hosts), ':members': new Set(g.instanceUuids) },
      }),
    );
  }
}
