import type { AttributeValue, ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { CapacityLedger } from './capacity';
import { type Consistency, type IndexShape, partitionKeyValue, type WireItem } from './capacity-rules';
import { setClientHook } from './client';

/**
 * The SDK middleware that feeds a CapacityLedger (./capacity.ts says what each figure is and
 * where it comes from): it asks every call for ReturnConsumedCapacity INDEXES and records the
 * call's keys, items and outcome.
 */

type Input = Record<string, unknown> & { TableName?: string };
type Output = Record<string, unknown>;

const WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
]);
const READS = new Set([
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'TransactGetItemsCommand',
]);

/** The value the key condition gives the partition key (`#h = :v` or `h = :v`, names resolved). */
export const keyConditionValue = (
  expression: string | undefined,
  names: Record<string, string> | undefined,
  values: Record<string, AttributeValue> | undefined,
  hashKey: string,
): string | undefined => {
  for (const m of (expression ?? '').matchAll(/([#\w.]+)\s*=\s*(:\w+)/g)) {
    const name = m[1]?.startsWith('#') ? names?.[m[1]] : m[1];
    if (name === hashKey) return partitionKeyValue(values?.[m[2] ?? '']);
  }
  return undefined;
};

const asWire = (items: unknown, doc: boolean): WireItem[] =>
  ((items as Record<string, unknown>[] | undefined) ?? []).map((i) =>
    doc ? (marshall(i, { removeUndefinedValues: true, convertClassInstanceToMap: true }) as WireItem) : (i as WireItem),
  );

const failedWrite = (e: unknown) => {
  const name = (e as { name?: string }).name;
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException';
};

/** Records one call's capacity: the input (marshalled), the output (marshalled or, for a document command, native). */
const record = (ledger: CapacityLedger, command: string, input: Input, output: Output | undefined, doc: boolean) => {
  if (WRITES.has(command)) {
    if (output) ledger.reported(output.ConsumedCapacity as ConsumedCapacity[] | undefined, 'write');
    const ok = output !== undefined;
    const one = (table: string, key: WireItem, tx: boolean, changes: boolean) =>
      ok && changes ? ledger.written(table, key, tx) : ledger.unchanged(table, key, tx);
    const table = input.TableName ?? '';
    if (command === 'PutItemCommand') one(table, input.Item as WireItem, false, true);
    else if (command === 'UpdateItemCommand' || command === 'DeleteItemCommand')
      one(table, input.Key as WireItem, false, true);
    else if (command === 'TransactWriteItemsCommand') {
      for (const t of (input.TransactItems ?? []) as Record<string, Input>[]) {
        if (t.Put) one(t.Put.TableName ?? '', t.Put.Item as WireItem, true, true);
        else if (t.Update) one(t.Update.TableName ?? '', t.Update.Key as WireItem, true, true);
        else if (t.Delete) one(t.Delete.TableName ?? '', t.Delete.Key as WireItem, true, true);
        else if (t.ConditionCheck) one(t.ConditionCheck.TableName ?? '', t.ConditionCheck.Key as WireItem, true, false);
      }
    } else if (command === 'BatchWriteItemCommand' && ok) {
      const unprocessed = (output?.UnprocessedItems ?? {}) as Record<string, unknown[]>;
      for (const [t, reqs] of Object.entries((input.RequestItems ?? {}) as Record<string, Record<string, Input>[]>)) {
        const left = new Set((unprocessed[t] ?? []).map((r) => JSON.stringify(r)));
        for (const r of reqs) {
          if (left.has(JSON.stringify(r))) continue;
          if (r.PutRequest) ledger.written(t, r.PutRequest.Item as WireItem, false);
          else if (r.DeleteRequest) ledger.written(t, r.DeleteRequest.Key as WireItem, false);
        }
      }
    }
    return;
  }
  if (!READS.has(command) || !output) return;
  ledger.reported(output.ConsumedCapacity as ConsumedCapacity[] | undefined, 'read');
  const table = input.TableName ?? '';
  const consistency: Consistency = input.ConsistentRead ? 'strong' : 'eventual';
  const index = input.IndexName as string | undefined;
  if (command === 'GetItemCommand') {
    const shape = ledger.shapes.get(table);
    const pk = shape ? partitionKeyValue((input.Key as WireItem)[shape.hashKey]) : undefined;
    const items = output.Item ? asWire([output.Item], doc) : [];
    ledger.read(table, undefined, items, {
      ...(pk !== undefined ? { partitionKey: pk } : {}),
      consistency,
      rounding: 'each',
    });
  } else if (command === 'QueryCommand') {
    const shape = ledger.shapes.get(table);
    const ix: IndexShape | undefined = index ? shape?.indexes.find((i) => i.name === index) : undefined;
    const hashKey = ix?.hashKey ?? shape?.hashKey ?? '';
    const pk = keyConditionValue(
      input.KeyConditionExpression as string | undefined,
      input.ExpressionAttributeNames as Record<string, string> | undefined,
      input.ExpressionAttributeValues as Record<string, AttributeValue> | undefined,
      hashKey,
    );
    ledger.read(table, index, asWire(output.Items, doc), {
      ...(pk !== undefined ? { partitionKey: pk } : {}),
      consistency,
      rounding: 'sum',
    });
  } else if (command === 'ScanCommand') {
    ledger.read(table, index, asWire(output.Items, doc), { consistency, rounding: 'sum' });
  } else if (command === 'BatchGetItemCommand') {
    const req = (input.RequestItems ?? {}) as Record<string, { ConsistentRead?: boolean }>;
    for (const [t, items] of Object.entries((output.Responses ?? {}) as Record<string, unknown[]>)) {
      ledger.read(t, undefined, asWire(items, doc), {
        consistency: req[t]?.ConsistentRead ? 'strong' : 'eventual',
        rounding: 'each',
      });
    }
  } else if (command === 'TransactGetItemsCommand') {
    const gets = ((input.TransactItems ?? []) as { Get?: Input }[]).map((g) => g.Get);
    const responses = (output.Responses ?? []) as { Item?: unknown }[];
    gets.forEach((g, i) => {
      const item = responses[i]?.Item;
      if (g)
        ledger.read(g.TableName ?? '', undefined, item ? asWire([item], doc) : [], {
          consistency: 'strong',
          transactional: true,
          rounding: 'each',
        });
    });
  }
};

const QM_INPUT = Symbol('qmCapacityInput');

/**
 * Adds the accounting to one client: ask for INDEXES on every call (initialize step, so both raw
 * and document commands carry it), then, at the build step — after the document client has
 * marshalled the input, while the response below is not yet turned back into plain objects for
 * raw commands — record the call. A document command's output arrives unmarshalled; it is
 * recognised by its input having been replaced by the marshaller, and marshalled back for sizing.
 */
export const attachCapacityAccounting = (client: DynamoDBClient, ledger: CapacityLedger): void => {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Input;
      if (input && typeof input === 'object') {
        if (!('ReturnConsumedCapacity' in input)) input.ReturnConsumedCapacity = 'INDEXES';
        (context as Record<symbol, unknown>)[QM_INPUT] = input;
      }
      return next(args);
    },
    { step: 'initialize', name: 'qmCapacityAsk', priority: 'high' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Input;
      const doc = (context as Record<symbol, unknown>)[QM_INPUT] !== input;
      const command = context.commandName ?? '';
      try {
        const out = await next(args);
        record(ledger, command, input, out.output as unknown as Output, doc);
        return out;
      } catch (e) {
        if (failedWrite(e)) record(ledger, command, input, undefined, doc);
        throw e;
      }
    },
    { step: 'build', name: 'qmCapacityRecord', priority: 'low' },
  );
};

/**
 * Turns the accounting on for every client `documentClient` builds from now on (the functions
 * build theirs at cold start: call this before importing a handler). Off by default; `undefined`
 * turns it off again.
 */
export const enableCapacityAccounting = (ledger: CapacityLedger | undefined): void =>
  setClientHook(ledger ? (c) => attachCapacityAccounting(c, ledger) : undefined);
