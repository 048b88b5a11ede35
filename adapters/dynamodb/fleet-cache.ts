import type { Fleet, FleetStore, StoredNode } from '../../core/ports';

/**
 * Host states kept in the function's memory between invocations (Nova's
 * HostManager keeps them too, but re-reads every compute node per request).
 * A cold container scans the table once; afterwards only nodes whose
 * `changed_at` is at or after the newest one seen are read, through the
 * by_change index. A full rescan every `rescanMs` bounds how long a change
 * missed to clock skew or index lag can hide; the claim's condition keeps
 * placements exact whatever the copy says.
 *
 * With `refreshMs` > 0 a container reuses its copy for that long without any
 * read (its own claims applied to it): a claim still fails on a host that was
 * reported, patched or filled since, and the retry re-reads that host, so only
 * the ranking can be that much older — the price of one DynamoDB call fewer
 * per decision. 0 (the default) reads the changes on every request.
 */
export class CachedFleet implements Fleet {
  private readonly nodes = new Map<string, StoredNode>();
  private watermark = 0;
  private lastScanMs = Number.NEGATIVE_INFINITY;
  private lastRefreshMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: FleetStore,
    private readonly rescanMs: number,
    private readonly now: () => number = Date.now,
    private readonly refreshMs = 0,
  ) {}

  async refresh(opts: { fresh?: boolean } = {}): Promise<{ nodes: StoredNode[]; itemsRead: number; ageMs: number }> {
    const started = this.now();
    let itemsRead: number;
    if (!opts.fresh && started - this.lastRefreshMs < this.refreshMs && started - this.lastScanMs < this.rescanMs) {
      return { nodes: [...this.nodes.values()], itemsRead: 0, ageMs: started - this.lastRefreshMs };
    }
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

  /** A node read or written outside a refresh: it must not move the watermark past changes not yet read. */
  update(node: StoredNode): void {
    this.merge(node, false);
  }

  invalidate(): void {
    this.lastRefreshMs = Number.NEGATIVE_INFINITY;
  }

  /** Keeps the newer of two copies of a node (by `ver`: every write bumps it). */
  private merge(n: StoredNode, advance = true): void {
    const have = this.nodes.get(n.record.host);
    if (!have || n.ver >= have.ver) this.nodes.set(n.record.host, n);
    if (advance && n.changedAt > this.watermark) this.watermark = n.changedAt;
  }
}
