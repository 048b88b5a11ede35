/**
 * The compute node model, by what each part is about (one file each):
 *   node/schemas.ts   the wire: report, patch and list-query schemas
 *   node/record.ts    what the store keeps per node, and the ledger's entry types
 *   node/view.ts      the API's view of a node (free figures, status)
 *   node/apply.ts     what a report and a patch do to a record
 *   ledger/usage.ts   what the ledger counts on top of the measurement (COUNTED: the one rule)
 *   ledger/bounds.ts  the bound of every map and figure on a node item
 *   ledger/reconcile.ts, steps.ts, change.ts   what a report / a notification does to the ledger
 * This file only re-exports the model for the modules that import it whole
 * (agent/, core/scheduler/, bench/); new code imports the file it needs.
 */

export { MAX_ANNOUNCED, MAX_DRIFT, MAX_TOMBSTONES } from './ledger/bounds';
export { type LedgerPolicy, reconcile } from './ledger/reconcile';
export { claimedTotals, liveClaims, pendingUsage, storedPending } from './ledger/usage';
export { applyPatch, applyReport, revokedAt } from './node/apply';
export type { Claim, Drift, LedgerInstance, NodeRecord, Usage } from './node/record';
export {
  type CpuInfo,
  CpuInfoSchema,
  type Instance,
  InstanceSchema,
  ListQuerySchema,
  MAX_METADATA_KEYS,
  MAX_SEQ,
  type NodePatch,
  PatchSchema,
  type Report,
  ReportSchema,
} from './node/schemas';
export { DEFAULT_AVAILABILITY_ZONE, type NodeView, nodeStatus, toNodeView } from './node/view';
