import { gunzipSync, gzipSync } from 'node:zlib';

import { type DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DecisionRecord, DecisionStore, InstanceClaimRef } from '../../core/ports';

/** DynamoDB items hold 400 KB; leave room for the other attributes. */
const MAX_BODY_BYTES = 380_000;

/**
 * A decision too large even gzipped (a fleet of many thousands, all rejected for
 * distinct reasons): per-host rejections beyond the first 5,000 and ranking
 * entries beyond 100 are dropped, the counts stay, and `truncated` says so.
 */
const shrink = (d: DecisionRecord): DecisionRecord => {
  const entries = Object.entries(d.rejections ?? {});
  return {
    ...d,
    rejections: Object.fromEntries(entries.slice(0, 5000)),
    ranking: (d.ranking ?? []).slice(0, 100),
    truncated: { rejections_total: entries.length, ranking_total: d.ranking?.length ?? 0 },
  };
};

/** The stored form of a decision: gzipped JSON, `expires_at` (epoch s) for TTL. */
export const decisionItem = (
  id: string,
  decision: DecisionRecord,
  ttlS: number,
  nowMs: number,
): Record<string, unknown> => {
  // Level 1: a third of level 6's CPU on the claim path, for a few percent more bytes.
  let body = gzipSync(JSON.stringify(decision), { level: 1 });
  if (body.length > MAX_BODY_BYTES) body = gzipSync(JSON.stringify(shrink(decision)), { level: 1 });
  return { id, body, created_at: new Date(nowMs).toISOString(), expires_at: Math.floor(nowMs / 1000) + ttlS };
};

/**
 * The pointer of an instance uuid to its claim (contract rule 6) lives in the decisions
 * table, under a key no decision id has (ids are uuids): out of the nodes table's scan
 * and its by_change index, and expired by the same TTL.
 */
export const pointerKey = (uuid: string): string => `instance#${uuid}`;

/**
 * A pointer item. A group member's has no `expires_at`: it is how notify finds the
 * group of an instance a report has since absorbed, and it goes when the member leaves.
 */
export const pointerItem = (ref: InstanceClaimRef, ttlS: number, nowMs: number): Record<string, unknown> => ({
  id: pointerKey(ref.instance_uuid),
  host: ref.host,
  claimed_at: ref.claimed_at,
  decision_id: ref.decision_id,
  vcpus: ref.vcpus,
  memory_mb: ref.memory_mb,
  disk_gb: ref.disk_gb,
  ...(ref.group === undefined ? { expires_at: Math.floor(nowMs / 1000) + ttlS } : { group: ref.group }),
});

/** The claim a pointer item names. */
export const refOf = (item: Record<string, unknown>): InstanceClaimRef => ({
  instance_uuid: String(item.id).slice('instance#'.length),
  host: String(item.host),
  claimed_at: String(item.claimed_at),
  ...(item.decision_id === undefined ? {} : { decision_id: String(item.decision_id) }),
  vcpus: Number(item.vcpus ?? 0),
  memory_mb: Number(item.memory_mb ?? 0),
  disk_gb: Number(item.disk_gb ?? 0),
  ...(item.group === undefined ? {} : { group: String(item.group) }),
});

/**
 * Decisions, gzipped JSON in one item each (a 10k-host decision's reasons
 * compress ~10×, under DynamoDB's 400 KB item limit); `expires_at` drives TTL.
 */
export class DynamoDecisionStore implements DecisionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(id: string, decision: DecisionRecord, ttlS: number, nowMs: number): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: decisionItem(id, decision, ttlS, nowMs) }));
  }

  async get(id: string): Promise<DecisionRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true }));
    if (!out.Item) return undefined;
    // TTL deletion lags expiry by up to a day or two: an expired item is gone to the reader.
    if (Number(out.Item.expires_at) * 1000 <= Date.now()) return undefined;
    return JSON.parse(gunzipSync(out.Item.body as Uint8Array).toString('utf8')) as DecisionRecord;
  }

  /** A Scan page of decision items (not the instance pointers), unexpired, created at or after `since`. */
  async list(q: {
    since?: string;
    limit: number;
    after?: string;
  }): Promise<{ decisions: DecisionRecord[]; last?: string }> {
    const out = await this.db.send(
      new ScanCommand({
        TableName: this.table,
        Limit: q.limit,
        ...(q.after ? { ExclusiveStartKey: { id: q.after } } : {}),
        FilterExpression: `NOT begins_with(id, :pointer) AND expires_at > :now${q.since ? ' AND created_at >= :since' : ''}`,
        ExpressionAttributeValues: {
          ':pointer': 'instance#',
          ':now': Math.floor(Date.now() / 1000),
          ...(q.since ? { ':since': q.since } : {}),
        },
      }),
    );
    const decisions = (out.Items ?? []).map((i) => JSON.parse(gunzipSync(i.body as Uint8Array).toString('utf8')));
    const last = out.LastEvaluatedKey?.id;
    return { decisions, ...(typeof last === 'string' ? { last } : {}) };
  }
}
