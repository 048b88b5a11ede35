import { isRevoked } from './auth';
import { NodeBusyError, NodeNotFoundError, StaleReportError, TokenRevokedError, WriteConflictError } from './errors';
import type { LedgerPolicy } from './ledger/reconcile';
import { applyPatch, applyReport, revokedAt } from './node/apply';
import type { NodeRecord } from './node/record';
import type { NodePatch, Report } from './node/schemas';
import type { GroupMembership, NodeStore } from './ports';

/** How many times a write is retried after losing a race to another writer. */
const MAX_ATTEMPTS = 8;

/**
 * Upserts a report. The stale check is the write's condition (`seq < :seq`), so
 * two racing reports can never both land; a lost race with a claim or a patch
 * (same seq, newer version) re-reads and tries again. `tokenIssuedAtMs` (a node
 * token's issue time) is checked against the node's `tokens_revoked_at`, in the
 * same conditional write, so a report racing a revoke or a DELETE cannot land.
 */
export const upsertReport = async (
  store: NodeStore,
  host: string,
  report: Report,
  now: () => number,
  policy: LedgerPolicy,
  tokenIssuedAtMs?: number,
  groups?: GroupMembership,
): Promise<NodeRecord> => {
  let current = await store.get(host);
  for (let attempt = 1; ; attempt++) {
    const revoked = current?.record.tokens_revoked_at;
    if (tokenIssuedAtMs !== undefined && isRevoked(revoked, tokenIssuedAtMs)) {
      throw new TokenRevokedError(host, revoked ?? '');
    }
    // A soft-deleted node accepts any seq on the report that revives it: a host never locks itself out.
    if (current && !current.record.deleted && current.record.seq >= report.seq) {
      throw new StaleReportError(host, report.seq, current.record.seq);
    }
    const id = current ? current.record.id : await store.nextId();
    const record = applyReport(current?.record, report, host, { id, service_id: id }, now(), policy);
    try {
      await store.put(record, current?.ver, {
        newerSeq: report.seq,
        ...(tokenIssuedAtMs === undefined ? {} : { tokenIssuedAtMs }),
      });
      // Rule 7: a claim the report dropped without listing its instance was reaped; it leaves its group.
      const listed = new Set((report.instances ?? []).map((i) => i.uuid.toLowerCase()));
      const reaped = Object.values(current?.record.claims ?? {}).filter(
        (c) => !Object.hasOwn(record.claims, c.instance_uuid) && !listed.has(c.instance_uuid),
      );
      if (groups && reaped.length > 0) await groups.reaped(host, reaped);
      return record;
    } catch (e) {
      if (!(e instanceof WriteConflictError)) throw e;
      if (attempt >= MAX_ATTEMPTS) throw new NodeBusyError(host, MAX_ATTEMPTS, { cause: e });
      current = e.current ?? (await store.get(host));
    }
  }
};

/** Applies `change` to an existing node with optimistic retries; 404 when it does not exist. */
const modify = async (store: NodeStore, host: string, change: (r: NodeRecord) => NodeRecord): Promise<NodeRecord> => {
  let current = await store.get(host);
  for (let attempt = 1; ; attempt++) {
    if (!current) throw new NodeNotFoundError(host);
    const record = change(current.record);
    try {
      await store.put(record, current.ver);
      return record;
    } catch (e) {
      if (!(e instanceof WriteConflictError)) throw e;
      if (attempt >= MAX_ATTEMPTS) throw new NodeBusyError(host, MAX_ATTEMPTS, { cause: e });
      current = e.current ?? (await store.get(host));
    }
  }
};

/** The operator's PATCH. */
export const patchNode = (store: NodeStore, host: string, patch: NodePatch, now: () => number): Promise<NodeRecord> =>
  modify(store, host, (r) => applyPatch(r, patch, now()));

/**
 * Soft delete, as Nova's: `deleted = id`, `deleted_at` set once. Every DELETE also revokes
 * the host's node tokens issued before it, so an agent left running cannot revive the node;
 * a token minted after the delete can.
 */
export const softDeleteNode = (store: NodeStore, host: string, now: () => number): Promise<NodeRecord> =>
  modify(store, host, (r) => {
    const at = now();
    const revoked = { tokens_revoked_at: revokedAt(r, at) };
    const iso = new Date(at).toISOString();
    return r.deleted ? { ...r, ...revoked } : { ...r, ...revoked, deleted: r.id, deleted_at: iso, updated_at: iso };
  });

/** Reads one node; 404 when absent. */
export const getNode = async (store: NodeStore, host: string): Promise<NodeRecord> => {
  const v = await store.get(host);
  if (!v) throw new NodeNotFoundError(host);
  return v.record;
};
