import type { Claim, NodeRecord } from './nodes';

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

/** A conditional write lost a race; `current` is the item as it is now (if it exists). */
export class WriteConflictError extends Error {
  override name = 'WriteConflictError';
  constructor(readonly current: Versioned | undefined) {
    super('the node changed underneath the write');
  }
}

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
  claims: Claim[];
}

/** The server-group step of a claim: checked and recorded in the same transaction. */
export interface GroupClaim {
  group: string;
  policy: 'affinity' | 'anti-affinity';
  hosts: string[];
  instanceUuids: string[];
}

/** The outcome of an atomic claim: all of it, or none and which hosts (or the group) refused. */
/** `stored`: the claimed nodes as the write left them, when the store can tell (a single UpdateItem can). */
export type ClaimOutcome =
  | { ok: true; stored?: StoredNode[] }
  | { ok: false; conflictHosts: string[]; groupConflict: boolean };

/** Storage the scheduler uses; exactly one implementation (adapters/dynamodb). */
export interface FleetStore {
  /** Every node (a full read: cold start). */
  scan(): Promise<StoredNode[]>;
  /** Nodes written at or after `sinceMs` (server time). */
  changedSince(sinceMs: number): Promise<StoredNode[]>;
  get(host: string): Promise<StoredNode | undefined>;
  /** The hosts that hold members of a server group. */
  groupHosts(group: string): Promise<string[]>;
  /**
   * Claims all or nothing, in one transaction — with the decision record, so a
   * decision is stored exactly when its claims land.
   */
  claim(
    hostClaims: HostClaim[],
    group: GroupClaim | undefined,
    nowMs: number,
    record?: DecisionWrite,
  ): Promise<ClaimOutcome>;
}

/** A decision to store beside a claim. */
export interface DecisionWrite {
  id: string;
  decision: unknown;
  ttlS: number;
}

/** Storage of schedule decisions. */
export interface DecisionStore {
  put(id: string, decision: unknown, ttlS: number, nowMs: number): Promise<void>;
  get(id: string): Promise<unknown | undefined>;
}
