/**
 * POST /schedule and GET /decisions/{id}: load host states, run the pure
 * scheduler, claim atomically, store the decision. The claim's conditional
 * write is the arbiter; the in-memory fleet only has to be good enough to
 * choose well, and a lost race re-reads the hosts it lost on and tries again.
 */
import { NotFoundError, QmError } from './errors';
import { type Claim, claimedTotals } from './nodes';
import type { ClaimOutcome, DecisionStore, FleetStore, GroupClaim, HostClaim, Resources, StoredNode } from './ports';
import { hostStateFromNode } from './scheduler/host-state';
import { signatureOf } from './scheduler/instance-signature';
import type { ResolvedOptions } from './scheduler/options';
import { reasonOf } from './scheduler/reasons';
import { needsInstanceUuids, type ScheduleRequest, toRequestSpec } from './scheduler/request';
import { claimRoom } from './scheduler/resources';
import { claimAmounts, type Decision, noValidHostError, schedule } from './scheduler/scheduler';
import type { HostState, RequestSpec } from './scheduler/types';

/** The scheduler's in-memory copy of the fleet. */
export interface Fleet {
  /** Brings the copy up to date; returns the nodes and how many items it read. */
  refresh(opts?: { fresh?: boolean }): Promise<{ nodes: StoredNode[]; itemsRead: number; ageMs: number }>;
  /** Replaces one host's copy after a re-read (a lost claim). */
  update(node: StoredNode): void;
  /** The next refresh must read what changed, whatever the refresh interval says. */
  invalidate(): void;
}

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

/**
 * HostStates built from stored nodes, reused while the node's version is the
 * same and nothing time-dependent has changed: it stays up, and no claim
 * expires. Building 10k states per request would cost more than filtering them.
 */
export class HostStateCache {
  private readonly cache = new Map<string, { ver: number; validUntil: number; state: HostState }>();
  constructor(private readonly opts: ResolvedOptions) {}

  stateOf(n: StoredNode, nowMs: number): HostState {
    const hit = this.cache.get(n.record.host);
    if (hit && hit.ver === n.ver && nowMs < hit.validUntil) return hit.state;
    const state = hostStateFromNode(n.record, this.opts, nowMs);
    let validUntil = state.up ? n.record.received_at_ms + this.opts.service_down_time * 1000 : nowMs;
    for (const c of Object.values(n.record.claims)) {
      const exp = Date.parse(c.expires_at);
      if (exp > nowMs && exp < validUntil) validUntil = exp;
    }
    this.cache.set(n.record.host, { ver: n.ver, validUntil, state });
    return state;
  }
}

/** A bound DynamoDB can store: integral, finite, within ±2^53; NaN (a broken figure) allows nothing. */
const bound = (x: number): number =>
  Number.isNaN(x)
    ? Number.MIN_SAFE_INTEGER
    : Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(x)));

/** The usage a host still has room for: each resource measure's `usable` (core/scheduler/resources.ts). */
const roomOf = (h: HostState): Resources => claimRoom(h);

/** A picked host as the scheduler saw it, and as it was stored. */
export interface PickedHost {
  state: HostState;
  stored: StoredNode;
}

/**
 * The claims of a decision, one conditional update per host: the bound lets
 * other schedulers' claims land beside ours as long as the sum still fits,
 * and voids ours if a report, patch or delete changed the node (`baseline`).
 */
export const hostClaimsOf = (
  decision: Decision,
  spec: RequestSpec,
  picked: Map<string, PickedHost>,
  nowMs: number,
  ttlS: number,
): HostClaim[] => {
  const byHost = new Map<string, Claim[]>();
  for (const p of decision.picks) {
    const { state } = picked.get(p.host) as PickedHost;
    const { vcpus, memory_mb, disk_gb, group } = claimAmounts(state, spec, p.instance_uuid);
    const list = byHost.get(p.host) ?? [];
    list.push({
      instance_uuid: p.instance_uuid,
      vcpus,
      memory_mb,
      disk_gb,
      ...(group ? { group } : {}),
      claimed_at: new Date(nowMs).toISOString(),
      expires_at: new Date(nowMs + ttlS * 1000).toISOString(),
    });
    byHost.set(p.host, list);
  }
  return [...byHost.entries()].map(([host, claims]) => {
    const { state, stored } = picked.get(host) as PickedHost;
    const add = claimedTotals(claims);
    const room = roomOf(state);
    return {
      host,
      baseline: stored.baseline,
      add,
      claims,
      maxClaimedBefore: {
        vcpus: bound(stored.claimed.vcpus + room.vcpus - add.vcpus),
        memory_mb: bound(stored.claimed.memory_mb + room.memory_mb - add.memory_mb),
        disk_gb: bound(stored.claimed.disk_gb + room.disk_gb - add.disk_gb),
      },
    };
  });
};

/** Marks the hosts that hold members of the request's group (from the group item) in the host states. */
const markGroupHosts = (states: HostState[], group: string | undefined, hosts: string[]): void => {
  if (!group || hosts.length === 0) return;
  const set = new Set(hosts);
  for (let i = 0; i < states.length; i++) {
    const h = states[i] as HostState;
    if (!set.has(h.host)) continue;
    const instances = new Map(h.instances);
    instances.set(`group:${group}`, { group });
    states[i] = { ...h, instances, ...signatureOf(instances) };
  }
};

const decisionRecord = (
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

  for (let attempt = 1; ; attempt++) {
    // A dry run answers "what would happen now": it always reads what changed.
    const fleet = await timed('refresh_ms', () => deps.fleet.refresh({ fresh: req.dry_run || attempt > 1 }));
    itemsRead += fleet.itemsRead;
    const groupHosts = group && policy ? await timed('refresh_ms', () => deps.store.groupHosts(group)) : [];
    if (group && policy) itemsRead += 1;
    const now = deps.now();
    const states: HostState[] = [];
    await timed('build_ms', () => {
      for (const n of fleet.nodes) states.push(deps.hostStates.stateOf(n, now));
      markGroupHosts(states, group, groupHosts);
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

    // states[i] is fleet.nodes[i]'s state: one pass finds both for the picked hosts.
    const pickedNames = new Set(decision.picks.map((p) => p.host));
    const picked = new Map<string, PickedHost>();
    fleet.nodes.forEach((n, i) => {
      if (pickedNames.has(n.record.host)) picked.set(n.record.host, { state: states[i] as HostState, stored: n });
    });
    const hostClaims = hostClaimsOf(decision, spec, picked, now, deps.opts.claim_ttl);
    const groupClaim: GroupClaim | undefined =
      group && policy
        ? { group, policy, hosts: hostClaims.map((c) => c.host), instanceUuids: [...spec.instance_uuids] }
        : undefined;
    const claims = hostClaims.flatMap((c) => c.claims);
    // The decision is stored when the claims land: in their transaction, or right after a single-host UpdateItem.
    const record = {
      id,
      decision: decisionRecord(id, req, spec, decision, { ...meta(), claims }),
      ttlS: deps.decisionTtlS,
    };
    const outcome: ClaimOutcome = await timed('claim_ms', () => deps.store.claim(hostClaims, groupClaim, now, record));
    if (outcome.ok) {
      // Our own claims, so the next request of this container sees them without a read.
      if (outcome.stored) for (const n of outcome.stored) deps.fleet.update(n);
      else deps.fleet.invalidate();
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
    const fresh = await timed('refresh_ms', () => Promise.all(outcome.conflictHosts.map((h) => deps.store.get(h))));
    itemsRead += fresh.length;
    for (const n of fresh) if (n) deps.fleet.update(n);
    const taken = spec.instance_uuids.filter((u) => fresh.some((n) => n && Object.hasOwn(n.record.claims, u)));
    if (taken.length > 0) {
      throw new QmError(409, 'InstanceAlreadyClaimed', `instance ${taken.join(', ')} already holds a claim`, {
        instance_uuids: taken,
      });
    }
    if (attempt >= deps.maxClaimAttempts) {
      const hosts = [...new Set(lost)].join(', ');
      const failed = {
        ...decision,
        placed: false,
        summary: `${decision.summary}; but every claim lost its race (${hosts}) ${attempt} times`,
      };
      await keep(failed);
      throw noValidHostError(failed, { decision_id: id, lost_claims_on: lost });
    }
  }
};

/** GET /decisions/{id}. */
export const readDecision = async (decisions: DecisionStore, id: string): Promise<unknown> => {
  const d = await decisions.get(id);
  if (d === undefined) throw new NotFoundError(`decision ${id}`);
  return d;
};
