import type { Fleet, FleetStore, StoredNode } from '../../core/ports';

/** The fleet as of a moment, from somewhere cheaper than a scan (a snapshot: branch coldstart's fleet-snapshot.ts). */
export interface FleetSnapshot {
  /**
   * The snapshot holds every change that was visible in the change index before this time (ms,
   * the index's clock); changes after it are read from the feed.
   */
  asOfMs: number;
  nodes: StoredNode[];
}

export interface CachedFleetOptions {
  /**
   * How far before the previous refresh's start each feed read reaches back (QM_FEED_LOOKBACK_MS):
   * it must cover index lag + writers' clock skew + a writer's time from stamping to commit.
   */
  lookbackMs?: number;
  /**
   * QM_FEED_NEAR_MS: the near window. A refresh reads from its predecessor's start − nearMs; the
   * whole lookback is read at most once per nearMs (a "far" read). 0: every read is far.
   */
  nearMs?: number;
  /** A cold start's first refresh loads this instead of scanning, when it answers. */
  seed?: () => Promise<FleetSnapshot | undefined>;
}

/** Default lookback: index lag is usually well under a second (AWS: "a fraction of a second"), clocks NTP-synced. */
export const DEFAULT_FEED_LOOKBACK_MS = 10_000;
/** Default near window: covers the usual index lag, so a far read is the exception's net, not the rule. */
export const DEFAULT_FEED_NEAR_MS = 1_000;

/**
 * Host states kept in the function's memory between invocations (Nova's HostManager keeps them
 * too, but re-reads every compute node per request). A cold container scans the table (or loads
 * `seed`); afterwards each refresh reads the change index's entries (keys and `ver`) stamped at
 * or after `(start of the previous refresh) − nearMs` (a near read), and at most once per
 * `nearMs` those stamped at or after `(start of the previous far read) − lookbackMs` (a far read;
 * a scan or a seed counts as one), and reads from the table only the hosts whose `ver` is newer
 * than its copy's. There is no watermark on stamps, so a write stamped early that reaches the
 * index late is still read. Two windows, because re-reading the whole lookback on every request
 * costs ≈ lookback × write rate entries per request (docs/scale.md, "Change feed").
 *
 * The bound (adapters/dynamodb/fleet-cache.test.ts checks it), for a change that becomes visible in
 * the index at time v, by `ver` (that change or a later one in the copy):
 * - stamp ≥ v − nearMs: in the copy after the first refresh that starts after v. Refresh R reads
 *   from t_{R−1} − nearMs (or, far, from an earlier point), and t_{R−1} ≤ v.
 * - stamp ≥ v − lookbackMs: in the copy after every refresh starting at or after v + nearMs. Let F
 *   be the last far read starting at or before v; the next refresh starting ≥ t_F + nearMs is far
 *   and reads from t_F − lookbackMs ≤ stamp, and one such refresh starts by the first at ≥ v + nearMs.
 * - otherwise: after the first full rescan starting after it committed (every `rescanMs`).
 * The table read that follows a feed read is consistent, so it returns that `ver` or a newer one.
 * The claim's condition keeps placements exact whatever the copy says.
 *
 * With `refreshMs` > 0 a container reuses its copy for that long without any read (its own
 * claims applied to it): a claim still fails on a host that was reported, patched or filled
 * since, and the retry re-reads that host, so only the ranking can be that much older — the
 * price of fewer DynamoDB calls per decision. A host this container claimed on without learning
 * its new state (`invalidate([host])`) is read by key at the next request, not the whole feed.
 * 0 (the default) reads the changes on every request; then "the first refresh after v" is the
 * next request's.
 */
export class CachedFleet implements Fleet {
  private readonly nodes = new Map<string, StoredNode>();
  /** Where the next far read starts; undefined until the copy was loaded (scan, seed, restartFeed). */
  private farFrom: number | undefined;
  /** Where the next near read starts (the previous refresh's start − nearMs). */
  private nearFrom = Number.NEGATIVE_INFINITY;
  private lastFarMs = Number.NEGATIVE_INFINITY;
  private lastScanMs = Number.NEGATIVE_INFINITY;
  private lastRefreshMs = Number.NEGATIVE_INFINITY;
  private seedTried = false;
  private readonly lookbackMs: number;
  private readonly nearMs: number;
  /** Hosts this container wrote without learning their new state: read by key at the next refresh. */
  private readonly stale = new Set<string>();

  constructor(
    private readonly store: FleetStore,
    private readonly rescanMs: number,
    private readonly now: () => number = Date.now,
    private readonly refreshMs = 0,
    private readonly opts: CachedFleetOptions = {},
  ) {
    this.lookbackMs = opts.lookbackMs ?? DEFAULT_FEED_LOOKBACK_MS;
    // A near window wider than the lookback would read more than a far read does.
    this.nearMs = Math.min(opts.nearMs ?? DEFAULT_FEED_NEAR_MS, this.lookbackMs);
  }

  async refresh(opts: { fresh?: boolean } = {}): Promise<{ nodes: StoredNode[]; itemsRead: number; ageMs: number }> {
    const started = this.now();
    if (!opts.fresh && started - this.lastRefreshMs < this.refreshMs && started - this.lastScanMs < this.rescanMs) {
      const itemsRead = await this.readStale();
      return { nodes: [...this.nodes.values()], itemsRead, ageMs: started - this.lastRefreshMs };
    }
    if (!this.seedTried && this.opts.seed) {
      this.seedTried = true;
      const snapshot = await this.opts.seed();
      if (snapshot) this.restartFeed(snapshot.asOfMs, snapshot.nodes);
    }
    // Items read from the table (the feed's keys-only entries are not counted).
    let itemsRead: number;
    let far = started - this.lastFarMs >= this.nearMs;
    if (this.farFrom === undefined || started - this.lastScanMs >= this.rescanMs) {
      const all = await this.store.scan();
      this.nodes.clear();
      for (const n of all) this.merge(n);
      this.lastScanMs = started;
      itemsRead = all.length;
      far = true;
    } else {
      itemsRead = await this.readFeed(far ? this.farFrom : this.nearFrom);
    }
    // The index may not show this container's own writes yet: read them by key.
    itemsRead += await this.readStale();
    if (far) {
      this.farFrom = started - this.lookbackMs;
      this.lastFarMs = started;
    }
    this.nearFrom = started - this.nearMs;
    this.lastRefreshMs = started;
    return { nodes: [...this.nodes.values()], itemsRead, ageMs: this.now() - this.lastRefreshMs };
  }

  /**
   * Replaces the copy with `nodes` (the fleet as of `asOfMs`) and reads the feed from
   * `asOfMs − lookbackMs` on (the next read is far); the next full rescan is `rescanMs` from now.
   */
  restartFeed(asOfMs: number, nodes: StoredNode[]): void {
    this.nodes.clear();
    for (const n of nodes) this.merge(n);
    this.farFrom = asOfMs - this.lookbackMs;
    this.lastFarMs = Number.NEGATIVE_INFINITY;
    this.lastScanMs = this.now();
    this.lastRefreshMs = Number.NEGATIVE_INFINITY;
  }

  /** A node read or written outside a refresh (a claim's write, a lost claim's re-read). */
  update(node: StoredNode): void {
    this.merge(node);
  }

  invalidate(hosts?: readonly string[]): void {
    if (hosts) for (const h of hosts) this.stale.add(h);
    else this.lastRefreshMs = Number.NEGATIVE_INFINITY;
  }

  /** Reads the stale hosts (consistent, by key); a host whose item is gone leaves the copy. */
  private async readStale(): Promise<number> {
    if (this.stale.size === 0) return 0;
    const hosts = [...this.stale];
    this.stale.clear();
    const read = await this.store.nodes(hosts);
    for (const n of read) this.merge(n);
    const found = new Set(read.map((n) => n.record.host));
    for (const h of hosts) if (!found.has(h)) this.nodes.delete(h);
    return read.length;
  }

  /** The feed's entries since `sinceMs`; reads the hosts whose entry is newer than the copy. */
  private async readFeed(sinceMs: number): Promise<number> {
    const newer = new Set<string>();
    for (const ref of await this.store.changedSince(sinceMs)) {
      const have = this.nodes.get(ref.host);
      if (!have || ref.ver > have.ver) newer.add(ref.host);
    }
    if (newer.size === 0) return 0;
    const read = await this.store.nodes([...newer]);
    for (const n of read) {
      this.merge(n);
      newer.delete(n.record.host);
    }
    // An entry whose item is gone: the node was deleted from the table since.
    for (const host of newer) this.nodes.delete(host);
    return read.length;
  }

  /** Keeps the newer of two copies of a node (by `ver`: every write bumps it). */
  private merge(n: StoredNode): void {
    const have = this.nodes.get(n.record.host);
    if (!have || n.ver >= have.ver) this.nodes.set(n.record.host, n);
  }
}
