import type { AttributeValue, TableDescription } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

/**
 * AWS's published sizing and capacity rules for DynamoDB, as pure functions: what an item
 * weighs, and what a read or a write of it costs on the table and on each global secondary
 * index. No I/O: the accounting hook (capacity.ts), the fleet bench and the item-size tests
 * all price writes with these.
 *
 * Sources (AWS Developer Guide):
 * - item size: "DynamoDB item sizes and formats"
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 * - read/write units, rounding, transactions, Query/BatchGet: "DynamoDB read and write operations"
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
 * - index writes: "Provisioned throughput considerations for Global Secondary Indexes"
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes
 */

/** An item on the wire (DynamoDB JSON), as commands, responses and stream images carry it. */
export type WireItem = Record<string, AttributeValue>;

/** One write capacity unit covers 1 KB written; one read capacity unit covers 4 KB read strongly consistent. */
export const WRITE_UNIT_BYTES = 1024;
export const READ_UNIT_BYTES = 4096;
/** The largest item DynamoDB stores. */
export const MAX_ITEM_BYTES = 400 * 1024;
/** What one partition key value takes per second, table or index, whatever the billing mode. */
export const PARTITION_LIMITS = { wcu: 1000, rcu: 3000 } as const;

/** A list or map costs 3 bytes of its own, and each of its elements 1 byte more. */
const DOCUMENT_OVERHEAD = 3;
const ELEMENT_OVERHEAD = 1;

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * The bytes a number's value takes: 1 byte per two significant digits, plus 1 (leading and
 * trailing zeros trimmed; AWS calls this approximate). Sign, decimal point and exponent are
 * not digits: "-0.00120" has the two significant digits 1 and 2.
 */
export const numberValueSize = (n: string): number => {
  const mantissa = n.trim().replace(/^[+-]/, '').split(/[eE]/)[0] ?? '';
  const digits = mantissa.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(digits.length / 2) + 1;
};

const binarySize = (b: Uint8Array): number => {
  // The SDK hands binaries as bytes; a base64 string (hand-built JSON) counts its decoded length.
  const raw: unknown = b;
  return typeof raw === 'string' ? Buffer.from(raw, 'base64').length : b.byteLength;
};

/** The bytes one attribute value takes, its name excluded (the rules of "DynamoDB item sizes and formats"). */
export const attributeValueSize = (v: AttributeValue): number => {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberValueSize(v.N);
  if (v.B !== undefined) return binarySize(v.B);
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.L !== undefined)
    return v.L.reduce((sum, e) => sum + ELEMENT_OVERHEAD + attributeValueSize(e), DOCUMENT_OVERHEAD);
  if (v.M !== undefined) {
    return Object.entries(v.M).reduce(
      (sum, [name, e]) => sum + ELEMENT_OVERHEAD + utf8(name) + attributeValueSize(e),
      DOCUMENT_OVERHEAD,
    );
  }
  // Sets: the page lists no overhead for them; each element counts as its scalar.
  if (v.SS !== undefined) return v.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (v.NS !== undefined) return v.NS.reduce((sum, n) => sum + numberValueSize(n), 0);
  if (v.BS !== undefined) return v.BS.reduce((sum, b) => sum + binarySize(b), 0);
  throw new Error(`unknown attribute value type: ${Object.keys(v).join(',')}`);
};

/** An item's size as DynamoDB counts it: the sum over attributes of the name's UTF-8 bytes plus the value's size. */
export const itemSize = (item: WireItem): number =>
  Object.entries(item).reduce((sum, [name, v]) => sum + utf8(name) + attributeValueSize(v), 0);

/**
 * The size of a plain JavaScript item, marshalled as the project's document client marshals it
 * (undefined attributes dropped), e.g. a node item before it is written.
 */
export const nativeItemSize = (item: Record<string, unknown>): number =>
  itemSize(marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: false }));

/** Options every capacity rule takes: a transactional read or write costs twice. */
export interface CapacityOptions {
  transactional?: boolean;
}

const times = (o?: CapacityOptions): number => (o?.transactional ? 2 : 1);

/**
 * WCU of one write to one item, from its size before and after (bytes; undefined when there is no
 * item). PutItem over an existing item and UpdateItem are charged on the larger of the two;
 * DeleteItem on the deleted item; a write whose condition fails on the existing item's size;
 * at least 1 unit each (a delete of nothing, a failed condition on nothing).
 */
export const writeCapacity = (sizes: { before?: number; after?: number }, o?: CapacityOptions): number =>
  Math.max(1, Math.ceil(Math.max(sizes.before ?? 0, sizes.after ?? 0) / WRITE_UNIT_BYTES)) * times(o);

/** How a read is served: strongly consistent costs 1 RCU per 4 KB, eventually consistent half that. */
export type Consistency = 'strong' | 'eventual';

/**
 * RCU of a read that DynamoDB rounds as one: a GetItem (one item's bytes) or one Query/Scan page
 * (the SUM of every item it read, before any filter, rounded up once to 4 KB). At least 1 unit
 * (0.5 eventually consistent). Index reads are always eventually consistent.
 */
export const readCapacity = (bytes: number, consistency: Consistency, o?: CapacityOptions): number =>
  Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES)) * (consistency === 'eventual' ? 0.5 : 1) * times(o);

/** RCU of a BatchGetItem (or TransactGetItems with transactional): each item rounded up on its own, then summed. */
export const batchReadCapacity = (
  itemBytes: readonly number[],
  consistency: Consistency,
  o?: CapacityOptions,
): number => itemBytes.reduce((sum, b) => sum + readCapacity(b, consistency, o), 0);

/** A key attribute of a table or an index. */
export interface KeySchema {
  hashKey: string;
  rangeKey?: string;
}

/** A global secondary index as far as pricing goes: its key and what it projects. */
export interface IndexShape extends KeySchema {
  name: string;
  projection: { type: 'ALL' } | { type: 'KEYS_ONLY' } | { type: 'INCLUDE'; nonKeyAttributes: readonly string[] };
}

/** A table as far as pricing goes: its key and its global secondary indexes. */
export interface TableShape extends KeySchema {
  name: string;
  indexes: readonly IndexShape[];
}

const keyOf = (schema: { AttributeName?: string; KeyType?: string }[] | undefined): KeySchema => {
  const hashKey = schema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
  if (!hashKey) throw new Error('key schema without a HASH key');
  const rangeKey = schema?.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  return rangeKey ? { hashKey, rangeKey } : { hashKey };
};

/**
 * A table's shape from DescribeTable (or from the same fields of a CloudFormation table in
 * serverless.yml), so the accounting prices whatever index design the table has.
 */
export const tableShape = (d: TableDescription): TableShape => ({
  name: d.TableName ?? '',
  ...keyOf(d.KeySchema),
  indexes: (d.GlobalSecondaryIndexes ?? []).map((g) => {
    const type = g.Projection?.ProjectionType ?? 'ALL';
    const projection: IndexShape['projection'] =
      type === 'INCLUDE'
        ? { type, nonKeyAttributes: g.Projection?.NonKeyAttributes ?? [] }
        : type === 'KEYS_ONLY'
          ? { type }
          : { type: 'ALL' };
    return { name: g.IndexName ?? '', ...keyOf(g.KeySchema), projection };
  }),
});

/** A partition key value as a printable string (the value itself for S and N, base64 for B). */
export const partitionKeyValue = (v: AttributeValue | undefined): string | undefined => {
  if (!v) return undefined;
  if (v.S !== undefined) return v.S;
  if (v.N !== undefined) return v.N;
  if (v.B !== undefined) return Buffer.from(v.B).toString('base64');
  return undefined;
};

/**
 * The entry an item has in an index: the index's keys, the table's keys and the projected
 * attributes. Undefined when the item lacks an index key attribute (a sparse index skips it).
 */
export const projectItem = (item: WireItem, table: KeySchema, index: IndexShape): WireItem | undefined => {
  if (item[index.hashKey] === undefined) return undefined;
  if (index.rangeKey && item[index.rangeKey] === undefined) return undefined;
  if (index.projection.type === 'ALL') return item;
  const names = new Set([table.hashKey, table.rangeKey, index.hashKey, index.rangeKey]);
  if (index.projection.type === 'INCLUDE') for (const n of index.projection.nonKeyAttributes) names.add(n);
  const out: WireItem = {};
  for (const n of names) if (n !== undefined && item[n] !== undefined) out[n] = item[n];
  return out;
};

/** One write DynamoDB makes to a table or an index partition, and what it costs there. */
export interface PartitionWrite {
  /** The index name, or undefined for the base table. */
  index?: string;
  /** The partition key value the write lands on. */
  partitionKey: string;
  op: 'put' | 'delete';
  /** The bytes it is charged on (the larger of before and after for a put over an entry). */
  bytes: number;
  wcu: number;
}

const sameValue = (a: AttributeValue | undefined, b: AttributeValue | undefined): boolean =>
  JSON.stringify(a) === JSON.stringify(b);

const sameItem = (a: WireItem, b: WireItem): boolean => {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const n of names) if (!sameValue(a[n], b[n])) return false;
  return true;
};

/**
 * What one table write costs on one index, from the item before and after it (undefined when
 * absent), per the GSI write rules: a new entry is one put; a removed entry one delete; a changed
 * index key a delete of the old entry plus a put of the new one (each on its own partition); a
 * change to projected attributes only one put (charged on the larger entry, as a put over an
 * item is); no change to the projected entry, nothing. In a transaction each is counted twice:
 * AWS documents "transactions cost twice" without exempting indexes, and the hot-partition
 * question wants the conservative figure.
 */
export const indexWrites = (
  before: WireItem | undefined,
  after: WireItem | undefined,
  table: KeySchema,
  index: IndexShape,
  o?: CapacityOptions,
): PartitionWrite[] => {
  const old = before && projectItem(before, table, index);
  const neu = after && projectItem(after, table, index);
  const write = (op: PartitionWrite['op'], entry: WireItem, bytes: number): PartitionWrite => ({
    index: index.name,
    partitionKey: partitionKeyValue(entry[index.hashKey]) ?? '',
    op,
    bytes,
    wcu: writeCapacity({ after: bytes }, o),
  });
  if (!old && !neu) return [];
  if (!old && neu) return [write('put', neu, itemSize(neu))];
  if (old && !neu) return [write('delete', old, itemSize(old))];
  if (!old || !neu) return [];
  const keyChanged =
    !sameValue(old[index.hashKey], neu[index.hashKey]) ||
    (index.rangeKey !== undefined && !sameValue(old[index.rangeKey], neu[index.rangeKey]));
  if (keyChanged) return [write('delete', old, itemSize(old)), write('put', neu, itemSize(neu))];
  if (sameItem(old, neu)) return [];
  return [write('put', neu, Math.max(itemSize(old), itemSize(neu)))];
};

/**
 * Every partition write one successful table write makes: the base table's (charged on the larger
 * of before and after) and each index's, all ×2 in a transaction. `before`/`after` are the full item
 * images (undefined when absent), e.g. a stream record's OldImage and NewImage.
 */
export const tableWrites = (
  before: WireItem | undefined,
  after: WireItem | undefined,
  table: TableShape,
  o?: CapacityOptions,
): PartitionWrite[] => {
  const keyItem = after ?? before;
  if (!keyItem) return [];
  const beforeBytes = before ? itemSize(before) : undefined;
  const afterBytes = after ? itemSize(after) : undefined;
  const base: PartitionWrite = {
    partitionKey: partitionKeyValue(keyItem[table.hashKey]) ?? '',
    op: after ? 'put' : 'delete',
    bytes: Math.max(beforeBytes ?? 0, afterBytes ?? 0),
    wcu: writeCapacity({ before: beforeBytes, after: afterBytes }, o),
  };
  return [base, ...table.indexes.flatMap((ix) => indexWrites(before, after, table, ix, o))];
};
