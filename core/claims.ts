/**
 * The claims of a decision (rule 5's bound per host), the earlier claims a
 * request moves (rule 6) and its server group's step (rule 7): what
 * core/schedule-service.ts hands the FleetStore to write in one conditional step.
 */
import { QmError } from './errors';
import { type Claim, claimedTotals } from './nodes';
import type { GroupClaim, GroupState, HostClaim, InstanceClaimRef, Resources, StoredNode } from './ports';
import { claimRoom } from './scheduler/resources';
import { claimAmounts, type Decision } from './scheduler/scheduler';
import type { HostState, RequestSpec } from './scheduler/types';

/**
 * Members one server group may have (its item's size bound): ten times Nova's default
 * `server_group_members` quota. A request that would pass it is a 409 ServerGroupFull.
 */
export const MAX_GROUP_MEMBERS = 100;

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

export const ZERO: Resources = { vcpus: 0, memory_mb: 0, disk_gb: 0 };
export const NO_GROUP: GroupState = { hosts: new Map(), members: 0, ver: 0 };

export const without = (claims: Record<string, Claim>, refs: readonly InstanceClaimRef[]): Record<string, Claim> => {
  const out = { ...claims };
  for (const r of refs) delete out[r.instance_uuid];
  return out;
};

export const hostOf = (d: Decision, uuid: string): string => d.picks.find((p) => p.instance_uuid === uuid)?.host ?? '';

/**
 * The earlier claims of the request's uuids that this request moves (rule 6): what
 * their pointers name, or, for a claim without a pointer, what a node read after a lost
 * race shows. A claim a consistent read shows gone (absorbed, released, reaped) is
 * not moved; the pointer is still replaced on the condition of its old value.
 */
export const earlierClaims = (
  uuids: readonly string[],
  pointers: ReadonlyMap<string, InstanceClaimRef>,
  readBefore: ReadonlyMap<string, InstanceClaimRef>,
  fresh: ReadonlyMap<string, StoredNode | undefined>,
): InstanceClaimRef[] => {
  const out: InstanceClaimRef[] = [];
  for (const u of uuids) {
    const p = pointers.get(u);
    if (p) {
      // The in-memory copy may lag: only a consistent read made after this very pointer was read
      // may say its claim is gone (an older read may predate the claim).
      const judged = fresh.has(p.host) && readBefore.get(u)?.decision_id === p.decision_id;
      if (!judged || fresh.get(p.host)?.record.claims[u]?.claimed_at === p.claimed_at) out.push(p);
      continue;
    }
    for (const n of fresh.values()) {
      const c = n?.record.claims[u];
      if (n && c) out.push({ ...c, host: n.record.host });
    }
  }
  return out;
};

/** 409s a request its group cannot take: another policy, or more members than MAX_GROUP_MEMBERS. */
export const checkGroup = (
  group: string,
  policy: 'affinity' | 'anti-affinity',
  state: GroupState,
  own: ReadonlySet<string>,
  instances: number,
): void => {
  if (state.policy !== undefined && state.policy !== policy) {
    throw new QmError(409, 'ServerGroupPolicyConflict', `server group ${group} has the policy ${state.policy}`, {
      group,
      policy: state.policy,
      field: 'filter_properties.scheduler_hints.group_policy',
    });
  }
  let already = 0;
  for (const members of state.hosts.values()) for (const u of members) if (own.has(u)) already++;
  if (state.members - already + instances > MAX_GROUP_MEMBERS) {
    throw new QmError(
      409,
      'ServerGroupFull',
      `server group ${group} has ${state.members} members; it takes at most ${MAX_GROUP_MEMBERS}`,
      { group, members: state.members, max_members: MAX_GROUP_MEMBERS },
    );
  }
};

/** The group step of a decision: who joins where, who moves off which host (rule 6 within rule 7). */
export const groupClaimOf = (
  group: string,
  policy: 'affinity' | 'anti-affinity',
  decision: Decision,
  before: GroupState,
): GroupClaim => {
  const memberAt = new Map<string, string>();
  for (const [host, members] of before.hosts) for (const u of members) memberAt.set(u, host);
  const joins = new Map<string, string[]>();
  const leaves = new Map<string, string[]>();
  const push = (m: Map<string, string[]>, k: string, v: string) => m.set(k, [...(m.get(k) ?? []), v]);
  for (const p of decision.picks) {
    const at = memberAt.get(p.instance_uuid);
    if (at === p.host) continue;
    if (at !== undefined) push(leaves, at, p.instance_uuid);
    push(joins, p.host, p.instance_uuid);
  }
  const hosts = [...new Set(decision.picks.map((p) => p.host))];
  return { group, policy, hosts, joins, leaves, before, maxMembers: MAX_GROUP_MEMBERS };
};
