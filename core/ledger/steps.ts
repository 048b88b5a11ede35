/**
 * Which step a notification takes on a node's ledger, from the facts of the
 * node item it depends on (docs/accounting.md "Instance states"): the
 * instance's state, the figures a move may clamp, how full the bounded maps
 * are. core/ledger/change.ts turns a step into a declarative change.
 */

import type { NodeEvent } from '../events';
import type { Usage } from '../node/record';
import type { Instance } from '../node/schemas';
import { clampFigure, MAX_ANNOUNCED, MAX_TOMBSTONES } from './bounds';
import { claimState, type InstanceState, vmsMove } from './usage';

/** The measured figures a message may move; each stays in [0, MAX_MEASURED]. */
export const FIGURES = ['current_workload', 'memory_mb_used', 'local_gb_used', 'running_vms'] as const;
export type Figure = (typeof FIGURES)[number];

/** The facts of a node item one event's step depends on. */
export type NodeFacts = {
  instance: InstanceState;
  /** Entries in `gone` and `announced`: whether one more fits (MAX_TOMBSTONES, MAX_ANNOUNCED). */
  tombstones: number;
  announced: number;
} & Record<Figure, number>;

/** What one event does, given the facts: the write's condition states exactly these facts. */
export type Step =
  /** create.end of a claimed instance: the claim stops expiring; running_vms + 1. */
  | { op: 'confirm' }
  /** create.end of an instance nobody claimed: counted on top of the report until one lists it; running_vms + 1. */
  | { op: 'announce' }
  /**
   * delete.end / create.error: take the instance's stored resources off; running_vms − 1 unless it was an
   * unconfirmed claim; a tombstone unless MAX_TOMBSTONES are kept.
   */
  | { op: 'release'; from: 'claimed' | 'confirmed' | 'announced' | 'reported'; tombstone: boolean }
  /** Release of an instance the ledger does not hold: only a tombstone, so a late create.end changes nothing. */
  | { op: 'tombstone' }
  /** Already reflected (e.g. the report listed it first), or the bound is reached: only the workload moves. */
  | { op: 'none' }
  | { op: 'utilization' }
  | { op: 'workload' };

/** A bounded map a step may grow. */
export type BoundedMap = 'gone' | 'announced';

/** The bound of each map a step may grow. */
export const BOUND_OF: Readonly<Record<BoundedMap, number>> = { gone: MAX_TOMBSTONES, announced: MAX_ANNOUNCED };

/** Which bounded map the step for `e` depends on, given its instance state: its condition states how full it is. */
export const boundedBy = (e: NodeEvent, f: Pick<NodeFacts, 'instance'>): BoundedMap | undefined => {
  if (e.kind === 'release' && f.instance !== 'released' && f.instance !== 'gone') return 'gone';
  if (e.kind === 'create_end' && f.instance === 'none') return 'announced';
  return undefined;
};

/** Whether the bounded map the step depends on has room for one more entry. */
export const hasRoom = (map: BoundedMap, f: NodeFacts): boolean =>
  (map === 'gone' ? f.tombstones : f.announced) < BOUND_OF[map];

/** The step `e` takes on a node whose item shows `f`. */
export const stepFor = (e: NodeEvent, f: NodeFacts): Step => {
  switch (e.kind) {
    case 'create_end':
      if (f.instance === 'claimed') return { op: 'confirm' };
      if (f.instance === 'none' && hasRoom('announced', f)) return { op: 'announce' };
      return { op: 'none' };
    case 'release':
      if (
        f.instance === 'claimed' ||
        f.instance === 'confirmed' ||
        f.instance === 'announced' ||
        f.instance === 'reported'
      )
        return { op: 'release', from: f.instance, tombstone: hasRoom('gone', f) };
      if (f.instance === 'none' && hasRoom('gone', f)) return { op: 'tombstone' };
      return { op: 'none' };
    case 'utilization':
      return { op: 'utilization' };
    case 'workload':
      return { op: 'workload' };
  }
};

/** The instance's state before and after the step; undefined when the step moves no instance. */
export const transitionOf = (step: Step): { from: InstanceState; to: InstanceState } | undefined => {
  switch (step.op) {
    case 'confirm':
      return { from: 'claimed', to: 'confirmed' };
    case 'announce':
      return { from: 'none', to: 'announced' };
    case 'release':
      // A reported instance stays in the measurement until a report drops it: released, not gone.
      return { from: step.from, to: step.from === 'reported' ? 'released' : step.tombstone ? 'gone' : 'none' };
    case 'tombstone':
      return { from: 'none', to: 'gone' };
    default:
      return undefined;
  }
};

/**
 * How far the step asks each figure to move (before clamping): the workload by
 * `e.workload`; running_vms by the instance's move in COUNTED (core/ledger/usage.ts);
 * a utilization update's raw deltas (free goes up, so used goes down, as in
 * Nova's `compute_node_utilization_update`).
 */
export const figureDeltas = (e: NodeEvent, step: Step): Partial<Record<Figure, number>> => {
  const d: Partial<Record<Figure, number>> = {};
  if (e.workload !== 0) d.current_workload = e.workload;
  const t = transitionOf(step);
  const vms = t ? vmsMove(t.from, t.to) : 0;
  if (vms !== 0) d.running_vms = vms;
  if (e.kind === 'utilization') {
    if (e.free_ram_mb_delta !== 0) d.memory_mb_used = -e.free_ram_mb_delta;
    if (e.free_disk_gb_delta !== 0) d.local_gb_used = -e.free_disk_gb_delta;
    if (e.vm_delta !== 0) d.running_vms = e.vm_delta;
  }
  return d;
};

/** The workload after the event: moved by `e.workload`, kept in [0, MAX_MEASURED]. */
export const workloadAfter = (e: NodeEvent, current: number): number => clampFigure(current, e.workload);

/**
 * The last report's instances by lowercase uuid, as a node item keeps them (`inst`),
 * so an event's condition can test `inst.<uuid>` without reading the list.
 */
export const reportedByUuid = (instances: readonly Instance[]): Record<string, Usage> =>
  Object.fromEntries(
    instances.map((i) => [i.uuid.toLowerCase(), { vcpus: i.vcpus, memory_mb: i.memory_mb, disk_gb: i.disk_gb }]),
  );

/**
 * What a node item (the record as stored, with `inst`) says of the event's
 * instance, its figures and the sizes of its bounded maps. The instance's state
 * is the first map that holds it: claims, announced, released, inst, gone.
 */
export const factsOf = (e: NodeEvent, item: Readonly<Record<string, unknown>>): NodeFacts => {
  const map = (k: string) => (item[k] ?? {}) as Record<string, Record<string, unknown> | string>;
  const figures = Object.fromEntries(FIGURES.map((f) => [f, Number(item[f] ?? 0)])) as Record<Figure, number>;
  const sizes = { tombstones: Object.keys(map('gone')).length, announced: Object.keys(map('announced')).length };
  if (e.kind !== 'create_end' && e.kind !== 'release') return { instance: 'none', ...figures, ...sizes };
  const u = e.instance;
  let instance: InstanceState = 'none';
  const claim = map('claims')[u] as Record<string, unknown> | undefined;
  if (claim) instance = claimState(claim);
  else if (map('announced')[u]) instance = 'announced';
  else if (map('released')[u]) instance = 'released';
  else if (map('inst')[u]) instance = 'reported';
  else if (map('gone')[u]) instance = 'gone';
  return { instance, ...figures, ...sizes };
};

/** The facts after the step is applied: the next event's first guess for the same host. */
export const factsAfter = (e: NodeEvent, f: NodeFacts): NodeFacts => {
  const step = stepFor(e, f);
  const after = { ...f };
  for (const [k, d] of Object.entries(figureDeltas(e, step)) as [Figure, number][]) after[k] = clampFigure(f[k], d);
  if (step.op === 'tombstone' || (step.op === 'release' && step.tombstone)) after.tombstones++;
  if (step.op === 'announce') after.announced++;
  if (step.op === 'release' && step.from === 'announced') after.announced--;
  return after;
};

/**
 * The guess before any read: the common case for each event (a scheduled
 * create, a delete after a report), with figures from which every move lands
 * exactly and room in the bounded maps.
 */
export const likelyFacts = (e: NodeEvent): NodeFacts => {
  const instance = e.kind === 'create_end' ? 'claimed' : e.kind === 'release' ? 'reported' : 'none';
  const f: NodeFacts = {
    instance,
    tombstones: 0,
    announced: 0,
    current_workload: 0,
    memory_mb_used: 0,
    local_gb_used: 0,
    running_vms: 0,
  };
  for (const [k, d] of Object.entries(figureDeltas(e, stepFor(e, f))) as [Figure, number][]) f[k] = Math.max(0, -d);
  return f;
};
