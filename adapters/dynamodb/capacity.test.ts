import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { CapacityLedger } from './capacity';
import { enableCapacityAccounting, keyConditionValue } from './capacity-middleware';
import type { TableShape, WireItem } from './capacity-rules';
import { documentClient } from './client';

/** A node table with a sharded change index: moving a node to another shard moves its index entry. */
const nodes: TableShape = {
  name: 'nodes',
  hashKey: 'host',
  indexes: [{ name: 'feed', hashKey: 'bucket', rangeKey: 'at', projection: { type: 'ALL' } }],
};
const node = (bucket: string, at: number, bytes = 1500): WireItem => ({
  host: { S: 'cn-01' },
  bucket: { S: bucket },
  at: { N: String(at) },
  pad: { S: 'x'.repeat(bytes) },
});

const ledgerAt = () => {
  const clock = { second: 0 };
  return { clock, ledger: new CapacityLedger([nodes], () => clock.second) };
};
const tallies = (l: CapacityLedger, second: number) =>
  (l.partitionSeconds().get(second) ?? []).map((t) => [t.index ?? '-', t.partitionKey, t.wcu, t.rcu]);

describe('CapacityLedger', () => {
  it('charges an index key move as a delete on the old partition and a put on the new one', () => {
    const { ledger } = ledgerAt();
    ledger.written('nodes', { host: { S: 'cn-01' } }, false);
    ledger.onStreamRecord('nodes', node('3', 1), node('7', 2));
    // ~1.5 KB item: 2 WCU on the table, 2 (delete) on feed/3 and 2 (put) on feed/7
    expect(tallies(ledger, 0)).toEqual([
      ['-', 'cn-01', 2, 0],
      ['feed', '3', 2, 0],
      ['feed', '7', 2, 0],
    ]);
  });

  it('doubles a transactional write, table and index, and charges it to the second of its call', () => {
    const { clock, ledger } = ledgerAt();
    clock.second = 4;
    ledger.written('nodes', { host: { S: 'cn-01' } }, true);
    clock.second = 5;
    ledger.onStreamRecord('nodes', node('3', 1), node('3', 2));
    expect(tallies(ledger, 4)).toEqual([
      ['-', 'cn-01', 4, 0],
      ['feed', '3', 8, 0],
    ]);
    expect(ledger.partitionSeconds().get(5)).toBeUndefined();
  });

  it('holds a stream record that comes before its call returned, then charges it to that call', () => {
    const { clock, ledger } = ledgerAt();
    clock.second = 2;
    ledger.onStreamRecord('nodes', undefined, node('1', 1, 10));
    expect(ledger.waiting).toBe(1);
    ledger.written('nodes', { host: { S: 'cn-01' } }, false);
    expect(ledger.waiting).toBe(0);
    expect(tallies(ledger, 2)).toEqual([
      ['-', 'cn-01', 1, 0],
      ['feed', '1', 1, 0],
    ]);
  });

  it('charges a refused write on the last size it knows of the item, on the table only', () => {
    const { clock, ledger } = ledgerAt();
    ledger.written('nodes', { host: { S: 'cn-01' } }, false);
    ledger.onStreamRecord('nodes', undefined, node('1', 1, 3000));
    clock.second = 1;
    ledger.unchanged('nodes', { host: { S: 'cn-01' } }, false);
    expect(tallies(ledger, 1)).toEqual([['-', 'cn-01', 3, 0]]);
  });

  it('charges a query page once on the sum of its items, on the condition’s partition, eventually consistent on an index', () => {
    const { ledger } = ledgerAt();
    const items = [node('1', 1, 3000), node('1', 2, 3000)];
    ledger.read('nodes', 'feed', items, { partitionKey: '1', consistency: 'strong', rounding: 'sum' });
    // ~6 KB in all → 2 × 4 KB, halved: an index read is eventually consistent
    expect(tallies(ledger, 0)).toEqual([['feed', '1', 0, 1]]);
  });

  it('keeps each committed write’s WCU, table and indexes summed, under the tag its call ran with', () => {
    let tag: string | undefined = 'claim';
    const ledger = new CapacityLedger(
      [nodes],
      () => 0,
      () => tag,
    );
    ledger.written('nodes', { host: { S: 'cn-01' } }, true);
    tag = undefined;
    ledger.written('nodes', { host: { S: 'cn-01' } }, false);
    ledger.onStreamRecord('nodes', node('3', 1), node('3', 2));
    ledger.onStreamRecord('nodes', node('3', 2), node('3', 3));
    // ~1.5 KB in a transaction: 2 × 2 on the table + (2 + 2) × 2 on feed/3 (its range key moved: a delete and a
    // put) = 12; the untagged write is not kept
    expect(ledger.writeCosts('claim', 'nodes')).toEqual([12]);
    expect(ledger.writeCosts('report', 'nodes')).toEqual([]);
  });

  it('tags a write by its partition key, so a container write made during a request is kept apart', () => {
    const ledger = new CapacityLedger(
      [nodes],
      () => 0,
      (_table, pk) => (pk.startsWith('#') ? 'snapshot' : 'schedule'),
    );
    ledger.written('nodes', { host: { S: '#snapshot' } }, false);
    ledger.written('nodes', { host: { S: 'cn-01' } }, false);
    ledger.onStreamRecord('nodes', undefined, { host: { S: '#snapshot' }, blob: { S: 'x'.repeat(5000) } });
    ledger.onStreamRecord('nodes', node('3', 1), node('3', 2));
    // 'host' (4) + '#snapshot' (9) + 'blob' (4) + 5,000 = 5,017 bytes → 5 WCU, no index key; the node write as above: 2 + 2 + 2
    expect(ledger.writeCosts('snapshot', 'nodes')).toEqual([5]);
    expect(ledger.writeCosts('schedule', 'nodes')).toEqual([6]);
    expect(ledger.writtenSizesOf('snapshot', 'nodes')).toEqual([5017]);
    expect(ledger.writtenSizesOf('schedule', 'nodes')).toHaveLength(1);
    expect(ledger.writtenSizesOf('schedule', 'nodes')[0]).toBeLessThan(2048);
  });

  it('finds the partition-key value in a key condition, names resolved', () => {
    const values = { ':b': { S: '5' }, ':t': { N: '10' } };
    expect(keyConditionValue('#b = :b AND #t >= :t', { '#b': 'bucket', '#t': 'at' }, values, 'bucket')).toBe('5');
    expect(keyConditionValue('at >= :t AND bucket = :b', undefined, values, 'bucket')).toBe('5');
    expect(keyConditionValue('#t >= :t', { '#t': 'at' }, values, 'bucket')).toBeUndefined();
  });
});

describe('enableCapacityAccounting', () => {
  afterEach(() => enableCapacityAccounting(undefined));

  const sent = async (db: ReturnType<typeof documentClient>) => {
    let body = '';
    db.middlewareStack.add(
      () => async (args) => {
        body = String((args.request as { body?: unknown }).body);
        throw Object.assign(new Error('stop here'), { name: 'Stop' });
      },
      { step: 'finalizeRequest', name: 'capture', priority: 'low' },
    );
    await db.send(new PutCommand({ TableName: 'nodes', Item: { host: 'cn-01' } })).catch(() => undefined);
    return JSON.parse(body) as Record<string, unknown>;
  };

  it('leaves clients alone when off: no middleware, no ReturnConsumedCapacity', async () => {
    const db = documentClient('us-east-1', 'http://127.0.0.1:9');
    expect(db.middlewareStack.identify().some((m) => m.startsWith('qmCapacity'))).toBe(false);
    expect((await sent(db)).ReturnConsumedCapacity).toBeUndefined();
  });

  it('asks every call of a client built while on for INDEXES', async () => {
    enableCapacityAccounting(new CapacityLedger([nodes], () => 0));
    const db = documentClient('us-east-1', 'http://127.0.0.1:9');
    expect((await sent(db)).ReturnConsumedCapacity).toBe('INDEXES');
  });
});
