/**
 * What the ledger adds on top of the last report's measurement (docs/accounting.md
 * "The formula"), per resource and for `running_vms`. `COUNTED` is the one rule:
 * the report path (applyReport, toItem's counters, the API view) sums it over the
 * ledger's entries, and an event moves the figures by its difference between the
 * instance's state before and after (core/ledger/event-change.ts).
 */
import type { Claim, NodeRecord, Usage } from '../node/record';

/**
 * What the ledger knows of one instance on one node. When an instance is in more
 * than one map, the first of claims, announced, released, the last report,
 * tombstones decides (`factsOf`, and the conditions of `changeFor`).
 */
export type InstanceState = 'claimed' | 'confirmed' | 'announced' | 'reported' | 'released' | 'gone' | 'none';

/** −1, 0 or +1: how many times an entry counts on top of the measurement. */
export type Weight = -1 | 0 | 1;

/**
 * How many times the ledger counts an instance in each state on top of the last
 * report's figures: `resources` (the claimed_* counters, free RAM/disk) and
 * `vms` (running_vms).
 *   claimed    +1 resources, 0 vms: a claim reserves room; it is no VM until create.end
 *   confirmed  +1, +1: create.end confirmed it; no report measured it yet
 *   announced  +1, +1: create.end of an instance nobody claimed, not yet measured
 *   released   −1, −1: released, but the last report still measures it
 *   reported, gone, none: 0, 0 (in the measurement, or nowhere)
 * A report sets running_vms = measured + Σ vms; an event moves it by
 * vms(after) − vms(before): create.end of a claimed instance 1 − 0 = +1, a
 * release of an unconfirmed claim 0 − 0 = 0, of a reported one −1 − 0 = −1. So a
 * release never subtracts what nothing added.
 */
export const COUNTED: Readonly<Record<InstanceState, { resources: Weight; vms: Weight }>> = {
  claimed: { resources: 1, vms: 0 },
  confirmed: { resources: 1, vms: 1 },
  announced: { resources: 1, vms: 1 },
  released: { resources: -1, vms: -1 },
  reported: { resources: 0, vms: 0 },
  gone: { resources: 0, vms: 0 },
  none: { resources: 0, vms: 0 },
};

/** A stored claim's state: confirmed once its create.end set `confirmed_at`. */
export const claimState = (c: Pick<Claim, 'confirmed_at'>): 'claimed' | 'confirmed' =>
  c.confirmed_at === undefined ? 'claimed' : 'confirmed';

/** How far an instance going from `before` to `after` moves running_vms. */
export const vmsMove = (before: InstanceState, after: InstanceState): number =>
  COUNTED[after].vms - COUNTED[before].vms;

/** Claims still counting at `nowMs`: not absorbed, and confirmed or not expired. */
export const liveClaims = (claims: Record<string, Claim>, nowMs: number): Claim[] =>
  Object.values(claims)
    .filter((c) => c.confirmed_at !== undefined || Date.parse(c.expires_at) > nowMs)
    .sort((a, b) => a.claimed_at.localeCompare(b.claimed_at) || a.instance_uuid.localeCompare(b.instance_uuid));

/** Sum of claims (or any usages), per resource. */
export const claimedTotals = (xs: readonly Usage[]): Usage =>
  xs.reduce(
    (t, c) => ({ vcpus: t.vcpus + c.vcpus, memory_mb: t.memory_mb + c.memory_mb, disk_gb: t.disk_gb + c.disk_gb }),
    { vcpus: 0, memory_mb: 0, disk_gb: 0 },
  );

type LedgerMaps = Pick<NodeRecord, 'announced' | 'released'>;

/** Σ COUNTED[state][what] over `claims` and the announced and released maps. */
const onTop = (claims: readonly Claim[], r: LedgerMaps, what: 'resources' | 'vms') => {
  const t = { vcpus: 0, memory_mb: 0, disk_gb: 0, n: 0 };
  const add = (w: Weight, u: Usage) => {
    t.vcpus += w * u.vcpus;
    t.memory_mb += w * u.memory_mb;
    t.disk_gb += w * u.disk_gb;
    t.n += w;
  };
  for (const c of claims) add(COUNTED[claimState(c)][what], c);
  for (const a of Object.values(r.announced ?? {})) add(COUNTED.announced[what], a);
  for (const x of Object.values(r.released ?? {})) add(COUNTED.released[what], x);
  return t;
};

const usageOnTop = (claims: readonly Claim[], r: LedgerMaps): Usage => {
  const { vcpus, memory_mb, disk_gb } = onTop(claims, r, 'resources');
  return { vcpus, memory_mb, disk_gb };
};

/**
 * What the ledger adds to the last report's measured usage at `nowMs`: live
 * claims the report does not list + announced − released; `unconfirmed` counts
 * those claims no create.end confirmed (the others are in `running_vms` already).
 */
export const pendingUsage = (r: NodeRecord, nowMs: number): Usage & { unconfirmed: number } => {
  const listed = new Set(r.instances.map((i) => i.uuid.toLowerCase()));
  const claims = liveClaims(r.claims, nowMs).filter((c) => !listed.has(c.instance_uuid.toLowerCase()));
  return { ...usageOnTop(claims, r), unconfirmed: claims.filter((c) => claimState(c) === 'claimed').length };
};

/**
 * What the item's `claimed_*` counters hold: every stored claim (expired ones
 * too, until a report prunes them) + announced − released. Claims and events
 * move the counters with SET arithmetic; whole-item writes recompute them here.
 */
export const storedPending = (r: LedgerMaps & Pick<NodeRecord, 'claims'>): Usage =>
  usageOnTop(Object.values(r.claims), r);

/** What the ledger adds to a report's measured running_vms: confirmed claims + announced − released. */
export const vmsOnTop = (r: LedgerMaps & Pick<NodeRecord, 'claims'>): number =>
  onTop(Object.values(r.claims), r, 'vms').n;
