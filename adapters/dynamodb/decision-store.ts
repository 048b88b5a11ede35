import { gunzipSync, gzipSync } from 'node:zlib';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DecisionStore } from '../../core/ports';

/** DynamoDB items hold 400 KB; leave room for the other attributes. */
const MAX_BODY_BYTES = 380_000;

/**
 * A decision too large even gzipped (a fleet of many thousands, all rejected for
 * distinct reasons): per-host rejections beyond the first 5,000 and ranking
 * entries beyond 100 are dropped, the counts stay, and `truncated` says so.
 */
const shrink = (decision: unknown): unknown => {
  const d = decision as { rejections?: Record<string, unknown>; ranking?: unknown[] };
  const entries = Object.entries(d.rejections ?? {});
  return {
    ...d,
    rejections: Object.fromEntries(entries.slice(0, 5000)),
    ranking: (d.ranking ?? []).slice(0, 100),
    truncated: { rejections_total: entries.length, ranking_total: d.ranking?.length ?? 0 },
  };
};

/** The stored form of a decision: gzipped JSON, `expires_at` (epoch s) for TTL. */
export const decisionItem = (id: string, decision: unknown, ttlS: number, nowMs: number): Record<string, unknown> => {
  // Level 1: a third of level 6's CPU on the claim path, for a few percent more bytes.
  let body = gzipSync(JSON.stringify(decision), { level: 1 });
  if (body.length > MAX_BODY_BYTES) body = gzipSync(JSON.stringify(shrink(decision)), { level: 1 });
  return { id, body, created_at: new Date(nowMs).toISOString(), expires_at: Math.floor(nowMs / 1000) + ttlS };
};

/**
 * Decisions, gzipped JSON in one item each (a 10k-host decision's reasons
 * compress ~10×, under DynamoDB's 400 KB item limit); `expires_at` drives TTL.
 */
export class DynamoDecisionStore implements DecisionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(id: string, decision: unknown, ttlS: number, nowMs: number): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: decisionItem(id, decision, ttlS, nowMs) }));
  }

  async get(id: string): Promise<unknown | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true }));
    if (!out.Item) return undefined;
    // TTL deletion lags expiry by up to a day or two: an expired item is gone to the reader.
    if (Number(out.Item.expires_at) * 1000 <= Date.now()) return undefined;
    return JSON.parse(gunzipSync(out.Item.body as Uint8Array).toString('utf8'));
  }
}
