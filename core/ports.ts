import type { NodeRecord } from './nodes';

/** A stored record and the version it was read at (optimistic concurrency). */
export interface Versioned {
  record: NodeRecord;
  ver: number;
}

/** A conditional write lost a race; `current` is the item as it is now (if it exists). */
export class WriteConflictError extends Error {
  override name = 'WriteConflictError';
  constructor(readonly current: Versioned | undefined) {
    super('the node changed underneath the write');
  }
}

/** Storage of compute nodes; exactly one implementation (adapters/dynamodb). */
export interface NodeStore {
  get(host: string): Promise<Versioned | undefined>;
  list(): Promise<NodeRecord[]>;
  /** Allocates the next integer id (Nova's autoincrement `compute_nodes.id`). */
  nextId(): Promise<number>;
  /**
   * Writes `record` iff the item is still at `expectedVer` (undefined: absent)
   * and, when `newerSeq` is set, its stored seq is below it; throws
   * WriteConflictError otherwise. Returns the new version.
   */
  put(record: NodeRecord, expectedVer: number | undefined, opts?: { newerSeq?: number }): Promise<number>;
}
