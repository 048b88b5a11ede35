// Notify keeps its own idempotency record, not Powertools Idempotency: the record
// must commit in ONE transaction with the node's update (a duplicate cancels both),
// and Powertools writes its record in a separate request from the handler's work.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  boundedBy,
  FIGURES,
  type Figure,
  factsAfter,
  figureDeltas,
  hasRoom,
  type InstanceState,
  likelyFacts,
  MAX_MEASURED,
  type NodeEvent,
  type NodeFacts,
  type Step,
  stepFor,
} from '../../core/events';
import { MAX_ANNOUNCED, MAX_TOMBSTONES } from '../../core/nodes';

export type EventOutcome = 'applied' | 'duplicate' | 'unknown_host';

/** Attempts before a lost race is left to Lambda's retry (the message is idempotent). */
const MAX_ATTEMPTS = 10;

/**
 * Applies one notification to its node: ONE transaction of the message's
 * idempotency record (Put, `attribute_not_exists`, expiring by DynamoDB TTL)
 * and the node's update, whose condition states the facts the step was chosen
 * on. Nothing is computed from a read and written back: the counters move by
 * arithmetic in the update expression. The first try guesses the facts the
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

  /** The node's half of the transaction: an Update guarded by `facts`, or a ConditionCheck when nothing moves. */
  private nodeWrite(e: NodeEvent, facts: NodeFacts, nowMs: number) {
    const step = stepFor(e, facts);
    const x = new Expr();
    const conditions = [`attribute_exists(${x.name('#host', 'host')})`];
    if (e.kind === 'create_end' || e.kind === 'release')
      conditions.push(instanceCondition(x, e.instance, facts.instance));
    const sets: string[] = [];
    const removes: string[] = [];
    const nowIso = x.value(':nowIso', new Date(nowMs).toISOString());

    // The bounded map this step depends on: the condition states whether it had room (docs/accounting.md).
    const bounded = boundedBy(e, facts);
    if (bounded) {
      const [ph, max] = bounded === 'gone' ? (['#g', MAX_TOMBSTONES] as const) : (['#a', MAX_ANNOUNCED] as const);
      const m = x.name(ph, bounded);
      const v = x.value(`:max_${bounded}`, max);
      conditions.push(hasRoom(bounded, facts) ? `size(${m}) < ${v}` : `size(${m}) >= ${v}`);
    }
    for (const [figure, d] of Object.entries(figureDeltas(e, step)) as [Figure, number][])
      clampedMove(x, figure, d, facts[figure], conditions, sets);
    if (e.kind === 'utilization') {
      // A new measurement: claims computed from the figures before it must be computed again (rule 5).
      sets.push(`${x.name('#bl', 'baseline')} = ${x.name('#ver', 'ver')} + ${x.value(':one', 1)}`);
    }
    moves(x, e, step, nowIso, sets, removes);

    const Key = { host: e.host };
    const ConditionExpression = conditions.join(' AND ');
    if (sets.length === 0 && removes.length === 0) {
      const used = x.used(ConditionExpression);
      return {
        ConditionCheck: {
          TableName: this.nodesTable,
          Key,
          ConditionExpression,
          ...used,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
        },
      };
    }
    sets.push(`${x.name('#chg', 'changed_at')} = ${x.value(':now', nowMs)}`);
    sets.push(`${x.name('#upd', 'updated_at')} = ${nowIso}`);
    sets.push(`${x.name('#ver', 'ver')} = ${x.name('#ver', 'ver')} + ${x.value(':one', 1)}`);
    const UpdateExpression = `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`;
    return {
      Update: {
        TableName: this.nodesTable,
        Key,
        UpdateExpression,
        ConditionExpression,
        ...x.used(UpdateExpression, ConditionExpression),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    };
  }
}

/** Expression attribute names and values, collected as they are used. */
class Expr {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  name(placeholder: string, name: string): string {
    this.names[placeholder] = name;
    return placeholder;
  }
  value(placeholder: string, value: unknown): string {
    this.values[placeholder] = value;
    return placeholder;
  }
  /** The names and values the expressions use (DynamoDB rejects unused ones). */
  used(...expressions: string[]) {
    const text = expressions.join(' ');
    const uses = (ph: string) => new RegExp(`${ph}(?![A-Za-z0-9_])`).test(text);
    const pick = (m: Record<string, unknown>) => Object.fromEntries(Object.entries(m).filter(([k]) => uses(k)));
    const values = pick(this.values);
    return {
      ExpressionAttributeNames: pick(this.names) as Record<string, string>,
      ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    };
  }
}

/** The ledger maps of a node item, and their precedence when classifying an instance. */
const MAPS = { claims: '#c', announced: '#a', released: '#r', inst: '#i', gone: '#g' } as const;

/**
 * The condition that holds exactly when `uuid` is in `state` — the same
 * precedence as factsOf: claims, announced, released, the last report, tombstones.
 */
const instanceCondition = (x: Expr, uuid: string, state: InstanceState): string => {
  for (const [name, ph] of Object.entries(MAPS)) x.name(ph, name);
  const u = x.name('#u', uuid);
  const has = (m: string) => `attribute_exists(${m}.${u})`;
  const hasNot = (m: string) => `attribute_not_exists(${m}.${u})`;
  const conf = `${MAPS.claims}.${u}.${x.name('#conf', 'confirmed_at')}`;
  switch (state) {
    case 'claimed':
      return `${has('#c')} AND attribute_not_exists(${conf})`;
    case 'confirmed':
      return `attribute_exists(${conf})`;
    case 'announced':
      return `${hasNot('#c')} AND ${has('#a')}`;
    case 'released':
      return `${hasNot('#c')} AND ${hasNot('#a')} AND ${has('#r')}`;
    case 'reported':
      return `${hasNot('#c')} AND ${hasNot('#a')} AND ${hasNot('#r')} AND ${has('#i')}`;
    case 'gone':
      return `${hasNot('#c')} AND ${hasNot('#a')} AND ${hasNot('#r')} AND ${hasNot('#i')} AND ${has('#g')}`;
    case 'none':
      return `${hasNot('#c')} AND ${hasNot('#a')} AND ${hasNot('#r')} AND ${hasNot('#i')} AND ${hasNot('#g')}`;
  }
};

/** What an item says of the event's instance, its figures and the sizes of its bounded maps. */
export const factsOf = (e: NodeEvent, item: Record<string, unknown>): NodeFacts => {
  const map = (k: string) => (item[k] ?? {}) as Record<string, Record<string, unknown> | string>;
  const figures = Object.fromEntries(FIGURES.map((f) => [f, Number(item[f] ?? 0)])) as Record<Figure, number>;
  const sizes = { tombstones: Object.keys(map('gone')).length, announced: Object.keys(map('announced')).length };
  if (e.kind !== 'create_end' && e.kind !== 'release') return { instance: 'none', ...figures, ...sizes };
  const u = e.instance;
  let instance: InstanceState = 'none';
  const claim = map('claims')[u] as Record<string, unknown> | undefined;
  if (claim) instance = claim.confirmed_at === undefined ? 'claimed' : 'confirmed';
  else if (map('announced')[u]) instance = 'announced';
  else if (map('released')[u]) instance = 'released';
  else if (map('inst')[u]) instance = 'reported';
  else if (map('gone')[u]) instance = 'gone';
  return { instance, ...figures, ...sizes };
};

/**
 * Moves a figure by `delta`, kept in [0, MAX_MEASURED] by the condition's
 * branch: `+ delta` where it lands inside, else `= 0` / `= MAX_MEASURED`; the
 * branch is the one `current` (the facts) says, and the condition checks it.
 */
const clampedMove = (x: Expr, figure: Figure, delta: number, current: number, conditions: string[], sets: string[]) => {
  if (delta === 0) return;
  const a = x.name(`#${figure}`, figure);
  if (delta < 0) {
    const need = x.value(`:${figure}_need`, -delta);
    if (current + delta >= 0) {
      conditions.push(`${a} >= ${need}`);
      sets.push(`${a} = ${a} - ${need}`);
    } else {
      conditions.push(`${a} < ${need}`);
      sets.push(`${a} = ${x.value(':zero', 0)}`);
    }
    return;
  }
  const top = x.value(`:${figure}_top`, MAX_MEASURED - delta);
  if (current + delta <= MAX_MEASURED) {
    conditions.push(`${a} <= ${top}`);
    sets.push(`${a} = ${a} + ${x.value(`:${figure}_d`, delta)}`);
  } else {
    conditions.push(`${a} > ${top}`);
    sets.push(`${a} = ${x.value(':max', MAX_MEASURED)}`);
  }
};

/** The SET/REMOVE clauses of a step's ledger maps and claimed_* counters (figures aside: `clampedMove`). */
const moves = (x: Expr, e: NodeEvent, step: Step, nowIso: string, sets: string[], removes: string[]): void => {
  const counters = [
    ['#cv', 'claimed_vcpus', 'vcpus'],
    ['#cm', 'claimed_memory_mb', 'memory_mb'],
    ['#cd', 'claimed_disk_gb', 'disk_gb'],
  ] as const;
  const u = '#u';
  switch (step.op) {
    case 'confirm':
      sets.push(`#c.${u}.#conf = ${nowIso}`);
      return;
    case 'announce': {
      if (e.kind !== 'create_end') return;
      const entry = { vcpus: e.vcpus, memory_mb: e.memory_mb, disk_gb: e.disk_gb, at: x.values[nowIso] };
      sets.push(`#a.${u} = ${x.value(':entry', entry)}`);
      for (const [ph, name, field] of counters)
        sets.push(`${x.name(ph, name)} = ${ph} + ${x.value(`:${field}`, e[field])}`);
      return;
    }
    case 'release': {
      // The stored sizes leave, whatever the message says: what was counted is what is taken off.
      const from =
        step.from === 'claimed' || step.from === 'confirmed' ? '#c' : step.from === 'announced' ? '#a' : '#i';
      for (const [ph, name, field] of counters) {
        sets.push(`${x.name(ph, name)} = ${ph} - ${from}.${u}.${x.name(`#f_${field}`, field)}`);
      }
      if (step.tombstone) sets.push(`#g.${u} = ${nowIso}`);
      if (step.from === 'reported') sets.push(`#r.${u} = #i.${u}`);
      else removes.push(`${from}.${u}`);
      return;
    }
    case 'tombstone':
      sets.push(`#g.${u} = ${nowIso}`);
      return;
    case 'utilization':
    case 'workload':
    case 'none':
      return;
  }
};
