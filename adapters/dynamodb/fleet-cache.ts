import type { FleetStore, StoredNode } from '../../core/ports';
import type { Fleet } from '../../core/schedule-service';

/**
 * Host states kept in the function's memory between invocations (Nova's
 * HostManager keeps them too, but re-reads every compute node per request).
 * A cold container scans the table once; afterwards only nodes whose
 * `changed_at` is at or after the newest one seen are read, through the
 * by_change index. A full rescan every `rescanMs` bounds how long a change
 * missed to clock skew or index lag can hide; the claim's condition keeps
 * placements exact whatever the copy says.
 */
export class CachedFleet implements Fleet {
  private readonly nodes = new Map<string, StoredNode>();
  private watermark = 0;
  private lastScanMs = Number.NEGATIVE_INFINITY;
  private lastRefreshMs = 0;

  constructor(
    private readonly store: FleetStore,
    private readonly rescanMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async refresh(): Promise<{ nodes: StoredNode[]; itemsRead: number; ageMs: number }> {
    const started = this.now();
    let itemsRead: number;
    if (started - this.lastScanMs >= this.rescanMs) {
      const all = await this.store.scan();
      this.nodes.clear();
      for (const n of all) this.merge(n);
      this.lastScanMs = started;
      itemsRead = all.length;
    } else {
      const changed = await this.store.changedSince(this.watermark);
      for (const n of changed) this.merge(n);
      itemsRead = changed.length;
    }
    this.lastRefreshMs = started;
    return { nodes: [...this.nodes.values()], itemsRead, ageMs: this.now() - this.lastRefreshMs };
  }

  update(node: StoredNode): void {
    this.merge(node);
  }

  /** Keeps the newer of two copies of a node (by `ver`: every write bumps it). */
  private merge(n: StoredNode): void {
    const have = this.nodes.get(n.record.host);
    if (!have || n.ver >= have.ver) this.nodes.set(n.record.host, n);
    if (n.changedAt > this.watermark) this.watermark = n.changedAt;
  }
}
