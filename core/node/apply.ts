/**
 * What a report and an operator's patch do to a node's record: the report
 * replaces the measured figures and rebuilds the ledger (`reconcile`); the
 * patch changes only what the operator owns.
 */
import { ValidationError } from '../errors';
import { type LedgerPolicy, reconcile } from '../ledger/reconcile';
import { vmsOnTop } from '../ledger/usage';
import type { NodeRecord } from './record';
import { MAX_METADATA_KEYS, type NodePatch, type Report } from './schemas';

/** The record a report produces, given what was stored before (if anything). */
export const applyReport = (
  prev: NodeRecord | undefined,
  report: Report,
  host: string,
  ids: { id: number; service_id: number },
  nowMs: number,
  policy: LedgerPolicy,
): NodeRecord => {
  const now = new Date(nowMs).toISOString();
  const instances = report.instances ?? [];
  const ledger = reconcile(prev, instances, nowMs, policy);
  return {
    host,
    id: prev?.id ?? ids.id,
    service_id: prev?.service_id ?? ids.service_id,
    created_at: prev?.created_at ?? now,
    updated_at: now,
    deleted_at: null,
    deleted: 0,
    vcpus: report.vcpus,
    memory_mb: report.memory_mb,
    local_gb: report.local_gb,
    vcpus_used: report.vcpus_used,
    memory_mb_used: report.memory_mb_used,
    local_gb_used: report.local_gb_used,
    hypervisor_type: report.hypervisor_type,
    hypervisor_version: report.hypervisor_version,
    cpu_info: report.cpu_info,
    disk_available_least: report.disk_available_least,
    current_workload: report.current_workload,
    // Measured, plus what the measurement does not see yet, by the rule events move it by (COUNTED).
    running_vms: report.running_vms + vmsOnTop(ledger),
    hypervisor_hostname: report.hypervisor_hostname,
    instances,
    reported_availability_zone: report.availability_zone ?? null,
    operator_availability_zone: prev?.operator_availability_zone ?? null,
    disabled: prev?.disabled ?? false,
    disabled_reason: prev?.disabled_reason ?? null,
    metadata: prev?.metadata ?? {},
    ...ledger,
    seq: report.seq,
    reported_at: report.reported_at,
    received_at_ms: nowMs,
    // A report (a revival included) never lifts a revocation: the token that sent it was checked against it.
    tokens_revoked_at: prev?.tokens_revoked_at ?? null,
  };
};

/** The record after an operator's patch; `null` clears. */
export const applyPatch = (r: NodeRecord, p: NodePatch, nowMs: number): NodeRecord => {
  const merged = new Map(Object.entries(r.metadata));
  for (const [k, v] of p.metadata ?? []) {
    if (v === null) merged.delete(k);
    else merged.set(k, v);
  }
  // fromEntries defines own properties: a key named like an Object.prototype member stays a plain key.
  const metadata: Record<string, string> = Object.fromEntries(merged);
  if (merged.size > MAX_METADATA_KEYS) {
    throw new ValidationError('metadata', `would hold more than ${MAX_METADATA_KEYS} keys; remove some with null`);
  }
  return {
    ...r,
    updated_at: new Date(nowMs).toISOString(),
    disabled: p.disabled ?? r.disabled,
    disabled_reason: p.disabled_reason === undefined ? r.disabled_reason : p.disabled_reason,
    operator_availability_zone: p.availability_zone === undefined ? r.operator_availability_zone : p.availability_zone,
    metadata,
    tokens_revoked_at: p.revoke_tokens ? revokedAt(r, nowMs) : (r.tokens_revoked_at ?? null),
  };
};

/** The revocation time a revoke (or DELETE) at `nowMs` leaves: never earlier than one already stored. */
export const revokedAt = (r: Pick<NodeRecord, 'tokens_revoked_at'>, nowMs: number): string => {
  const now = new Date(nowMs).toISOString();
  return r.tokens_revoked_at && r.tokens_revoked_at > now ? r.tokens_revoked_at : now;
};
