import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { WriteConflictError } from '../../core/errors';
import type { NodeRecord } from '../../core/node/record';
import type { NodeStore, Versioned } from '../../core/ports';
import { DEFAULT_CHANGE_SHARDS } from './change-shard';
import { fromItem, fromRawItem, isNodeItem, META_PREFIX, toItem } from './node-item';

const ID_COUNTER = '#id-counter';

/** The report path's node store: one item per host, keyed by `host`. */
export class DynamoNodeStore implements NodeStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
    /** QM_CHANGE_SHARDS: the change index's shard count, which every writer and the reader share. */
    private readonly shards: number = DEFAULT_CHANGE_SHARDS,
  ) {}

  async get(host: string): Promise<Versioned | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { host }, ConsistentRead: true }));
    return out.Item ? fromItem(out.Item) : undefined;
  }

  /**
   * A page of nodes in scan order after `afterHost`. Bookkeeping items and (unless asked for)
   * soft-deleted nodes are filtered out by the scan itself, and it reads on until it holds one
   * node more than the page: so every page but the last is full, and `lastHost` (where the
   * next page starts) is set only when another node follows.
   */
  async list(
    limit: number,
    afterHost: string | undefined,
    includeDeleted: boolean,
  ): Promise<{ nodes: NodeRecord[]; lastHost?: string }> {
    const want = limit + 1;
    const nodes: NodeRecord[] = [];
    let start: Record<string, unknown> | undefined = afterHost === undefined ? undefined : { host: afterHost };
    do {
      const out = await this.db.send(
        new ScanCommand({
          TableName: this.table,
          ExclusiveStartKey: start,
          // Limit counts items read before the filter: read a little ahead of what is missing.
          Limit: Math.min(1000, Math.max(want - nodes.length, 50)),
          FilterExpression: includeDeleted
            ? 'NOT begins_with(#host, :meta)'
            : 'NOT begins_with(#host, :meta) AND #deleted = :live',
          ExpressionAttributeNames: includeDeleted ? { '#host': 'host' } : { '#host': 'host', '#deleted': 'deleted' },
          ExpressionAttributeValues: includeDeleted ? { ':meta': META_PREFIX } : { ':meta': META_PREFIX, ':live': 0 },
        }),
      );
      for (const item of out.Items ?? []) if (isNodeItem(item)) nodes.push(fromItem(item).record);
      start = out.LastEvaluatedKey;
    } while (start && nodes.length < want);
    if (nodes.length <= limit) return { nodes };
    const page = nodes.slice(0, limit);
    return { nodes: page, lastHost: (page[limit - 1] as NodeRecord).host };
  }

  async nextId(): Promise<number> {
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { host: ID_COUNTER },
        UpdateExpression: 'ADD next_id :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(out.Attributes?.next_id);
  }

  async put(
    record: NodeRecord,
    expectedVer: number | undefined,
    opts: { newerSeq?: number; tokenIssuedAtMs?: number } = {},
  ): Promise<number> {
    const ver = (expectedVer ?? 0) + 1;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    let condition: string;
    if (expectedVer === undefined) {
      condition = 'attribute_not_exists(#host)';
      names['#host'] = 'host';
    } else {
      condition = '#ver = :ver';
      names['#ver'] = 'ver';
      values[':ver'] = expectedVer;
      if (opts.newerSeq !== undefined) {
        // A soft-deleted node takes any seq: the report that revives it starts the count afresh.
        condition += ' AND (#seq < :seq OR #deleted <> :live)';
        names['#seq'] = 'seq';
        names['#deleted'] = 'deleted';
        values[':seq'] = opts.newerSeq;
        values[':live'] = 0;
      }
      if (opts.tokenIssuedAtMs !== undefined) {
        // Revoked iff issued before tokens_revoked_at; ISO strings of one format compare as their times.
        condition += ' AND (attribute_not_exists(#rev) OR attribute_type(#rev, :null) OR #rev <= :iat)';
        names['#rev'] = 'tokens_revoked_at';
        values[':null'] = 'NULL';
        values[':iat'] = new Date(opts.tokenIssuedAtMs).toISOString();
      }
    }
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: toItem(record, ver, this.now(), this.shards),
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return ver;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) {
        throw new WriteConflictError(e.Item ? fromRawItem(e.Item) : undefined);
      }
      throw e;
    }
  }
}
