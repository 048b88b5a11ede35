import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  attributeValueSize,
  batchReadCapacity,
  type IndexShape,
  indexWrites,
  itemSize,
  nativeItemSize,
  numberValueSize,
  projectItem,
  readCapacity,
  type TableShape,
  tableShape,
  tableWrites,
  type WireItem,
  writeCapacity,
} from './capacity-rules';
import { changeShard } from './change-shard';

const KB = 1024;

/**
 * The figures are AWS's own examples where the guide gives one ("DynamoDB read and write
 * operations", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html),
 * and the byte arithmetic of "DynamoDB item sizes and formats"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)
 * written out in a comment where it gives none.
 */
describe('item size', () => {
  it('counts a string as its name plus its UTF-8 bytes', () => {
    // "host" 4 + "cn-01" 5; "név" is 4 UTF-8 bytes + "é" 2 bytes
    expect(itemSize({ host: { S: 'cn-01' } })).toBe(9);
    expect(itemSize({ név: { S: 'é' } })).toBe(6);
  });

  it('counts a number as 1 byte per two significant digits plus 1, zeros trimmed', () => {
    expect(numberValueSize('7')).toBe(2); // 1 digit → 1 + 1
    expect(numberValueSize('12345')).toBe(4); // 5 digits → 3 + 1
    expect(numberValueSize('1700000000000')).toBe(2); // trailing zeros trimmed: "17" → 1 + 1
    expect(numberValueSize('-0.00120')).toBe(2); // "12" → 1 + 1
    expect(numberValueSize('1.5E+3')).toBe(2); // "15"
    expect(itemSize({ ram_mb: { N: '65536' } })).toBe(6 + 4);
  });

  it('counts binary as raw bytes (not its base64), null and boolean as 1 byte', () => {
    expect(attributeValueSize({ B: new Uint8Array(10) })).toBe(10);
    expect(attributeValueSize({ B: Buffer.from('0123456789').toString('base64') as unknown as Uint8Array })).toBe(10);
    expect(itemSize({ up: { BOOL: true }, x: { NULL: true } })).toBe(2 + 1 + 1 + 1);
  });

  it('gives a list or map 3 bytes of overhead and each element 1 more', () => {
    expect(attributeValueSize({ L: [] })).toBe(3);
    expect(attributeValueSize({ M: {} })).toBe(3);
    // 3 + (1 + "a" 1) + (1 + 2 for N "10")
    expect(attributeValueSize({ L: [{ S: 'a' }, { N: '10' }] })).toBe(3 + 2 + 3);
    // 3 + (1 + name "vcpus" 5 + N "8" 2)
    expect(itemSize({ r: { M: { vcpus: { N: '8' } } } })).toBe(1 + 3 + 1 + 5 + 2);
  });

  it('counts a set as the sum of its elements', () => {
    expect(attributeValueSize({ SS: ['ab', 'cde'] })).toBe(5);
    expect(attributeValueSize({ NS: ['1', '12345'] })).toBe(2 + 4);
  });

  it('sizes a plain item as the document client marshals it, undefined attributes dropped', () => {
    expect(nativeItemSize({ host: 'cn-01', ram_mb: 65536, gone: undefined, tags: ['a'] })).toBe(9 + 10 + 4 + 3 + 1 + 1);
  });
});

describe('write capacity', () => {
  it('rounds each write up to 1 KB, at least 1 unit (AWS: a 500-byte write is 1 WCU, 3.5 KB is 4)', () => {
    expect(writeCapacity({ after: 500 })).toBe(1);
    expect(writeCapacity({ after: 3.5 * KB })).toBe(4);
    expect(writeCapacity({ after: KB })).toBe(1);
    expect(writeCapacity({ after: KB + 1 })).toBe(2);
  });

  it('charges an update or a replacing put on the larger of before and after, a delete on what it deletes', () => {
    expect(writeCapacity({ before: 3.2 * KB, after: 0.5 * KB })).toBe(4);
    expect(writeCapacity({ before: 0.5 * KB, after: 2.5 * KB })).toBe(3);
    expect(writeCapacity({ before: 2.1 * KB })).toBe(3);
    expect(writeCapacity({})).toBe(1);
  });

  it('doubles a transactional write (AWS: a transactional write of 1 KB takes 2 WCU)', () => {
    expect(writeCapacity({ after: KB }, { transactional: true })).toBe(2);
  });
});

describe('read capacity', () => {
  it('rounds a GetItem up to 4 KB (AWS: 3.5 KB reads as 4 KB, 10 KB as 12 KB; an 8 KB item is 2 strong, 1 eventual, 4 transactional)', () => {
    expect(readCapacity(3.5 * KB, 'strong')).toBe(1);
    expect(readCapacity(10 * KB, 'strong')).toBe(3);
    expect(readCapacity(8 * KB, 'strong')).toBe(2);
    expect(readCapacity(8 * KB, 'eventual')).toBe(1);
    expect(readCapacity(8 * KB, 'strong', { transactional: true })).toBe(4);
    expect(readCapacity(0, 'eventual')).toBe(0.5);
  });

  it('rounds a Query page once on the sum of its items (AWS: 10 items of 40.8 KB in all read as 44 KB)', () => {
    expect(readCapacity(40.8 * KB, 'strong')).toBe(11);
    expect(readCapacity(40.8 * KB, 'eventual')).toBe(5.5);
  });

  it('rounds each item of a BatchGetItem on its own (AWS: 1.5 KB and 6.5 KB read as 4 KB + 8 KB = 12 KB)', () => {
    expect(batchReadCapacity([1.5 * KB, 6.5 * KB], 'strong')).toBe(3);
  });
});

/** A node table like today's: key host, one index on (shard, changed_at). */
const byChange = (projection: IndexShape['projection']): TableShape => ({
  name: 'nodes',
  hashKey: 'host',
  indexes: [{ name: 'by_change', hashKey: 'shard', rangeKey: 'changed_at', projection }],
});

const node = (changedAt: number, extra: WireItem = {}): WireItem => ({
  host: { S: 'cn-01' },
  shard: { S: '0' },
  changed_at: { N: String(changedAt) },
  pad: { S: 'x'.repeat(1500) },
  ...extra,
});

describe('index writes', () => {
  const all = byChange({ type: 'ALL' });
  const keys = byChange({ type: 'KEYS_ONLY' });
  const ix = (t: TableShape) => t.indexes[0]!;

  it('puts a new entry once, deletes a removed one once', () => {
    expect(indexWrites(undefined, node(1), all, ix(all)).map((w) => [w.op, w.partitionKey, w.wcu])).toEqual([
      ['put', '0', 2],
    ]);
    expect(indexWrites(node(1), undefined, all, ix(all)).map((w) => w.op)).toEqual(['delete']);
  });

  it('costs a delete plus a put when the index key changes, each rounded up per KB of the projection', () => {
    // ALL: ~1.5 KB each side → 2 + 2 WCU (the "at least 4 WCU on that one partition")
    const w = indexWrites(node(1), node(2), all, ix(all));
    expect(w.map((x) => [x.op, x.wcu])).toEqual([
      ['delete', 2],
      ['put', 2],
    ]);
    // KEYS_ONLY: host + shard + changed_at, a few bytes → 1 + 1
    expect(indexWrites(node(1), node(2), keys, ix(keys)).map((x) => x.wcu)).toEqual([1, 1]);
  });

  it('costs one put when only projected attributes change, and nothing when none does', () => {
    const w = indexWrites(node(1), node(1, { up: { BOOL: true } }), all, ix(all));
    expect(w.map((x) => [x.op, x.wcu])).toEqual([['put', 2]]);
    expect(indexWrites(node(1), node(1, { up: { BOOL: true } }), keys, ix(keys))).toEqual([]);
    expect(indexWrites(node(1), node(1), all, ix(all))).toEqual([]);
  });

  it('skips an item without the index key (a sparse index), and projects INCLUDE attributes only', () => {
    const { shard: _s, ...noShard } = node(1);
    expect(indexWrites(undefined, noShard, all, ix(all))).toEqual([]);
    const inc = byChange({ type: 'INCLUDE', nonKeyAttributes: ['up'] });
    expect(Object.keys(projectItem(node(1, { up: { BOOL: true } }), inc, ix(inc))!).sort()).toEqual([
      'changed_at',
      'host',
      'shard',
      'up',
    ]);
  });

  it('prices a table write on the base table and every index, twice in a transaction', () => {
    const w = tableWrites(node(1), node(2), all, { transactional: true });
    expect(w.map((x) => [x.index, x.partitionKey, x.op, x.wcu])).toEqual([
      [undefined, 'cn-01', 'put', 4],
      ['by_change', '0', 'delete', 4],
      ['by_change', '0', 'put', 4],
    ]);
  });

  it('reads the shape from DescribeTable, whatever the index is called', () => {
    const shape = tableShape({
      TableName: 'nodes',
      KeySchema: [{ AttributeName: 'host', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'feed',
          KeySchema: [
            { AttributeName: 'bucket', KeyType: 'HASH' },
            { AttributeName: 'at', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['v'] },
        },
      ],
    });
    expect(shape).toEqual({
      name: 'nodes',
      hashKey: 'host',
      indexes: [
        {
          name: 'feed',
          hashKey: 'bucket',
          rangeKey: 'at',
          projection: { type: 'INCLUDE', nonKeyAttributes: ['v'] },
        },
      ],
    });
  });
});

describe('the deployed change index (serverless.yml by_change_sharded)', () => {
  type Cfn = { resources: { Resources: { NodesTable: { Properties: Record<string, unknown> } } } };
  const props = (parse(readFileSync('serverless.yml', 'utf8')) as Cfn).resources.Resources.NodesTable.Properties;
  const shape = tableShape({ ...(props as object), TableName: 'nodes' } as Parameters<typeof tableShape>[0]);
  const host = 'compute-00042';
  const item = (changedAt: number, ver: number, extra: WireItem = {}): WireItem => ({
    host: { S: host },
    change_shard: { S: changeShard(host) },
    changed_at: { N: String(changedAt) },
    ver: { N: String(ver) },
    pad: { S: 'x'.repeat(1500) },
    ...extra,
  });

  it('prices a node write as a delete + a put of a keys + ver entry on the host’s shard: 1 + 1 WCU', () => {
    expect(shape.indexes).toEqual([
      {
        name: 'by_change_sharded',
        hashKey: 'change_shard',
        rangeKey: 'changed_at',
        projection: { type: 'INCLUDE', nonKeyAttributes: ['ver'] },
      },
    ]);
    // ~1.5 KB item: 2 WCU on the table; the entry (host, change_shard, changed_at, ver) is ~50 bytes
    expect(tableWrites(item(1, 1), item(2, 2), shape).map((w) => [w.index, w.partitionKey, w.op, w.wcu])).toEqual([
      [undefined, host, 'put', 2],
      ['by_change_sharded', '1', 'delete', 1],
      ['by_change_sharded', '1', 'put', 1],
    ]);
    const entry = projectItem(item(2, 2), shape, shape.indexes[0]!);
    expect(Object.keys(entry!).sort()).toEqual(['change_shard', 'changed_at', 'host', 'ver']);
  });

  it('puts an item written before the index (no change_shard) once, and keeps group items out', () => {
    const { change_shard: _s, ...old } = item(1, 1);
    expect(tableWrites(old, item(2, 2), shape).map((w) => [w.index, w.op, w.wcu])).toEqual([
      [undefined, 'put', 2],
      ['by_change_sharded', 'put', 1],
    ]);
    const group: WireItem = { host: { S: '#group#g' }, changed_at: { N: '5' }, ver: { N: '3' } };
    expect(tableWrites(undefined, group, shape).map((w) => w.index)).toEqual([undefined]);
  });
});
