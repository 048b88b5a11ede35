/**
 * What the store keeps per compute node (`NodeRecord`: Nova's compute_nodes
 * columns plus the ledger's maps) and the ledger's entry types. Types only.
 */
import type { CpuInfo, Instance } from './schemas';

/** A resource reservation made by the scheduler, held until a report or notification absorbs it. */
export interface Claim {
  instance_uuid: string;
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
  group?: string;
  claimed_at: string;
  expires_at: string;
  /**
   * Set by the instance's `create.end`: the claim no longer expires at `expires_at`; a report listing
   * the instance absorbs it, and one that still does not list it `claim_ttl` later reaps it as drift.
   */
  confirmed_at?: string;
}

/** Resources of one instance. */
export interface Usage {
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
}

/** An instance the ledger counts on top of (announced) or takes off (released) the last report's figures. */
export interface LedgerInstance extends Usage {
  /** When the event that put it here was applied. */
  at: string;
}

/**
 * Where a report's measurement and the ledger disagree (docs/accounting.md):
 * an instance nobody scheduled or announced, or a claimed/announced instance
 * that never appeared in a report within `claim_ttl` and was reaped.
 */
export interface Drift extends Usage {
  kind: 'unknown_instance' | 'missing_instance';
  instance_uuid: string;
  since: string;
  detail: string;
}

/** What the store keeps per host: Nova's compute_nodes columns plus our bookkeeping. */
export interface NodeRecord {
  host: string;
  id: number;
  service_id: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  /** Nova's soft-delete marker: 0 when live, the row's id when deleted. */
  deleted: number;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  vcpus_used: number;
  memory_mb_used: number;
  local_gb_used: number;
  hypervisor_type: string;
  hypervisor_version: number;
  cpu_info: CpuInfo;
  disk_available_least: number;
  current_workload: number;
  running_vms: number;
  hypervisor_hostname: string;
  instances: Instance[];
  /** What the agent reported; the operator's `availability_zone` wins. */
  reported_availability_zone: string | null;
  operator_availability_zone: string | null;
  disabled: boolean;
  disabled_reason: string | null;
  metadata: Record<string, string>;
  claims: Record<string, Claim>;
  /** create.end of an instance no scheduler claimed, not yet in a report: counted on top of it. */
  announced: Record<string, LedgerInstance>;
  /** Instances the last report lists that delete.end / create.error released: taken off it. */
  released: Record<string, LedgerInstance>;
  /** Tombstones: instances released, by time; a later create.end for one changes nothing. */
  gone: Record<string, string>;
  drift: Drift[];
  seq: number;
  /** The agent's clock at report time. */
  reported_at: string;
  /** The server's clock at report time, ms since the epoch; drives `status`. */
  received_at_ms: number;
  /**
   * Node tokens of this host issued before this time (ms precision) answer 401 TokenRevoked:
   * set by `revoke_tokens` and by DELETE, never moved back; null or absent when never revoked.
   */
  tokens_revoked_at?: string | null;
}
