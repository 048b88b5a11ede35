/**
 * POST /schedule and GET /decisions/{id}: load host states, run the pure
 * scheduler, claim atomically, store the decision. The claim's conditional
 * write is the arbiter; the in-memory fleet only has to be good enough to
 * choose well, and a lost race re-reads the hosts it lost on and tries again.
 */

import {
  checkGroup,
  earlierClaims,
  groupClaimOf,
  hostClaimsOf,
  hostOf,
  MAX_GROUP_MEMBERS,
  NO_GROUP,
  type PickedHost,
  without,
  ZERO,
} from './claims';
import type { Claim } from './nodes';
import type {
  ClaimOutcome,
  DecisionStore,
  Fleet,
  FleetStore,
  GroupClaim,
  GroupState,
  InstanceClaimRef,
  StoredNode,
} from './ports';
import { hostStateFromNode } from './scheduler/host-state';
import { signatureOf } from './scheduler/instance-signature';
import type { ResolvedOptions } from './scheduler/options';
import { reasonOf } from './scheduler/reasons';
import { needsInstanceUuids, type ScheduleRequest, toRequestSpec } from './scheduler/request';
import { type Decision, noValidHostError, schedule } from './scheduler/scheduler';
import type { HostState, RequestSpec } from './scheduler/types';

export interface ScheduleDeps {
  fleet: Fleet;
  hostStates: HostStateCache;
  store: FleetStore;
  decisions: DecisionStore;
  opts: ResolvedOptions;
  decisionTtlS: number;
  /** Survivors whose weigher breakdown a stored decision keeps (0: all); a dry run returns all. */
  rankingLimit: number;
  /** How many times a request re-reads and retries after losing claims. */
  maxClaimAttempts: number;
  now: () => number;
  rng: () => number;
  newId: () => string;
  /** Waits before a retry that lost a race for an instance's pointer (jittered by `rng`). */
  sleep?: (ms: number) => Promise<void>;
}

export interface ScheduleResult {
  decision_id: string;
  selections: Array<{ instance_uuid: string; host: string; weight: number }>;
  claims: Claim[];
  dry_run: boolean;
  summary: string;
  ranking?: Decision['ranking'];
  /** How the decision was made: DynamoDB items read, the age of the host states, claim attempts. */
  stats: Stats;
}

interface Stats {
  items_read: number;
  host_state_age_ms: number;
  attempts: number;
  elapsed_ms: number;
  timings: Record<string, number>;
}

const statsOf = (m: Stats): Stats => ({
  items_read: m.items_read,
  host_state_age_ms: m.host_state_age_ms,
  attempts: m.attempts,
  elapsed_ms: m.elapsed_ms,
  timings: m.timings,
});

type Entry = { ver: number; validUntil: number; state: HostState };

/**
 * HostStates built from stored nodes, reused while the node's version is the
 * same and nothing time-dependent has changed: it stays up, and no claim
 * expires. Building 10k states per request would cost more than filtering them.
 */
export class HostStateCache {
  private readonly cache = new Map<string, Entry>();
  /** The same entries by node object: a stored node is never changed in place, so no key or `ver` to compare. */
  private readonly byNode = new WeakMap<StoredNode, Entry>();
  constructor(private readonly opts: ResolvedOptions) {}

  stateOf(n: StoredNode, nowMs: number): HostState {
    const same = this.byNode.get(n);
    if (same !== undefined && nowMs < same.validUntil) return same.state;
    const hit = this.cache.get(n.record.host);
    if (hit && hit.ver === n.ver && nowMs < hit.validUntil) {
      this.byNode.set(n, hit);
      return hit.state;
    }
    const state = hostStateFromNode(n.record, this.opts, nowMs);
    let validUntil = state.up ? n.record.received_at_ms + this.opts.service_down_time * 1000 : nowMs;
    for (const c of Object.values(n.record.claims)) {
      const exp = Date.parse(c.expires_at);
      if (exp > nowMs && exp < validUntil) validUntil = exp;
    }
    const entry = { ver: n.ver, validUntil, state };
    this.cache.set(n.record.host, entry);
    this.byNode.set(n, entry);
    return state;
  }
}

/**
 * Marks the hosts that hold members of the request's group (from the group item) in the host
 * states. The request's own instances do not count: their claims move with this request (rule 6).
 */
const markGroupHosts = (
  states: HostState[],
  group: string | undefined,
  state: GroupState,
  own: ReadonlySet<string>,
): void => {
  if (!group || state.hosts.size === 0) return;
  const set = new Set<string>();
  for (const [host, members] of state.hosts) if ([...members].some((u) => !own.has(u))) set.add(host);
  if (set.size === 0) return;
  for (let i = 0; i < states.length; i++) {
    const h = states[i] as HostState;
    if (!set.has(h.host)) continue;
    const instances = new Map(h.instances);
    instances.set(`group:${group}`, { group });
    states[i] = { ...h, instances, ...signatureOf(instances) };
  }
};

/** The stored form of a decision (GET /decisions/{id}); test/fixtures/big-decision.ts builds its records with it too. */
export const decisionRecord = (
  id: string,
  req: ScheduleRequest,
  spec: RequestSpec,
  decision: Decision,
  extra: Record<string, unknown>,
) => ({
  decision_id: id,
  request: { ...req, request_spec: { ...req.request_spec, instance_uuids: spec.instance_uuids } },
  placed: decision.placed,
  summary: decision.summary,
  hosts_considered: decision.hosts_considered,
  filter_counts: decision.filter_counts,
  // Keyed by host, so "why not host X?" is one lookup.
  rejections: Object.fromEntries(
    decision.rejections.map((r) => [
      r.host,
      { filter: r.filter, reason: reasonOf(r), code: r.code, figures: r.figures, instance_index: r.instance_index },
    ]),
  ),
  ranking: decision.ranking,
  ...(decision.scales ? { scales: decision.scales } : {}),
  picks: decision.picks,
  ...extra,
});

/** Runs one schedule request end to end. Throws NoValidHostError (with decision_id) when it cannot place. */
export const scheduleRequest = async (
  deps: ScheduleDeps,
  req: ScheduleRequest,
  newUuid: () => string,
): Promise<ScheduleResult> => {
  const id = deps.newId();
  const spec = toRequestSpec(
    req,
    needsInstanceUuids(req) ? Array.from({ length: req.request_spec.num_instances }, newUuid) : undefined,
  );
  const group = spec.scheduler_hints.group;
  const policy = spec.scheduler_hints.group_policy;
  const t0 = deps.now();
  const timings = { refresh_ms: 0, build_ms: 0, schedule_ms: 0, claim_ms: 0, store_ms: 0 };
  const timed = async <T>(phase: keyof typeof timings, f: () => T | Promise<T>): Promise<T> => {
    const start = deps.now();
    try {
      return await f();
    } finally {
      timings[phase] += deps.now() - start;
    }
  };
  let itemsRead = 0;
  const lost: string[] = [];
  // Uuids the client gave may hold claims already (rule 6); ones made up here cannot.
  const clientUuids = !needsInstanceUuids(req);
  const own = new Set(spec.instance_uuids);
  /**
   * Nodes read consistently after the last lost race, and the pointers that attempt read before
   * it: a node read then may say that the claim such a pointer names is gone.
   */
  let fresh = new Map<string, StoredNode | undefined>();
  let readBefore = new Map<string, InstanceClaimRef>();
  let pointerRaces = 0;

  for (let attempt = 1; ; attempt++) {
    // A dry run answers "what would happen now": it always reads what changed.
    const fleet = await timed('refresh_ms', () => deps.fleet.refresh({ fresh: req.dry_run || attempt > 1 }));
    itemsRead += fleet.itemsRead;
    const groupState = group && policy ? await timed('refresh_ms', () => deps.store.group(group)) : NO_GROUP;
    if (group && policy) itemsRead += 1;
    const pointers = clientUuids
      ? await timed('refresh_ms', () => deps.store.instanceClaims(spec.instance_uuids))
      : new Map<string, InstanceClaimRef>();
    if (clientUuids) itemsRead += spec.instance_uuids.length;
    const earlier = earlierClaims(spec.instance_uuids, pointers, readBefore, fresh);
    if (group && policy) checkGroup(group, policy, groupState, own, spec.instance_uuids.length);
    const now = deps.now();
    const states: HostState[] = [];
    // The hosts that hold claims moving with this request (rule 6): almost always none.
    const moving = new Map<string, InstanceClaimRef[]>();
    for (const r of earlier) moving.set(r.host, [...(moving.get(r.host) ?? []), r]);
    await timed('build_ms', () => {
      for (const n of fleet.nodes) {
        const mine =
          moving.size === 0 ? undefined : moving.get(n.record.host)?.filter((r) => n.record.claims[r.instance_uuid]);
        // Placement replaces a consumer's allocations: the host is judged without the claims that move.
        states.push(
          mine === undefined || mine.length === 0
            ? deps.hostStates.stateOf(n, now)
            : hostStateFromNode({ ...n.record, claims: without(n.record.claims, mine) }, deps.opts, now),
        );
      }
      markGroupHosts(states, group, groupState, own);
    });
    // A dry run returns every survivor's breakdown; a stored decision keeps the best rankingLimit.
    const rankingLimit = req.dry_run || deps.rankingLimit === 0 ? undefined : deps.rankingLimit;
    const decision = await timed('schedule_ms', () => schedule(states, spec, deps.opts, deps.rng, { rankingLimit }));
    const meta = () => ({
      host_state_age_ms: fleet.ageMs,
      attempts: attempt,
      lost_claims_on: lost,
      items_read: itemsRead,
      dry_run: req.dry_run,
      decided_at: new Date(now).toISOString(),
      elapsed_ms: deps.now() - t0,
      timings: { ...timings },
    });
    const keep = (d: Decision, extra: Record<string, unknown> = {}) =>
      timed('store_ms', () =>
        deps.decisions.put(id, decisionRecord(id, req, spec, d, { ...meta(), ...extra }), deps.decisionTtlS, now),
      );

    if (!decision.placed) {
      await keep(decision);
      throw noValidHostError(decision, { decision_id: id });
    }
    if (req.dry_run) {
      await keep(decision);
      return {
        decision_id: id,
        selections: decision.picks,
        claims: [],
        dry_run: true,
        summary: decision.summary,
        ranking: decision.ranking,
        stats: statsOf(meta()),
      };
    }

    // states[i] is fleet.nodes[i]'s state. The picked hosts are found among the states (one shape,
    // built by hostStateFromNode): a pass over the stored records' `host` cost ~0.4 ms per request
    // at 1,000 nodes in bench/claims.ts, against ~0.02 ms here.
    const picked = new Map<string, PickedHost>();
    for (const p of decision.picks) {
      if (picked.has(p.host)) continue;
      const i = states.findIndex((h) => h.host === p.host);
      picked.set(p.host, { state: states[i] as HostState, stored: fleet.nodes[i] as StoredNode });
    }
    const hostClaims = hostClaimsOf(decision, spec, picked, now, deps.opts.claim_ttl);
    for (const r of earlier) {
      const hc = hostClaims.find((c) => c.host === r.host);
      if (hc) hc.releases = [...(hc.releases ?? []), r];
      else hostClaims.push({ host: r.host, baseline: 0, maxClaimedBefore: ZERO, add: ZERO, claims: [], releases: [r] });
    }
    const groupClaim: GroupClaim | undefined =
      group && policy ? groupClaimOf(group, policy, decision, groupState) : undefined;
    const claims = hostClaims.flatMap((c) => c.claims);
    // The decision is stored when the claims land: in their transaction, or right after a single-host UpdateItem.
    const record = {
      id,
      decision: decisionRecord(id, req, spec, decision, { ...meta(), claims }),
      ttlS: deps.decisionTtlS,
    };
    const pointerWrite = {
      decisionId: id,
      refs: claims.map((c) => ({ ...c, host: hostOf(decision, c.instance_uuid), decision_id: id })),
      ...(clientUuids
        ? { expected: new Map(spec.instance_uuids.map((u) => [u, pointers.get(u)?.decision_id ?? null])) }
        : {}),
      ttlS: deps.decisionTtlS,
    };
    const outcome: ClaimOutcome = await timed('claim_ms', () =>
      deps.store.claim(hostClaims, groupClaim, now, record, pointerWrite),
    );
    if (outcome.ok) {
      // A claim that moved out of another group leaves it (its own group's move was in the transaction).
      for (const r of earlier) {
        if (r.group !== undefined && r.group !== group)
          await deps.store.leaveGroup(r.group, r.host, r.instance_uuid, now);
      }
      // Our own claims, so the next request of this container sees them without a read.
      // Otherwise only the claimed hosts are read again (by key), at the next request.
      if (outcome.stored) for (const n of outcome.stored) deps.fleet.update(n);
      else deps.fleet.invalidate(hostClaims.map((c) => c.host));
      return {
        decision_id: id,
        selections: decision.picks,
        claims: spec.instance_uuids.map((u) => claims.find((c) => c.instance_uuid === u) as Claim),
        dry_run: false,
        summary: decision.summary,
        stats: statsOf(meta()),
      };
    }
    lost.push(...outcome.conflictHosts);
    // Re-read the hosts we lost on, so the next pass sees them as they are now.
    const reread = await timed('refresh_ms', () => Promise.all(outcome.conflictHosts.map((h) => deps.store.get(h))));
    itemsRead += reread.length;
    fresh = new Map();
    readBefore = pointers;
    outcome.conflictHosts.forEach((h, i) => {
      const n = reread[i];
      if (n) deps.fleet.update(n);
      fresh.set(h, n);
    });
    if (outcome.pointerConflict) {
      // Another request for one of these uuids moved its claim first: back off, read its pointer again.
      pointerRaces++;
      await deps.sleep?.(Math.floor(deps.rng() * 20 * attempt));
    }
    if (attempt >= deps.maxClaimAttempts) {
      const hosts = [...new Set(lost)].join(', ');
      const failed = {
        ...decision,
        placed: false,
        summary:
          pointerRaces > 0
            ? `${decision.summary}; but concurrent requests for the same instance moved its claim ${pointerRaces} times`
            : `${decision.summary}; but every claim lost its race (${hosts}) ${attempt} times`,
      };
      await keep(failed);
      throw noValidHostError(failed, { decision_id: id, lost_claims_on: lost });
    }
  }
};

/** Re-exported for the modules that import them from here (the simulator, tests). */
export { hostClaimsOf, MAX_GROUP_MEMBERS, type PickedHost };
