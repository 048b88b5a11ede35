import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
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
import { decisionItem, pointerItem, pointerKey, refOf } from './decision-store';
import { groupHostAttr, groupKey, HOST_ATTR_PREFIX, leaveGroup } from './group-membership';
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

type Put = { TableName: string; Item: Record<string, unknown>; ConditionExpression?: string } & Partial<
  Pick<Update, 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>
>;

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

  async group(group: string): Promise<GroupState> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { host: groupKey(group) }, ConsistentRead: true }),
    );
    const item = out.Item ?? {};
    const hosts = new Map<string, Set<string>>();
    for (const [k, v] of Object.entries(item)) {
      if (k.startsWith(HOST_ATTR_PREFIX) && v instanceof Set) hosts.set(k.slice(HOST_ATTR_PREFIX.length), v);
    }
    return {
      ...(item.policy === 'affinity' || item.policy === 'anti-affinity' ? { policy: item.policy } : {}),
      hosts,
      members: Number(item.member_count ?? 0),
      ver: Number(item.ver ?? 0),
    };
  }

  async instanceClaims(uuids: readonly string[]): Promise<Map<string, InstanceClaimRef>> {
    const found = new Map<string, InstanceClaimRef>();
    if (!this.decisionsTable || uuids.length === 0) return found;
    let keys: Record<string, unknown>[] | undefined = uuids.map((u) => ({ id: pointerKey(u) }));
    for (let attempt = 0; keys && keys.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
      const out = await this.db.send(
        new BatchGetCommand({ RequestItems: { [this.decisionsTable]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of out.Responses?.[this.decisionsTable] ?? []) {
        const ref = refOf(item);
        found.set(ref.instance_uuid, ref);
      }
      keys = out.UnprocessedKeys?.[this.decisionsTable]?.Keys as Record<string, unknown>[] | undefined;
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
    const updates = hostClaims.map((c) => this.claimUpdate(c, nowMs));
    if (group) updates.push(this.groupUpdate(group, nowMs));
    let put: Put | undefined =
      record && this.decisionsTable
        ? { TableName: this.decisionsTable, Item: decisionItem(record.id, record.decision, record.ttlS, nowMs) }
        : undefined;
    // Pointers read before the claim go in its transaction, conditioned on what was read (rule 6).
    const guarded = pointers?.expected ? this.pointerPuts(pointers, nowMs) : [];
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
      const r = await this.single(updates[0] as Update, hostClaims[0]?.host ?? '');
      if (r.ok) await this.keepDecision(put, after, nowMs);
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
      if (late || after) await this.keepDecision(late, after, nowMs);
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

  /** One pointer per uuid, conditioned on the value it was read at: concurrent moves of one uuid serialize here. */
  private pointerPuts(p: PointerWrite, nowMs: number): Put[] {
    return p.refs.map((ref) => {
      const was = p.expected?.get(ref.instance_uuid) ?? null;
      return {
        TableName: this.decisionsTable as string,
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
  }

  /**
   * The decision of a claim that has landed, and the pointers of uuids the
   * server made up. Failing to keep them must not fail the claim (the client
   * would retry and claim twice): it is logged instead.
   */
  private async keepDecision(put: Put | undefined, pointers: PointerWrite | undefined, nowMs: number): Promise<void> {
    if (!this.decisionsTable) return;
    const items = [
      ...(put ? [put.Item] : []),
      ...(pointers?.refs ?? []).map((r) => pointerItem(r, pointers?.ttlS ?? 0, nowMs)),
    ];
    try {
      for (let i = 0; i < items.length; i += 25) {
        let batch: Record<string, unknown>[] | undefined = items.slice(i, i + 25).map((Item) => ({
          PutRequest: { Item },
        }));
        for (let attempt = 0; batch && batch.length > 0; attempt++) {
          if (attempt >= 5) throw new Error(`${batch.length} items unprocessed`);
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
          const out = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.decisionsTable]: batch } }));
          batch = out.UnprocessedItems?.[this.decisionsTable] as Record<string, unknown>[] | undefined;
        }
      }
    } catch (e) {
      console.error(
        JSON.stringify({ level: 'ERROR', message: 'decision not stored', id: put?.Item.id, error: String(e) }),
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
    };
    const sets = ['#changed = :now'];
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
      values[`:c${i}`] = claim;
      sets.push(`#claims.#u${i} = :c${i}`);
      if (!replaced.has(claim.instance_uuid)) conditions.push(`attribute_not_exists(#claims.#u${i})`);
    });
    const placed = new Set(c.claims.map((x) => x.instance_uuid));
    releases.forEach((r, i) => {
      // Only the very claim the pointer names: a report, a release or another move may have taken it.
      names[`#r${i}`] = r.instance_uuid;
      names['#at'] = 'claimed_at';
      values[`:r${i}`] = r.claimed_at;
      conditions.push(`#claims.#r${i}.#at = :r${i}`);
      if (!placed.has(r.instance_uuid)) removes.push(`#claims.#r${i}`);
    });
    return {
      TableName: this.table,
      Key: { host: c.host },
      UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''} ADD #cv :addv, #cm :addm, #cd :addd, #ver :one`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  /**
   * The group item holds each host's members as a top-level string set `h:<host>`
   * (a DELETE of the last member removes it) and their count. Anti-affinity: no
   * picked host may have a set; affinity: every member is on the pick (`count =
   * size(h:<pick>)`) or there are none. A write that also moves members off hosts
   * (rule 6) is conditioned on the version it read instead, and rewrites those sets.
   */
  private groupUpdate(g: GroupClaim, nowMs: number): Update {
    const names: Record<string, string> = {
      '#policy': 'policy',
      '#changed': 'changed_at',
      '#count': 'member_count',
      '#ver': 'ver',
    };
    const joined = [...g.joins.values()].reduce((s, u) => s + u.length, 0);
    const left = [...g.leaves.values()].reduce((s, u) => s + u.length, 0);
    const values: Record<string, unknown> = { ':policy': g.policy, ':now': nowMs, ':one': 1, ':delta': joined - left };
    const conditions = ['(attribute_not_exists(#policy) OR #policy = :policy)'];
    if (joined - left > 0) {
      values[':maxBefore'] = g.maxMembers - (joined - left);
      conditions.push('(attribute_not_exists(#count) OR #count <= :maxBefore)');
    }
    const sets = ['#policy = :policy', '#changed = :now'];
    const adds = ['#count :delta', '#ver :one'];
    const removes: string[] = [];
    const hosts = [...new Set([...g.joins.keys(), ...g.leaves.keys()])];
    const touchesMembers = hosts.some((h) => (g.before.hosts.get(h)?.size ?? 0) > 0 && g.policy === 'anti-affinity');
    if (g.leaves.size > 0 || touchesMembers) {
      // Rare (a member moves): the read is exact, and each touched host's set is written whole.
      if (g.before.ver === 0) conditions.push('attribute_not_exists(#ver)');
      else {
        values[':ver'] = g.before.ver;
        conditions.push('#ver = :ver');
      }
      hosts.forEach((h, i) => {
        names[`#h${i}`] = groupHostAttr(h);
        const next = new Set(g.before.hosts.get(h) ?? []);
        for (const u of g.leaves.get(h) ?? []) next.delete(u);
        for (const u of g.joins.get(h) ?? []) next.add(u);
        if (next.size === 0) removes.push(`#h${i}`);
        else {
          values[`:h${i}`] = next;
          sets.push(`#h${i} = :h${i}`);
        }
      });
    } else {
      hosts.forEach((h, i) => {
        names[`#h${i}`] = groupHostAttr(h);
        values[`:h${i}`] = new Set(g.joins.get(h));
        adds.push(`#h${i} :h${i}`);
        if (g.policy === 'anti-affinity') conditions.push(`attribute_not_exists(#h${i})`);
      });
      if (g.policy === 'affinity') {
        names['#pick'] = groupHostAttr(g.hosts[0] as string);
        values[':zero'] = 0;
        conditions.push('(attribute_not_exists(#count) OR #count = :zero OR #count = size(#pick))');
      }
    }
    return {
      TableName: this.table,
      Key: { host: groupKey(g.group) },
      UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''} ADD ${adds.join(', ')}`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }
}
