import type { DecisionHead } from './decision-pages';
import type { Claim, NodeRecord } from './node/record';
import type { WeigherScale } from './scheduler/rank';
import type { ScheduleRequest } from './scheduler/request';
import type { RankedHost, SchedulePick } from './scheduler/scheduler';

/** Resources, as claims count them. */
export interface Resources {
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
}

/** A stored node and the version it was read at (optimistic concurrency). */
export interface StoredNode {
  record: NodeRecord;
  ver: number;
  /** Server ms of the last write of any kind (report, patch, claim). */
  changedAt: number;
  /** The version written by the last report, patch or delete (claims leave it alone). */
  baseline: number;
  /** Sum of every claim in the record's map, expired ones included, as stored beside it. */
  claimed: Resources;
}

/** Kept for the report path: a node and its version. */
export type Versioned = Pick<StoredNode, 'record' | 'ver'>;

/** Storage of compute nodes for the report path; exactly one implementation (adapters/dynamodb). */
export interface NodeStore {
  get(host: string): Promise<Versioned | undefined>;
  /** One page of nodes (table order), and the host to continue after, if any. */
  /** A page of nodes after `afterHost`; `lastHost` is set when more follow (the next page starts after it). */
  list(
    limit: number,
    afterHost: string | undefined,
    includeDeleted: boolean,
  ): Promise<{ nodes: NodeRecord[]; lastHost?: string }>;
  /** Allocates the next integer id (Nova's autoincrement `compute_nodes.id`). */
  nextId(): Promise<number>;
  /**
   * Writes `record` iff the item is still at `expectedVer` (undefined: absent),
   * when `newerSeq` is set its stored seq is below it, and when `tokenIssuedAtMs`
   * is set no `tokens_revoked_at` after it is stored; throws WriteConflictError
   * otherwise. Returns the new version.
   */
  put(
    record: NodeRecord,
    expectedVer: number | undefined,
    opts?: { newerSeq?: number; tokenIssuedAtMs?: number },
  ): Promise<number>;
}

/**
 * Where an instance uuid's claim is (contract rule 6): the pointer the store keeps
 * per uuid, written with the claim. `decision_id` is the pointer's identity, which
 * a later move of the claim is conditioned on.
 */
export interface InstanceClaimRef extends Resources {
  instance_uuid: string;
  host: string;
  /** The claim's identity on its node: a move removes the claim only if it is still this one. */
  claimed_at: string;
  /** The decision that wrote the pointer; absent for a claim found on a node without a pointer. */
  decision_id?: string;
  group?: string;
}

/** The claims of one request on one host, and the bounds that make them safe. */
export interface HostClaim {
  host: string;
  /**
   * The version of the node's last report, patch or delete, which the bounds were
   * computed from: any of those since voids them (a claim does not).
   */
  baseline: number;
  /** The claimed_* sums may be at most these before adding `add` (capacity × ratio − used − need). */
  maxClaimedBefore: Resources;
  add: Resources;
  /** New claims; empty for a host that only gives up claims (`releases`). */
  claims: Claim[];
  /**
   * Earlier claims of this request's instances that leave this host in the same write
   * (rule 6: a claim moves, or is replaced in place); each only if it is still there.
   */
  releases?: InstanceClaimRef[];
}

/** A server group's members, by host (contract rule 7), as stored. */
export interface GroupState {
  policy?: 'affinity' | 'anti-affinity';
  /** Member uuids per host. */
  hosts: Map<string, Set<string>>;
  members: number;
  /** Bumped by every write of the group: a move into an affinity group is conditioned on it. */
  ver: number;
}

/**
 * The server-group step of a claim: checked and recorded in the same transaction.
 * `joins` and `leaves` are by host; `before` is the group as it was read.
 */
export interface GroupClaim {
  group: string;
  policy: 'affinity' | 'anti-affinity';
  /** The hosts picked (affinity: one). */
  hosts: string[];
  joins: Map<string, string[]>;
  /** Members of this request that move off a host of the group (rule 6 moved their claims). */
  leaves: Map<string, string[]>;
  before: GroupState;
  /** At most this many members after the write. */
  maxMembers: number;
}

/** The outcome of an atomic claim: all of it, or none and which hosts (or the group, or a pointer) refused. */
/** `stored`: the claimed nodes as the write left them, when the store can tell (a single UpdateItem can). */
export type ClaimOutcome =
  | { ok: true; stored?: StoredNode[] }
  | { ok: false; conflictHosts: string[]; groupConflict: boolean; pointerConflict?: boolean };

/**
 * The pointers a claim writes (rule 6): one per instance uuid, each conditioned on
 * the value it was read at (`expected`: the decision id, `null` = absent). Without
 * `expected` (uuids the server made up, which nobody else knows yet) the pointers
 * are written after the claim, with its decision.
 */
export interface PointerWrite {
  decisionId: string;
  refs: InstanceClaimRef[];
  expected?: Map<string, string | null>;
  /** Seconds an ungrouped pointer outlives its write; a group member's lives until it leaves. */
  ttlS: number;
}

/** The scheduler's in-memory copy of the fleet (adapters/dynamodb/fleet-cache.ts). */
export interface Fleet {
  /** Brings the copy up to date; returns the nodes and how many items it read. */
  refresh(opts?: { fresh?: boolean }): Promise<{ nodes: StoredNode[]; itemsRead: number; ageMs: number }>;
  /** Replaces one host's copy after a re-read (a lost claim). */
  update(node: StoredNode): void;
  /**
   * The next refresh must read what changed, whatever the refresh interval says; with `hosts`
   * (written by this container, new state unknown), only those hosts, by key.
   */
  invalidate(hosts?: readonly string[]): void;
}

/** A node's entry in the change feed: which host changed, to which version, stamped when (the writer's clock). */
export interface ChangeRef {
  host: string;
  ver: number;
  changedAt: number;
}

/** Storage the scheduler uses; exactly one implementation (adapters/dynamodb). */
export interface FleetStore {
  /** Every node (a full read: cold start). */
  scan(): Promise<StoredNode[]>;
  /**
   * The feed's entries stamped at or after `sinceMs` (writers' clocks), in no particular order; an
   * entry may lag its write (the index is eventually consistent) and show an older `ver`.
   */
  changedSince(sinceMs: number): Promise<ChangeRef[]>;
  /** These hosts' nodes as stored now (consistent reads); a host with no node item is left out. */
  nodes(hosts: readonly string[]): Promise<StoredNode[]>;
  get(host: string): Promise<StoredNode | undefined>;
  /** A server group's members by host; an empty state for a group nobody used yet. */
  group(group: string): Promise<GroupState>;
  /** `uuid` leaves `group`'s members on `host`, if it is one (idempotent). */
  leaveGroup(group: string, host: string, uuid: string, nowMs: number): Promise<void>;
  /** The pointers of these instance uuids, where they exist (one consistent read). */
  instanceClaims(uuids: readonly string[]): Promise<Map<string, InstanceClaimRef>>;
  /**
   * Claims all or nothing, in one transaction — with the decision record, so a
   * decision is stored exactly when its claims land — and the uuids' pointers.
   */
  claim(
    hostClaims: HostClaim[],
    group: GroupClaim | undefined,
    nowMs: number,
    record?: DecisionWrite,
    pointers?: PointerWrite,
  ): Promise<ClaimOutcome>;
}

/**
 * Server-group membership as instances leave (contract rule 7): what notify and
 * the report path call; each call is idempotent, so a retried message is safe.
 */
export interface GroupMembership {
  /** `uuid` was deleted or failed on `host`: it leaves its server group, if it is a member there. */
  left(host: string, uuid: string): Promise<void>;
  /** A report reaped these claims (expired, or confirmed and never listed): each leaves its group. */
  reaped(host: string, claims: readonly Claim[]): Promise<void>;
}

/**
 * Why one host was not picked, in a stored decision: the first filter that
 * rejected it and its sentence. Open to more data beside them (a reason code,
 * the figures it was decided on) as the scheduler adds it.
 */
export interface DecisionRejection {
  filter: string;
  reason: string;
  /** 0-based index of the instance whose pass rejected the host. */
  instance_index: number;
  [data: string]: unknown;
}

/** How a decision was made (schedule-service `meta`): stored beside the envelope's fields. */
export interface DecisionMeta {
  host_state_age_ms?: number;
  attempts?: number;
  lost_claims_on?: readonly string[];
  items_read?: number;
  dry_run?: boolean;
  decided_at?: string;
  elapsed_ms?: number;
  timings?: Record<string, number>;
}

/** A request as a decision keeps it: as sent, with the instance uuids the server filled in. */
export type DecisionRequest = Omit<ScheduleRequest, 'request_spec'> & {
  request_spec: Omit<ScheduleRequest['request_spec'], 'instance_uuids'> & { instance_uuids: readonly string[] };
};

/**
 * A schedule decision as `GET /decisions/{id}` returns it (CONTRACT.md). The
 * envelope is typed; how a host was ranked and the request as sent are the
 * scheduler's own types.
 */
export interface DecisionRecord extends DecisionMeta {
  decision_id: string;
  request: DecisionRequest;
  placed: boolean;
  summary: string;
  hosts_considered: number;
  filter_counts: Record<string, number>;
  /** By host, so "why not host X?" is one lookup. */
  rejections: Record<string, DecisionRejection>;
  ranking: readonly RankedHost[];
  /** How the ranking's pass normalized each weigher: the store keeps it instead of each `normalized` (never read back). */
  scales?: readonly WeigherScale[];
  picks: readonly SchedulePick[];
  /** The claims the decision wrote (absent when it placed nothing). */
  claims?: readonly Claim[];
  /** Set by the store when a ranking too large for the head was shortened: its length before. */
  truncated?: { ranking_total: number };
}

/** A decision to store beside a claim. */
export interface DecisionWrite {
  id: string;
  decision: DecisionRecord;
  ttlS: number;
}

/**
 * Storage of schedule decisions at any size (core/decision-pages.ts): a head
 * and, for a decision whose rejections exceed one response, pages of them.
 */
export interface DecisionStore {
  /** Stores the head and its pages (pages first, so a head a reader sees has them); TTL on every item. */
  put(id: string, decision: DecisionRecord, ttlS: number, nowMs: number): Promise<void>;
  /** The decision's head: whole when small, else without its rejections and with `paging`. */
  head(id: string): Promise<DecisionHead | undefined>;
  /** Page `n` (0-based) of a paged decision's rejections, by host; undefined when it is not stored. */
  page(id: string, n: number): Promise<Record<string, DecisionRejection> | undefined>;
  /** Decisions made at or after `since` (ISO), up to `limit` items examined after item `after`; `last` to continue from. */
  list(q: { since?: string; limit: number; after?: string }): Promise<{ decisions: DecisionHead[]; last?: string }>;
}
