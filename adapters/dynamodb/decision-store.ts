import { gunzipSync, gzipSync } from 'node:zlib';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DecisionStore } from '../../core/ports';

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
    const body = gzipSync(JSON.stringify(decision));
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { id, body, created_at: new Date(nowMs).toISOString(), expires_at: Math.floor(nowMs / 1000) + ttlS },
      }),
    );
  }

  async get(id: string): Promise<unknown | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { id } }));
    if (!out.Item) return undefined;
    // TTL deletion lags expiry by up to a day or two: an expired item is gone to the reader.
    if (Number(out.Item.expires_at) * 1000 <= Date.now()) return undefined;
    return JSON.parse(gunzipSync(out.Item.body as Uint8Array).toString('utf8'));
  }
}
