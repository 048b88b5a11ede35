import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import {
  type Consistency,
  itemSize,
  partitionKeyValue,
  projectItem,
  readCapacity,
  type TableShape,
  tableWrites,
  type WireItem,
  writeCapacity,
} from './capacity-rules';

/**
 * Consumed-capacity accounting for every DynamoDB call a client makes, per table, per index and
 * per PARTITION-KEY VALUE — the figure AWS throttles on (1,000 WCU/s, 3,000 RCU/s each) and the
 * one DynamoDB itself never reports. Opt-in: `enableCapacityAccounting(ledger)` (capacity-middleware.ts) before the
 * functions build their clients; with it off, clients carry no middleware at all.
 *
 * How each figure is obtained (the choice, argued):
 * - Totals per table and per index: what DynamoDB reports (`ReturnConsumedCapacity: INDEXES`,
 *   asked on every call), kept as `reported` beside our own `computed` totals as a cross-check.
 *   DynamoDB Local does report them, with AWS's arithmetic for single writes and reads, but
 *   TransactWriteItems at 4× a plain write where AWS documents 2×, and nothing for a write whose
 *   condition failed (see docs/performance.md, "Fleet on real DynamoDB limits").
 * - Writes per partition: from the item's images before and after, priced with
 *   capacity-rules.ts. The call alone cannot give them: an UpdateItem names the key but not what
 *   the item weighed before, nor the old value of an index key it moves (a GSI write lands on
 *   the OLD key's partition as a delete and on the new one as a put). Asking every call for
 *   ReturnValues would change what the functions get back; a GetItem before each write would
 *   double the load. DynamoDB Streams (NEW_AND_OLD_IMAGES; DynamoDB Local supports them) give
 *   both images of every committed write, in order per item, without touching the functions:
 *   the bench feeds each record to `onStreamRecord`. The middleware adds what the stream cannot
 *   know: which simulated second the write belongs to and whether it ran in a transaction (×2),
 *   queued per item key and matched in order; failed conditions (no stream record) are charged
 *   at the call, on the item's last known size.
 * - Reads per partition: from the request (GetItem/BatchGet keys, the Query's partition-key
 *   condition) and the sizes of the items returned (or the last known full size of a table item
 *   when a projection trimmed the response), priced with the rules.
 */

/** One tally of capacity: write and read units. */
export interface Units {
  wcu: number;
  rcu: number;
}

/** Where units land: a table, or one of its indexes, and a partition-key value there. */
export interface PartitionTally extends Units {
  table: string;
  index?: string;
  partitionKey: string;
}

interface Pending {
  second: number;
  transactional: boolean;
  tag: string | undefined;
}

const SEP = '\u0000';
const bucket = <V>(m: Map<number, Map<string, V>>, second: number): Map<string, V> => {
  const b = m.get(second) ?? new Map<string, V>();
  m.set(second, b);
  return b;
};
const add = (m: Map<string, Units>, k: string, u: Partial<Units>) => {
  const t = m.get(k) ?? { wcu: 0, rcu: 0 };
  t.wcu += u.wcu ?? 0;
  t.rcu += u.rcu ?? 0;
  m.set(k, t);
};

const append = (m: Map<string, number[]>, k: string, v: number) => {
  const list = m.get(k) ?? [];
  list.push(v);
  m.set(k, list);
};

/**
 * The tallies of one run, bucketed by the second `clock()` returns (the bench's simulated second).
 * Tables it has no shape for are counted in the reported totals only.
 */
export class CapacityLedger {
  readonly shapes = new Map<string, TableShape>();
  /** second → "table\0index\0pk" → units. */
  private readonly partitions = new Map<number, Map<string, Units>>();
  /** second → "table\0index" → units DynamoDB reported. */
  private readonly reportedBySecond = new Map<number, Map<string, Units>>();
  /** "table\0primary key" → writes seen by the middleware, not yet by the stream. */
  private readonly pending = new Map<string, Pending[]>();
  /** Stream records that came before their call's response. */
  private unmatched: { table: string; key: string; before?: WireItem; after?: WireItem }[] = [];
  /** "table\0index\0primary key" → last known size of the item (index: of its entry). */
  private readonly sizes = new Map<string, number>();
  /** table → sizes of the items written in the window, as written. */
  readonly writtenSizes = new Map<string, number[]>();
  /** "tag\0table" → WCU of each committed write made under that tag (table and indexes summed). */
  private readonly costs = new Map<string, number[]>();
  /** "tag\0table" → size of each item written under that tag. */
  private readonly taggedSizes = new Map<string, number[]>();

  /**
   * `tag(table, partitionKey)` names the operation a write belongs to (e.g. the bench's "schedule", or
   * "snapshot" for a snapshot chunk written during a schedule request), read when the call returns.
   */
  constructor(
    tables: readonly TableShape[],
    readonly clock: () => number,
    readonly tag: (table: string, partitionKey: string) => string | undefined = () => undefined,
  ) {
    for (const t of tables) this.shapes.set(t.name, t);
  }

  private primaryKey(table: TableShape, item: WireItem): string {
    const h = partitionKeyValue(item[table.hashKey]) ?? '';
    return table.rangeKey ? `${h}${SEP}${partitionKeyValue(item[table.rangeKey]) ?? ''}` : h;
  }

  private charge(second: number, table: string, index: string | undefined, pk: string, u: Partial<Units>) {
    add(bucket(this.partitions, second), `${table}${SEP}${index ?? ''}${SEP}${pk}`, u);
  }

  /** Records what DynamoDB reported for one call. */
  reported(consumed: ConsumedCapacity | ConsumedCapacity[] | undefined, kind: 'read' | 'write'): void {
    const second = this.clock();
    const m = bucket(this.reportedBySecond, second);
    for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
      const table = c.TableName ?? '';
      const u = (x?: { CapacityUnits?: number }) =>
        kind === 'read' ? { rcu: x?.CapacityUnits ?? 0 } : { wcu: x?.CapacityUnits ?? 0 };
      add(m, `${table}${SEP}`, u(c.Table ?? (c.GlobalSecondaryIndexes ? undefined : c)));
      for (const [ix, v] of Object.entries(c.GlobalSecondaryIndexes ?? {})) add(m, `${table}${SEP}${ix}`, u(v));
    }
  }

  /** A write the store accepted: its stream record will be charged to this second. */
  written(tableName: string, key: WireItem, transactional: boolean): void {
    const table = this.shapes.get(tableName);
    if (!table) return;
    const k = `${tableName}${SEP}${this.primaryKey(table, key)}`;
    const q = this.pending.get(k) ?? [];
    q.push({
      second: this.clock(),
      transactional,
      tag: this.tag(tableName, partitionKeyValue(key[table.hashKey]) ?? ''),
    });
    this.pending.set(k, q);
    if (this.unmatched.length > 0) this.settle();
  }

  /**
   * A write the store refused (failed condition, cancelled transaction) or that changes nothing
   * (a ConditionCheck): charged on the item's last known size, on its table partition only.
   */
  unchanged(tableName: string, key: WireItem, transactional: boolean): void {
    const table = this.shapes.get(tableName);
    if (!table) return;
    const pk = this.primaryKey(table, key);
    const before = this.sizes.get(`${tableName}${SEP}${SEP}${pk}`);
    const partition = partitionKeyValue(key[table.hashKey]) ?? '';
    this.charge(this.clock(), tableName, undefined, partition, { wcu: writeCapacity({ before }, { transactional }) });
  }

  /** One stream record of a table: the item before and after a committed write. */
  onStreamRecord(tableName: string, before: WireItem | undefined, after: WireItem | undefined): void {
    const table = this.shapes.get(tableName);
    const keyItem = after ?? before;
    if (!table || !keyItem) return;
    this.unmatched.push({ table: tableName, key: this.primaryKey(table, keyItem), before, after });
    this.settle();
  }

  /** Matches stream records to the calls that made them, in order per item. */
  private settle(): void {
    const left: typeof this.unmatched = [];
    for (const r of this.unmatched) {
      const q = this.pending.get(`${r.table}${SEP}${r.key}`);
      const p = q?.shift();
      if (!p) {
        left.push(r);
        continue;
      }
      if (q && q.length === 0) this.pending.delete(`${r.table}${SEP}${r.key}`);
      this.price(r.table, r.key, r.before, r.after, p);
    }
    this.unmatched = left;
  }

  private price(tableName: string, key: string, before: WireItem | undefined, after: WireItem | undefined, p: Pending) {
    const table = this.shapes.get(tableName);
    if (!table) return;
    let wcu = 0;
    for (const w of tableWrites(before, after, table, { transactional: p.transactional })) {
      this.charge(p.second, tableName, w.index, w.partitionKey, { wcu: w.wcu });
      wcu += w.wcu;
    }
    if (p.tag !== undefined) append(this.costs, `${p.tag}${SEP}${tableName}`, wcu);
    if (after) {
      const bytes = itemSize(after);
      this.sizes.set(`${tableName}${SEP}${SEP}${key}`, bytes);
      append(this.writtenSizes, tableName, bytes);
      if (p.tag !== undefined) append(this.taggedSizes, `${p.tag}${SEP}${tableName}`, bytes);
      for (const ix of table.indexes) {
        const entry = projectItem(after, table, ix);
        if (entry) this.sizes.set(`${tableName}${SEP}${ix.name}${SEP}${key}`, itemSize(entry));
      }
    } else this.sizes.delete(`${tableName}${SEP}${SEP}${key}`);
  }

  /**
   * Writes accepted but never seen on the stream (an update that changed nothing makes no record):
   * charged on the item's last known size, table partition only. Call after draining the stream.
   */
  closeUnmatched(): void {
    for (const [k, q] of this.pending) {
      const [tableName = '', ...rest] = k.split(SEP);
      const table = this.shapes.get(tableName);
      if (!table) continue;
      const before = this.sizes.get(`${tableName}${SEP}${SEP}${rest.join(SEP)}`);
      for (const p of q) {
        this.charge(p.second, tableName, undefined, rest[0] ?? '', {
          wcu: writeCapacity({ before }, { transactional: p.transactional }),
        });
      }
    }
    this.pending.clear();
  }

  /** The WCU of each committed write to `table` made under `tag`, in the order the stream gave them. */
  writeCosts(tag: string, table: string): number[] {
    return this.costs.get(`${tag}${SEP}${table}`) ?? [];
  }

  /** The size of each item written to `table` under `tag`. */
  writtenSizesOf(tag: string, table: string): number[] {
    return this.taggedSizes.get(`${tag}${SEP}${table}`) ?? [];
  }

  /** How many stream records still wait for their call (should be 0 after a drain). */
  get waiting(): number {
    return this.unmatched.length;
  }

  /**
   * A read of `items` (returned, wire form) from a table or index, all on one partition when
   * `partitionKey` is given (GetItem, Query), else on each item's own (Scan, BatchGet).
   * `rounding: 'each'` rounds every item up on its own (GetItem, BatchGetItem, TransactGetItems);
   * 'sum' rounds the page once (Query, Scan).
   */
  read(
    tableName: string,
    indexName: string | undefined,
    items: readonly WireItem[],
    o: { partitionKey?: string; consistency: Consistency; transactional?: boolean; rounding: 'each' | 'sum' },
  ): void {
    const table = this.shapes.get(tableName);
    if (!table) return;
    const index = indexName ? table.indexes.find((i) => i.name === indexName) : undefined;
    const hashKey = index ? index.hashKey : table.hashKey;
    const byPk = new Map<string, number[]>();
    for (const it of items) {
      const pk = o.partitionKey ?? partitionKeyValue(it[hashKey]) ?? '';
      const known = this.sizes.get(`${tableName}${SEP}${indexName ?? ''}${SEP}${this.primaryKey(table, it)}`) ?? 0;
      const list = byPk.get(pk) ?? [];
      list.push(Math.max(itemSize(it), known));
      byPk.set(pk, list);
    }
    if (items.length === 0 && o.partitionKey !== undefined) byPk.set(o.partitionKey, []);
    const second = this.clock();
    const consistency: Consistency = index ? 'eventual' : o.consistency;
    for (const [pk, sizes] of byPk) {
      const rcu =
        o.rounding === 'sum'
          ? readCapacity(
              sizes.reduce((s, b) => s + b, 0),
              consistency,
              o,
            )
          : sizes.reduce((s, b) => s + readCapacity(b, consistency, o), 0) || readCapacity(0, consistency, o);
      this.charge(second, tableName, indexName, pk, { rcu });
    }
  }

  /** Every second's tallies per partition. */
  partitionSeconds(): Map<number, PartitionTally[]> {
    const out = new Map<number, PartitionTally[]>();
    for (const [s, m] of this.partitions) {
      out.set(
        s,
        [...m].map(([k, u]) => {
          const [table = '', index = '', partitionKey = ''] = k.split(SEP);
          return { table, ...(index ? { index } : {}), partitionKey, ...u };
        }),
      );
    }
    return out;
  }

  /** Every second's totals as DynamoDB reported them, per "table" or "table/index". */
  reportedSeconds(): Map<number, Map<string, Units>> {
    const out = new Map<number, Map<string, Units>>();
    for (const [s, m] of this.reportedBySecond) {
      out.set(s, new Map([...m].map(([k, u]) => [k.endsWith(SEP) ? k.slice(0, -1) : k.replace(SEP, '/'), u])));
    }
    return out;
  }
}
