/**
 * What a report does to the ledger's maps (docs/accounting.md "Instance
 * states"): absorb, reap, keep, and record drift. The figures the report sets
 * are core/node/apply.ts; what each notification does is core/ledger/event-change.ts.
 */

import type { Claim, Drift, LedgerInstance, NodeRecord, Usage } from '../node/record';
import type { Instance } from '../node/schemas';
import { MAX_ANNOUNCED, MAX_DRIFT, MAX_TOMBSTONES } from './bounds';

/** Ledger bookkeeping a report applies; from the report function's config. */
export interface LedgerPolicy {
  claimTtlS: number;
  /** How long tombstones and missing-instance drift are kept (the idempotency window). */
  windowS: number;
}

const driftOf = (kind: Drift['kind'], uuid: string, u: Usage, since: string, detail: string): Drift => ({
  kind,
  instance_uuid: uuid,
  vcpus: u.vcpus,
  memory_mb: u.memory_mb,
  disk_gb: u.disk_gb,
  since,
  detail,
});

/** The `n` newest entries of a map, by the time `at` gives (ties by key). */
const newest = <T>(m: Record<string, T>, n: number, at: (v: T) => string): [string, T][] =>
  Object.entries(m)
    .sort(([ka, a], [kb, b]) => at(b).localeCompare(at(a)) || ka.localeCompare(kb))
    .slice(0, n);

const ageS = (iso: string, nowMs: number) => (nowMs - Date.parse(iso)) / 1000;

/**
 * What a report does to the ledger (docs/accounting.md): the instances it lists
 * absorb their claims and announcements (rule 3: counted once, by the
 * measurement); a claim or announcement no report lists within `claim_ttl`
 * is reaped and recorded as drift, as is a listed instance the ledger never
 * heard of; a released instance stays subtracted while the report still lists it.
 */
export const reconcile = (
  prev: Pick<NodeRecord, 'claims' | 'announced' | 'released' | 'gone' | 'drift' | 'instances'> | undefined,
  instances: Instance[],
  nowMs: number,
  policy: LedgerPolicy,
): Pick<NodeRecord, 'claims' | 'announced' | 'released' | 'gone' | 'drift'> => {
  const now = new Date(nowMs).toISOString();
  const listed = new Map(instances.map((i) => [i.uuid.toLowerCase(), i]));
  const prevListed = new Set((prev?.instances ?? []).map((i) => i.uuid.toLowerCase()));
  const missing: Drift[] = [];
  const miss = (uuid: string, u: Usage, since: string, detail: string) =>
    missing.push(driftOf('missing_instance', uuid, u, since, detail));

  const claims: Record<string, Claim> = {};
  for (const [uuid, c] of Object.entries(prev?.claims ?? {})) {
    if (listed.has(uuid.toLowerCase())) continue;
    if (c.confirmed_at === undefined) {
      if (Date.parse(c.expires_at) > nowMs) claims[uuid] = c;
      else miss(uuid, c, c.claimed_at, `claim expired at ${c.expires_at}: no create.end, no report listed it`);
    } else if (ageS(c.confirmed_at, nowMs) <= policy.claimTtlS) claims[uuid] = c;
    else miss(uuid, c, c.claimed_at, `confirmed at ${c.confirmed_at}, but no report listed it within claim_ttl`);
  }
  const announced: Record<string, LedgerInstance> = {};
  for (const [uuid, a] of Object.entries(prev?.announced ?? {})) {
    if (listed.has(uuid.toLowerCase())) continue;
    if (ageS(a.at, nowMs) <= policy.claimTtlS) announced[uuid] = a;
    else miss(uuid, a, a.at, `announced by create.end at ${a.at}, but no report listed it within claim_ttl`);
  }
  // Beyond the bound (an item written before it existed): the oldest go, as drift.
  const keptAnnounced = new Set(newest(announced, MAX_ANNOUNCED, (a) => a.at).map(([u]) => u));
  for (const [uuid, a] of Object.entries(announced)) {
    if (keptAnnounced.has(uuid)) continue;
    delete announced[uuid];
    miss(uuid, a, a.at, `announced by create.end at ${a.at}, dropped: more than ${MAX_ANNOUNCED} announced`);
  }
  const fresh = Object.entries(prev?.gone ?? {}).filter(([, at]) => ageS(at, nowMs) <= policy.windowS);
  const gone: Record<string, string> = Object.fromEntries(
    newest(Object.fromEntries(fresh), MAX_TOMBSTONES, (at) => at),
  );
  const released: Record<string, LedgerInstance> = {};
  for (const [uuid, r] of Object.entries(prev?.released ?? {})) if (listed.has(uuid.toLowerCase())) released[uuid] = r;
  // Released before any report listed it: a report measured before the delete still counts it.
  for (const [uuid, at] of Object.entries(gone)) {
    const i = listed.get(uuid.toLowerCase());
    if (i && !released[uuid]) released[uuid] = { vcpus: i.vcpus, memory_mb: i.memory_mb, disk_gb: i.disk_gb, at };
  }

  const known = (uuid: string) =>
    Object.hasOwn(prev?.claims ?? {}, uuid) ||
    Object.hasOwn(prev?.announced ?? {}, uuid) ||
    Object.hasOwn(gone, uuid) ||
    prevListed.has(uuid);
  const unknown: Drift[] = [];
  const stillUnknown = new Set<string>();
  for (const d of prev?.drift ?? []) {
    if (d.kind === 'unknown_instance' && listed.has(d.instance_uuid)) {
      unknown.push(d);
      stillUnknown.add(d.instance_uuid);
    }
  }
  for (const [uuid, i] of listed) {
    if (stillUnknown.has(uuid) || known(uuid)) continue;
    unknown.push(
      driftOf(
        'unknown_instance',
        uuid,
        i,
        now,
        'reported running, but no scheduler claimed it and no create.end announced it',
      ),
    );
  }
  const oldMissing = (prev?.drift ?? []).filter(
    (d) => d.kind === 'missing_instance' && ageS(d.since, nowMs) <= policy.windowS + policy.claimTtlS,
  );
  const drift = [...unknown, ...missing, ...oldMissing]
    .sort((a, b) => b.since.localeCompare(a.since) || a.instance_uuid.localeCompare(b.instance_uuid))
    .slice(0, MAX_DRIFT);
  return { claims, announced, released, gone, drift };
};
