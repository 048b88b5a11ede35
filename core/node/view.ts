/** A node as the API shows it: the record's columns, its free figures (accounting rule 1) and status. */
import { liveClaims, pendingUsage } from '../ledger/usage';
import type { Claim, LedgerInstance, NodeRecord } from './record';

/** A node as the API shows it. */
export interface NodeView
  extends Omit<
    NodeRecord,
    | 'claims'
    | 'announced'
    | 'released'
    | 'gone'
    | 'reported_availability_zone'
    | 'operator_availability_zone'
    | 'received_at_ms'
  > {
  free_ram_mb: number;
  free_disk_gb: number;
  availability_zone: string;
  status: 'up' | 'down';
  claims: Claim[];
  announced: (LedgerInstance & { instance_uuid: string })[];
  released: (LedgerInstance & { instance_uuid: string })[];
}

export const DEFAULT_AVAILABILITY_ZONE = 'nova';

/** `up` when the last report arrived less than `serviceDownTimeS` ago (Nova's servicegroup DB driver). */
export const nodeStatus = (receivedAtMs: number, nowMs: number, serviceDownTimeS: number): 'up' | 'down' =>
  nowMs - receivedAtMs < serviceDownTimeS * 1000 ? 'up' : 'down';

/**
 * The API view: usage accounting rule 1 — free = capacity − measured used − pending, where
 * pending = live claims not listed by the report + announced − released (docs/accounting.md).
 */
export const toNodeView = (r: NodeRecord, nowMs: number, serviceDownTimeS: number): NodeView => {
  const claims = liveClaims(r.claims, nowMs);
  const pending = pendingUsage(r, nowMs);
  const {
    claims: _c,
    announced,
    released,
    gone: _g,
    reported_availability_zone,
    operator_availability_zone,
    received_at_ms,
    ...columns
  } = r;
  const listOf = (m: Record<string, LedgerInstance> | undefined) =>
    Object.entries(m ?? {})
      .map(([instance_uuid, e]) => ({ instance_uuid, ...e }))
      .sort((a, b) => a.at.localeCompare(b.at) || a.instance_uuid.localeCompare(b.instance_uuid));
  return {
    ...columns,
    drift: r.drift ?? [],
    free_ram_mb: r.memory_mb - r.memory_mb_used - pending.memory_mb,
    free_disk_gb: r.local_gb - r.local_gb_used - pending.disk_gb,
    availability_zone: operator_availability_zone ?? reported_availability_zone ?? DEFAULT_AVAILABILITY_ZONE,
    status: nodeStatus(received_at_ms, nowMs, serviceDownTimeS),
    claims,
    announced: listOf(announced),
    released: listOf(released),
    tokens_revoked_at: r.tokens_revoked_at ?? null,
  };
};
