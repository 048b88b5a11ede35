/**
 * Reads and writes of many items at once, each with DynamoDB's continuation
 * handled in one place: the pages of a Query or Scan, and the unprocessed part
 * of a BatchGetItem or BatchWriteItem.
 */
import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** DynamoDB's limit of puts in one BatchWriteItem. */
const MAX_BATCH_WRITE = 25;
/** Rounds of a batch's unprocessed part before batchPutAll gives up. */
const MAX_ROUNDS = 5;

/** A short random pause before round `attempt` (0: none), so throttled batches do not retry in step. */
const backoff = (attempt: number): Promise<void> =>
  attempt > 0 ? new Promise((r) => setTimeout(r, Math.random() * 20 * attempt)) : Promise.resolve();

/**
 * Every item of `keys` in `table` (consistent reads), asking again for what DynamoDB left unprocessed
 * until nothing is. The caller keeps `keys` within one BatchGetItem (100).
 */
export const batchGetAll = async (
  db: DynamoDBDocumentClient,
  table: string,
  keys: Record<string, unknown>[],
): Promise<Record<string, unknown>[]> => {
  const found: Record<string, unknown>[] = [];
  let left: Record<string, unknown>[] | undefined = keys;
  for (let attempt = 0; left && left.length > 0; attempt++) {
    await backoff(attempt);
    const out = await db.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: left, ConsistentRead: true } } }));
    found.push(...(out.Responses?.[table] ?? []));
    left = out.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined;
  }
  return found;
};

/** Puts `items` into `table`, 25 a batch, again for what is left unprocessed; throws after five rounds. */
export const batchPutAll = async (
  db: DynamoDBDocumentClient,
  table: string,
  items: readonly Record<string, unknown>[],
): Promise<void> => {
  for (let i = 0; i < items.length; i += MAX_BATCH_WRITE) {
    let batch: Record<string, unknown>[] | undefined = items
      .slice(i, i + MAX_BATCH_WRITE)
      .map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; batch && batch.length > 0; attempt++) {
      if (attempt >= MAX_ROUNDS) throw new Error(`${batch.length} items unprocessed`);
      await backoff(attempt);
      const out = await db.send(new BatchWriteCommand({ RequestItems: { [table]: batch } }));
      batch = out.UnprocessedItems?.[table] as Record<string, unknown>[] | undefined;
    }
  }
};

/** One page of a Query or Scan, as the document client answers it. */
type Page = { Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> };

/** Every item of a paged Query or Scan: `page(start)` reads the page from `start` (undefined: the first). */
export const allPages = async (
  page: (start: Record<string, unknown> | undefined) => Promise<Page>,
): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await page(start);
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
};
