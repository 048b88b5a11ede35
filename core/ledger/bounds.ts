/**
 * The ledger's bounds (docs/accounting.md "Bounds"): how many entries each map
 * on a node item may hold, and the range of every figure a message moves. Each
 * bound is enforced in the write's condition, so no sender grows an item
 * without bound and no stored number leaves what a JavaScript number holds.
 */

/** At most this many drift entries are kept per node (newest first). */
export const MAX_DRIFT = 50;

/**
 * At most this many tombstones (`gone`) per node, ≈ 62 bytes each. A release
 * finding them full takes the resources off but writes no tombstone (the
 * update's condition checks `size(gone)`), and a report keeps the newest. A
 * late create.end of an untombstoned instance is then announced: counted, the
 * safe way, until a report lists it or `claim_ttl` reaps it as drift.
 */
export const MAX_TOMBSTONES = 512;

/**
 * At most this many announced instances (create.end of an instance no scheduler
 * claimed) per node, ≈ 100 bytes each. A create.end finding them full counts
 * nothing until the next report measures the instance (`unknown_instance`
 * drift); a report keeps the newest and reaps the rest as `missing_instance`.
 */
export const MAX_ANNOUNCED = 256;

/**
 * A figure a message moves (`memory_mb_used`, `local_gb_used`, `running_vms`,
 * `current_workload`) stays in [0, 2^40]: never below 0 (rule 5), and never past
 * the report's own bound, so no sequence of deltas takes a stored number beyond
 * what a JavaScript number holds exactly.
 */
export const MAX_MEASURED = 2 ** 40;

/** `current + delta`, kept in [0, MAX_MEASURED]. */
export const clampFigure = (current: number, delta: number): number =>
  Math.min(MAX_MEASURED, Math.max(0, current + delta));
