/**
 * What one notification does to a node item, as data: the facts it was chosen
 * on (its condition) and the moves (its update). The store turns a change into
 * a ConditionExpression and an UpdateExpression and decides nothing itself —
 * the split Powertools' idempotency utility makes between BasePersistenceLayer
 * (what to record, when) and its DynamoDB layer (how to write it). Nothing is
 * computed from a read and written back: counters move by arithmetic in the
 * update, and the condition fails if the item is not as the facts say.
 */
import type { NodeEvent } from '../events';
import { MAX_MEASURED } from './bounds';
import {
  BOUND_OF,
  boundedBy,
  type Figure,
  figureDeltas,
  hasRoom,
  type NodeFacts,
  type Step,
  stepFor,
  transitionOf,
} from './steps';
import { COUNTED, type InstanceState } from './usage';

/** An attribute of the node item by its path, map keys included: `['claims', uuid, 'confirmed_at']`. */
export type Path = readonly string[];

/** One fact a change depends on; its condition is all of them. `size` compares the map's entry count. */
export type Fact =
  | { path: Path; exists: boolean }
  | { path: Path; size?: true; cmp: '<' | '<=' | '>' | '>='; than: number };

/** A move's operand: a value, or an attribute of the same item as it is before the write. */
export type Operand = { value: unknown } | { path: Path };

/** One write to the item. */
export type Move =
  | { op: 'set'; path: Path; to: Operand }
  | { op: 'add'; path: Path; by: Operand }
  | { op: 'subtract'; path: Path; by: Operand }
  | { op: 'remove'; path: Path };

/** What one event does to one node item. */
export interface LedgerChange {
  step: Step;
  /** The item must show exactly these, else the change was chosen on the wrong facts (and is chosen again). */
  facts: Fact[];
  /** Empty when nothing moves: then the store only checks the facts. */
  moves: Move[];
  /** A new measurement (utilization): claims bounded on the figures before it must be computed again (rule 5). */
  remeasured: boolean;
}

/** The maps an instance may be in, by precedence (`factsOf`); `inst` is the last report's instances by uuid. */
const MAPS = ['claims', 'announced', 'released', 'inst', 'gone'] as const;
const MAP_OF: Record<Exclude<InstanceState, 'none'>, (typeof MAPS)[number]> = {
  claimed: 'claims',
  confirmed: 'claims',
  announced: 'announced',
  released: 'released',
  reported: 'inst',
  gone: 'gone',
};

/** The claimed_* counter of each resource (core/ledger/usage.ts `storedPending`). */
const COUNTERS = [
  ['claimed_vcpus', 'vcpus'],
  ['claimed_memory_mb', 'memory_mb'],
  ['claimed_disk_gb', 'disk_gb'],
] as const;

/** The facts that hold exactly when `uuid` is in `state`: absent from every map before its own, present in it. */
export const instanceIs = (uuid: string, state: InstanceState): Fact[] => {
  const confirmedAt: Path = ['claims', uuid, 'confirmed_at'];
  if (state === 'claimed')
    return [
      { path: ['claims', uuid], exists: true },
      { path: confirmedAt, exists: false },
    ];
  if (state === 'confirmed') return [{ path: confirmedAt, exists: true }];
  const own = state === 'none' ? MAPS.length : MAPS.indexOf(MAP_OF[state]);
  const facts: Fact[] = MAPS.slice(0, own).map((m) => ({ path: [m, uuid], exists: false }));
  if (state !== 'none') facts.push({ path: [MAP_OF[state], uuid], exists: true });
  return facts;
};

/**
 * Moves `figure` by `delta`, kept in [0, MAX_MEASURED]: `+ delta` where it lands
 * inside, else `= 0` / `= MAX_MEASURED`. The branch is the one `current` (the
 * facts) says, and the fact makes the condition check it:
 *   delta < 0:  x ≥ −delta → x − (−delta);   x < −delta → 0
 *   delta > 0:  x ≤ MAX − delta → x + delta;  x > MAX − delta → MAX
 */
const clamped = (figure: Figure, delta: number, current: number, facts: Fact[], moves: Move[]): void => {
  const path = [figure];
  if (delta < 0) {
    const inside = current + delta >= 0;
    facts.push({ path, cmp: inside ? '>=' : '<', than: -delta });
    moves.push(inside ? { op: 'subtract', path, by: { value: -delta } } : { op: 'set', path, to: { value: 0 } });
    return;
  }
  const inside = current + delta <= MAX_MEASURED;
  facts.push({ path, cmp: inside ? '<=' : '>', than: MAX_MEASURED - delta });
  moves.push(inside ? { op: 'add', path, by: { value: delta } } : { op: 'set', path, to: { value: MAX_MEASURED } });
};

/**
 * The ledger maps and claimed_* counters a step moves. The counters move by
 * COUNTED[to].resources − COUNTED[from].resources times the instance's size:
 * announce 1 − 0 = +payload sizes; a release 0 − 1 (claim, announcement) or
 * −1 − 0 (reported → released) = −the stored sizes, whatever the message says;
 * confirm 1 − 1 = 0.
 */
const ledgerMoves = (e: NodeEvent, step: Step, at: string): Move[] => {
  const t = transitionOf(step);
  if (!t || (e.kind !== 'create_end' && e.kind !== 'release')) return [];
  const u = e.instance;
  const moves: Move[] = [];
  const w = COUNTED[t.to].resources - COUNTED[t.from].resources;
  const counters = (size: (field: (typeof COUNTERS)[number][1]) => Operand) => {
    for (const [counter, field] of COUNTERS)
      moves.push({ op: w > 0 ? 'add' : 'subtract', path: [counter], by: size(field) });
  };
  switch (step.op) {
    case 'confirm':
      moves.push({ op: 'set', path: ['claims', u, 'confirmed_at'], to: { value: at } });
      break;
    case 'announce':
      if (e.kind !== 'create_end') break;
      moves.push({
        op: 'set',
        path: ['announced', u],
        to: { value: { vcpus: e.vcpus, memory_mb: e.memory_mb, disk_gb: e.disk_gb, at } },
      });
      if (w !== 0) counters((field) => ({ value: e[field] }));
      break;
    case 'release': {
      const from = MAP_OF[step.from];
      if (w !== 0) counters((field) => ({ path: [from, u, field] }));
      if (step.tombstone) moves.push({ op: 'set', path: ['gone', u], to: { value: at } });
      if (step.from === 'reported') moves.push({ op: 'set', path: ['released', u], to: { path: ['inst', u] } });
      else moves.push({ op: 'remove', path: [from, u] });
      break;
    }
    case 'tombstone':
      moves.push({ op: 'set', path: ['gone', u], to: { value: at } });
      break;
  }
  return moves;
};

/**
 * The change `e` makes at `nowMs` to a node item that shows `f`: the node
 * exists; the instance is in the state `f` says; a bounded map it grows has
 * room (or not, and then it does not grow); each figure moved lands inside
 * [0, MAX_MEASURED] or is clamped, as `f`'s figures say.
 */
export const changeFor = (e: NodeEvent, f: NodeFacts, nowMs: number): LedgerChange => {
  const step = stepFor(e, f);
  const at = new Date(nowMs).toISOString();
  const facts: Fact[] = [{ path: ['host'], exists: true }];
  if (e.kind === 'create_end' || e.kind === 'release') facts.push(...instanceIs(e.instance, f.instance));
  const bounded = boundedBy(e, f);
  if (bounded)
    facts.push({ path: [bounded], size: true, cmp: hasRoom(bounded, f) ? '<' : '>=', than: BOUND_OF[bounded] });
  const moves: Move[] = [];
  for (const [figure, d] of Object.entries(figureDeltas(e, step)) as [Figure, number][])
    clamped(figure, d, f[figure], facts, moves);
  moves.push(...ledgerMoves(e, step, at));
  const remeasured = e.kind === 'utilization';
  if (moves.length > 0 || remeasured) moves.push({ op: 'set', path: ['updated_at'], to: { value: at } });
  return { step, facts, moves, remeasured };
};
