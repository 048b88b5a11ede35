// Notify keeps its own idempotency record, not Powertools Idempotency: the record
// must commit in ONE transaction with the node's update (a duplicate cancels both),
// and Powertools writes its record in a separate request from the handler's work.

import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { NodeEvent } from '../../core/events';
import { changeFor, type Fact, type LedgerChange, type Move, type Operand, type Path } from '../../core/ledger/change';
import { factsAfter, factsOf, likelyFacts, type NodeFacts } from '../../core/ledger/steps';
import { CHANGE_SHARD_ATTR, changeShard, DEFAULT_CHANGE_SHARDS } from './change-shard';
import { updateExpression } from './update-expression';

export type EventOutcome = 'applied' | 'duplicate' | 'unknown_host';

/** Attempts before a lost race is left to Lambda's retry (the message is idempotent). */
const MAX_ATTEMPTS = 10;

/**
 * Applies one notification to its node: ONE transaction of the message's
 * idempotency record (Put, `attribute_not_exists`, expiring by DynamoDB TTL)
 * and the node's update. What the update does and what its condition states is
 * the core's (`changeFor`, core/ledger/change.ts); this class only writes it,
 * and picks the facts to try it on. The first try guesses the facts the
 * last event of its kind found (at first, the usual ones: a create.end of a
 * scheduled instance, a delete.end of a reported one); if
 * the node's condition fails, the cancellation returns the item as it is, the
 * step is chosen again from it, and the transaction is tried again. A
 * duplicate `message_id` cancels on the Put and changes nothing.
 */
export class DynamoEventStore {
  /** The instance state the last applied event of each kind found: the next one's first guess. */
  private readonly lastState = new Map<NodeEvent['kind'], NodeFacts['instance']>();
  /** Each host's figures and map sizes as this container last saw them: whether a move clamps, a map is full. */
  private readonly seen = new Map<string, Omit<NodeFacts, 'instance'>>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly nodesTable: string,
    private readonly eventsTable: string,
    private readonly windowS: number,
    private readonly now: () => number = Date.now,
    /** QM_CHANGE_SHARDS: the change index's shard count, which every writer and the reader share. */
    private readonly shards: number = DEFAULT_CHANGE_SHARDS,
  ) {}

  async apply(e: NodeEvent): Promise<EventOutcome> {
    const guess = likelyFacts(e);
    let facts: NodeFacts = {
      ...guess,
      ...this.seen.get(e.host),
      instance: this.lastState.get(e.kind) ?? guess.instance,
    };
    for (let attempt = 1; ; attempt++) {
      const nowMs = this.now();
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.eventsTable,
                  Item: {
                    id: e.message_id,
                    host: e.host,
                    event_type: e.event_type,
                    applied_at: new Date(nowMs).toISOString(),
                    expires_at: Math.floor(nowMs / 1000) + this.windowS,
                  },
                  ConditionExpression: 'attribute_not_exists(id)',
                },
              },
              this.nodeWrite(e, facts, nowMs),
            ],
          }),
        );
        this.lastState.set(e.kind, facts.instance);
        this.remember(e.host, factsAfter(e, facts));
        return 'applied';
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        const [idem, node] = err.CancellationReasons ?? [];
        if (idem?.Code === 'ConditionalCheckFailed') return 'duplicate';
        if (attempt >= MAX_ATTEMPTS) throw err;
        if (node?.Code === 'ConditionalCheckFailed') {
          if (!node.Item) return 'unknown_host';
          facts = factsOf(e, unmarshall(node.Item as Parameters<typeof unmarshall>[0]));
          this.remember(e.host, facts);
        } else if (node?.Code === 'TransactionConflict' || idem?.Code === 'TransactionConflict') {
          await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
        } else throw err;
      }
    }
  }

  private remember(host: string, facts: NodeFacts): void {
    if (this.seen.size >= 100_000) this.seen.clear();
    const { instance: _, ...rest } = facts;
    this.seen.set(host, rest);
  }

  /** The node's half of the transaction: the core's change as an Update, or a ConditionCheck when nothing moves. */
  private nodeWrite(e: NodeEvent, facts: NodeFacts, nowMs: number) {
    const change = changeFor(e, facts, nowMs);
    const x = new Expr();
    const Key = { host: e.host };
    const ConditionExpression = condition(x, change);
    const updates = update(x, change, nowMs, changeShard(e.host, this.shards));
    const common = {
      TableName: this.nodesTable,
      Key,
      ConditionExpression,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
    if (!updates) return { ConditionCheck: { ...common, ...x.attributes() } };
    return { Update: { ...common, UpdateExpression: updates, ...x.attributes() } };
  }
}

/** Expression attribute names and values, one placeholder per distinct name and per value. */
class Expr {
  private readonly names = new Map<string, string>();
  private readonly values: Record<string, unknown> = {};
  /** `#n0.#n1…` for a path (every segment a placeholder: map keys are uuids, names may be reserved words). */
  path(p: Path): string {
    return p
      .map((seg) => {
        const ph = this.names.get(seg) ?? `#n${this.names.size}`;
        this.names.set(seg, ph);
        return ph;
      })
      .join('.');
  }
  value(v: unknown): string {
    const ph = `:v${Object.keys(this.values).length}`;
    this.values[ph] = v;
    return ph;
  }
  operand(o: Operand): string {
    return 'path' in o ? this.path(o.path) : this.value(o.value);
  }
  attributes() {
    return {
      ExpressionAttributeNames: Object.fromEntries([...this.names].map(([name, ph]) => [ph, name])),
      ...(Object.keys(this.values).length > 0 ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

const factText = (x: Expr, f: Fact): string => {
  if ('exists' in f) return `${f.exists ? 'attribute_exists' : 'attribute_not_exists'}(${x.path(f.path)})`;
  const a = f.size ? `size(${x.path(f.path)})` : x.path(f.path);
  return `${a} ${f.cmp} ${x.value(f.than)}`;
};

/** The change's facts as one ConditionExpression. */
const condition = (x: Expr, c: LedgerChange): string => c.facts.map((f) => factText(x, f)).join(' AND ');

const moveText = (x: Expr, m: Exclude<Move, { op: 'remove' }>): string => {
  const a = x.path(m.path);
  if (m.op === 'set') return `${a} = ${x.operand(m.to)}`;
  return `${a} = ${a} ${m.op === 'add' ? '+' : '-'} ${x.operand(m.by)}`;
};

/**
 * The change's moves as one UpdateExpression, with the store's own bookkeeping:
 * `ver` + 1 (optimistic concurrency), `changed_at` and `change_shard` (the by_change_sharded index:
 * set on every write, so an item written before the index, or under another shard count, moves), and
 * on a new measurement `baseline = ver + 1`, so a claim computed from the
 * figures before it fails its condition (rule 5). Undefined when nothing moves.
 */
const update = (x: Expr, c: LedgerChange, nowMs: number, shard: string): string | undefined => {
  if (c.moves.length === 0 && !c.remeasured) return undefined;
  const sets: string[] = [];
  const removes: string[] = [];
  for (const m of c.moves) {
    if (m.op === 'remove') removes.push(x.path(m.path));
    else sets.push(moveText(x, m));
  }
  const ver = x.path(['ver']);
  const one = x.value(1);
  if (c.remeasured) sets.push(`${x.path(['baseline'])} = ${ver} + ${one}`);
  sets.push(
    `${x.path(['changed_at'])} = ${x.value(nowMs)}`,
    `${x.path([CHANGE_SHARD_ATTR])} = ${x.value(shard)}`,
    `${ver} = ${ver} + ${one}`,
  );
  return updateExpression({ set: sets, remove: removes });
};
