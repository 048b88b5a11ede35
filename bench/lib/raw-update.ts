import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../adapters/dynamodb/client';

/**
 * The store's own rate, the yardstick of the claims benches: `workers` loops of one conditional
 * UpdateItem each (a version check and bump, the shape of a claim's condition) on an item of its
 * own (`keyOf(w)`), for `seconds`; updates per second.
 */
export const rawUpdateRate = async (o: {
  endpoint: string;
  table: string;
  workers: number;
  seconds: number;
  keyOf: (w: number) => string;
}): Promise<number> => {
  const db = documentClient('us-east-1', o.endpoint);
  const end = Date.now() + o.seconds * 1000;
  let n = 0;
  try {
    await Promise.all(
      Array.from({ length: o.workers }, async (_, w) => {
        let v = 0;
        while (Date.now() < end) {
          await db.send(
            new UpdateCommand({
              TableName: o.table,
              Key: { host: o.keyOf(w) },
              UpdateExpression: 'SET changed_at = :now, v = :next',
              ConditionExpression: 'attribute_not_exists(v) OR v = :v',
              ExpressionAttributeValues: { ':now': Date.now(), ':v': v, ':next': v + 1 },
            }),
          );
          v++;
          n++;
        }
      }),
    );
  } finally {
    db.destroy();
  }
  return n / o.seconds;
};
