import { PARTITION_LIMITS, readCapacity, writeCapacity } from './capacity-rules.js';

/**
 * Over 350 lines on purpose: one model, its inputs, its formulas and their comments (each charge
 * with the rule it follows), read top to bottom beside docs/scale.md; split, the arithmetic would
 * lose its one reading order.
 *
 * The capacity model of docs/scale.md "Capacity model": for a fleet of N hosts and rates R
 * (schedule requests/s) and E (notifications/s), the WCU/RCU per second on every partition the
 * design touches, the first limit to bind and at what multiple of the load, the placements per
 * second L schedule Lambdas sustain, and the monthly on-demand bill. Pure arithmetic, no I/O:
 * every charge comes from AWS's sizing rules in capacity-rules.ts.
 *
 * The design modelled (issue 12): nodes keyed by `host`; every node write bumps `ver` and
 * `changed_at`, so it moves the node's entry in the change index (a delete + a put on the node's
 * shard, FNV-1a(host) mod S); schedulers query every shard for the window since their previous
 * refresh (plus a lookback), then BatchGet the nodes whose `ver` is newer (projection KEYS_ONLY +
 * ver) or read the projected items directly (projection ALL, the old design).
 */

/** The design's knobs, as named config where the code has them. */
export interface ModelDesign {
  /** QM_CHANGE_SHARDS: partition-key values of the change index. */
  shards: number;
  /** 'keys': KEYS_ONLY + ver (entry ~100 B, BatchGet after); 'all': the whole item (old by_change). */
  projection: 'keys' | 'all';
  /** Bytes of one index entry with the keys-only projection (host, change_shard, changed_at, ver). */
  keysEntryBytes: number;
  /** QM_FLEET_REFRESH_MS: a container refreshes at most this often; 0 = on every request. */
  refreshMs: number;
  /** QM_FEED_LOOKBACK_MS: lookback of a far change query (clock skew, unordered index propagation). */
  lookbackMs: number;
  /** QM_FEED_NEAR_MS: lookback of the queries between far ones, and the far queries' period; 0 = every query is far. */
  nearMs: number;
  /** A claim is written in one transaction with the decision's head item (×2 both). */
  claimInTransaction: boolean;
  /** Snapshot rewritten every this many seconds by the lease holder (cold start). */
  snapshotEveryS: number;
  /** Gzipped snapshot bytes per host. */
  snapshotBytesPerHost: number;
  /** Largest snapshot chunk item. */
  snapshotChunkBytes: number;
}

/** The fleet and its traffic. */
export interface ModelLoad {
  hosts: number;
  /** Schedule requests/s; each places one instance (one claim). */
  schedulesPerS: number;
  /** Notifications/s; each is a transaction of the node update + its idempotency record. */
  eventsPerS: number;
  /** Periodic report interval per host (s). */
  reportIntervalS: number;
  /** Extra reports per notification (the agent reports again on a change it sees). */
  reportsPerEvent: number;
  /** Node item bytes: the size every node write is charged on (the larger of before and after). */
  nodeItemBytes: number;
  /**
   * Mean WCU of one plain node write, when measured rather than derived from nodeItemBytes
   * (the bench's items vary; its table's WCU ÷ its node writes gives it).
   */
  nodeWriteWcu?: number;
  /** Decision head item bytes (docs/decisions.md; p50 4,463 B in the fleet bench). */
  decisionHeadBytes: number;
  /** Idempotency record bytes (notify). */
  idempotencyBytes: number;
  /** Concurrent schedule Lambdas available (account concurrency or reserved). */
  lambdas: number;
}

/** Lambda durations and memory, per function. */
export interface ModelLambda {
  /** Fixed part of one schedule invocation (DynamoDB round trips + per-request CPU), ms. */
  scheduleFixedMs: number;
  /** Per-host CPU of one schedule request (host-state pass + filters + weighers), µs. */
  schedulePerHostUs: number;
  scheduleMemoryMb: number;
  reportMs: number;
  reportMemoryMb: number;
  notifyMs: number;
  notifyMemoryMb: number;
  arch: 'arm64' | 'x86_64';
}

/** On-demand prices, USD (us-east-1). */
export interface ModelPrices {
  perMillionWrite: number;
  perMillionRead: number;
  perGbMonth: number;
  lambdaPerMillionRequests: number;
  lambdaPerGbSecond: { arm64: number; x86_64: number };
}

/** One partition-key value (or the table/account quota) against its limit. */
export interface Bound {
  name: string;
  kind: 'wcu' | 'rcu' | 'lambda' | 'quota';
  /** Units/s (or busy Lambdas) at this load. */
  used: number;
  limit: number;
  /** used ÷ limit. */
  utilization: number;
}

export interface ModelResult {
  reportsPerS: number;
  /** Node writes/s by kind and their WCU each. */
  nodeWrites: { reports: number; claims: number; events: number };
  nodeWriteWcu: { report: number; claim: number; event: number };
  /** WCU/s summed over the change index, and on its hottest shard (uniform hash: total ÷ S). */
  indexWcu: number;
  indexShardWcu: number;
  /** RCU/s of change queries on one shard, and of BatchGets over the table. */
  indexShardRcu: number;
  batchGetRcu: number;
  /** WCU/s of the nodes table, of one host's item at the uniform share, and the decisions/events tables. */
  tableWcu: number;
  hostWcu: number;
  decisionsWcu: number;
  eventsWcu: number;
  snapshotWcu: number;
  /** Lambda: ms per schedule request and the Lambdas busy at R (Little's law: R × duration). */
  scheduleMs: number;
  busyLambdas: number;
  /** Claims/s one host takes before its own item's partition (1,000 WCU/s) throttles. */
  hotHostClaimsPerS: number;
  bounds: Bound[];
  /** The bound with the highest utilization. */
  first: Bound;
  /** Monthly bill, USD. */
  cost: { dynamoWrites: number; dynamoReads: number; storage: number; lambda: number; total: number };
}

/** Seconds in the month AWS bills by (730 h). */
export const SECONDS_PER_MONTH = 730 * 3600;

/** AWS's default per-table on-demand throughput quota (adjustable): 40,000 read and 40,000 write request units/s. */
export const TABLE_QUOTA = { wcu: 40_000, rcu: 40_000 } as const;

const lambdaSeconds = (perS: number, ms: number, mb: number): number => perS * (ms / 1000) * (mb / 1024);

/** The model at one load. */
export const capacityModel = (
  load: ModelLoad,
  design: ModelDesign,
  lambda: ModelLambda,
  prices: ModelPrices,
): ModelResult => {
  const N = load.hosts;
  const reportsPerS = N / load.reportIntervalS + load.eventsPerS * load.reportsPerEvent;
  const plain = load.nodeWriteWcu ?? writeCapacity({ after: load.nodeItemBytes });
  const tx = design.claimInTransaction ? 2 : 1;
  const nodeWriteWcu = { report: plain, claim: plain * tx, event: plain * 2 };
  const nodeWrites = { reports: reportsPerS, claims: load.schedulesPerS, events: load.eventsPerS };
  const tableWcu =
    nodeWrites.reports * nodeWriteWcu.report +
    nodeWrites.claims * nodeWriteWcu.claim +
    nodeWrites.events * nodeWriteWcu.event;
  const hostWcu = tableWcu / N;

  // Index: every node write moves its entry (changed_at is the sort key): delete + put, each
  // rounded up per KB of the entry; a transaction's index writes count twice too.
  const entryBytes = design.projection === 'all' ? load.nodeItemBytes : design.keysEntryBytes;
  const entryWcu = design.projection === 'all' ? plain : writeCapacity({ after: entryBytes });
  const indexWcu = 2 * entryWcu * (nodeWrites.reports + nodeWrites.claims * tx + nodeWrites.events * 2);
  const indexShardWcu = indexWcu / design.shards;

  // Refreshes: each container refreshes on a request at most every refreshMs.
  const perContainerRps = load.schedulesPerS / Math.max(1, Math.min(load.lambdas, busyOf(load, lambda)));
  const containers = Math.max(1, Math.min(load.lambdas, busyOf(load, lambda)));
  const refreshPerS = design.refreshMs > 0 ? Math.min(perContainerRps, 1000 / design.refreshMs) : perContainerRps;
  const nodeWritesPerS = nodeWrites.reports + nodeWrites.claims + nodeWrites.events;
  // One shard's query returns the entries written in its window, one page rounded once: a far query
  // (at most every nearMs) covers the time since the previous far one + lookback, a near one the
  // time since the previous refresh + nearMs.
  const farPerS = design.nearMs > 0 ? Math.min(refreshPerS, 1000 / design.nearMs) : refreshPerS;
  const shardRcu = (windowS: number) =>
    readCapacity((nodeWritesPerS / design.shards) * windowS * entryBytes, 'eventual');
  const farRcu = shardRcu(1 / Math.max(farPerS, 1e-9) + design.lookbackMs / 1000);
  const nearRcu = shardRcu(1 / Math.max(refreshPerS, 1e-9) + design.nearMs / 1000);
  const indexShardRcu = containers * (farPerS * farRcu + (refreshPerS - farPerS) * nearRcu);
  // Keys-only: each container fetches every node written since its last refresh (strong, per item).
  const batchGetRcu =
    design.projection === 'keys' ? containers * nodeWritesPerS * readCapacity(load.nodeItemBytes, 'strong') : 0;

  const decisionsWcu = load.schedulesPerS * writeCapacity({ after: load.decisionHeadBytes }) * tx;
  const eventsWcu = load.eventsPerS * writeCapacity({ after: load.idempotencyBytes }) * 2;
  const snapshotBytes = N * design.snapshotBytesPerHost;
  const snapshotWcu =
    (Math.ceil(snapshotBytes / design.snapshotChunkBytes) *
      writeCapacity({ after: Math.min(snapshotBytes, design.snapshotChunkBytes) })) /
    design.snapshotEveryS;

  const scheduleMs = lambda.scheduleFixedMs + (N * lambda.schedulePerHostUs) / 1000;
  const busyLambdas = load.schedulesPerS * (scheduleMs / 1000);
  const hotHostClaimsPerS = PARTITION_LIMITS.wcu / nodeWriteWcu.claim;

  const bound = (name: string, kind: Bound['kind'], used: number, limit: number): Bound => ({
    name,
    kind,
    used,
    limit,
    utilization: used / limit,
  });
  const bounds: Bound[] = [
    bound('change index: hottest shard WCU', 'wcu', indexShardWcu, PARTITION_LIMITS.wcu),
    bound('change index: hottest shard RCU', 'rcu', indexShardRcu, PARTITION_LIMITS.rcu),
    bound('nodes: one host item WCU (uniform share)', 'wcu', hostWcu, PARTITION_LIMITS.wcu),
    bound('nodes table WCU quota', 'quota', tableWcu, TABLE_QUOTA.wcu),
    bound('nodes table RCU quota (BatchGet)', 'quota', batchGetRcu, TABLE_QUOTA.rcu),
    bound('change index WCU quota', 'quota', indexWcu, TABLE_QUOTA.wcu),
    bound('schedule Lambdas busy', 'lambda', busyLambdas, load.lambdas),
  ];
  const first = bounds.reduce((a, b) => (b.utilization > a.utilization ? b : a));

  const writesPerS = tableWcu + indexWcu + decisionsWcu + eventsWcu + snapshotWcu;
  const readsPerS = indexShardRcu * design.shards + batchGetRcu;
  const gb = 1024 ** 3;
  const storedBytes =
    N * (load.nodeItemBytes + entryBytes) +
    snapshotBytes +
    // Decisions live QM_DECISION_TTL (7 days); idempotency records QM_IDEMPOTENCY_TTL_S (2 h).
    load.schedulesPerS * 7 * 86_400 * load.decisionHeadBytes +
    load.eventsPerS * 7200 * load.idempotencyBytes;
  const gbSeconds =
    lambdaSeconds(load.schedulesPerS, scheduleMs, lambda.scheduleMemoryMb) +
    lambdaSeconds(reportsPerS, lambda.reportMs, lambda.reportMemoryMb) +
    lambdaSeconds(load.eventsPerS, lambda.notifyMs, lambda.notifyMemoryMb);
  const invocations = load.schedulesPerS + reportsPerS + load.eventsPerS;
  const cost = {
    dynamoWrites: (writesPerS * SECONDS_PER_MONTH * prices.perMillionWrite) / 1e6,
    dynamoReads: (readsPerS * SECONDS_PER_MONTH * prices.perMillionRead) / 1e6,
    storage: (storedBytes / gb) * prices.perGbMonth,
    lambda:
      (invocations * SECONDS_PER_MONTH * prices.lambdaPerMillionRequests) / 1e6 +
      gbSeconds * SECONDS_PER_MONTH * prices.lambdaPerGbSecond[lambda.arch],
    total: 0,
  };
  cost.total = cost.dynamoWrites + cost.dynamoReads + cost.storage + cost.lambda;

  return {
    reportsPerS,
    nodeWrites,
    nodeWriteWcu,
    indexWcu,
    indexShardWcu,
    indexShardRcu,
    batchGetRcu,
    tableWcu,
    hostWcu,
    decisionsWcu,
    eventsWcu,
    snapshotWcu,
    scheduleMs,
    busyLambdas,
    hotHostClaimsPerS,
    bounds,
    first,
    cost,
  };
};

/** Lambdas busy at the load (R × schedule duration), at least one. */
const busyOf = (load: ModelLoad, lambda: ModelLambda): number =>
  Math.max(
    1,
    Math.ceil(load.schedulesPerS * ((lambda.scheduleFixedMs + (load.hosts * lambda.schedulePerHostUs) / 1000) / 1000)),
  );

/** The load with every rate (reports, R, E) multiplied by k: what the fleet bench's --load does. */
export const scaleLoad = (load: ModelLoad, k: number): ModelLoad => ({
  ...load,
  schedulesPerS: load.schedulesPerS * k,
  eventsPerS: load.eventsPerS * k,
  reportIntervalS: load.reportIntervalS / k,
});

/** Bisection for the largest x in [0, hi] where ok(x) holds, ok monotone (true then false). */
const largest = (ok: (x: number) => boolean, hi: number): number => {
  if (ok(hi)) return hi;
  let lo = 0;
  let top = hi;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + top) / 2;
    if (ok(mid)) lo = mid;
    else top = mid;
  }
  return lo;
};

/**
 * The multiple of the whole load (reports, R and E together) at which the first bound reaches
 * `ceiling` × its limit (1 = the limit itself, 0.5 = issue 12's target), and which bound it is.
 */
export const headroom = (
  load: ModelLoad,
  design: ModelDesign,
  lambda: ModelLambda,
  prices: ModelPrices,
  ceiling = 1,
): { multiple: number; bound: Bound } => {
  const within = (k: number) => capacityModel(scaleLoad(load, k), design, lambda, prices).first.utilization <= ceiling;
  const multiple = largest(within, 1e4);
  return { multiple, bound: capacityModel(scaleLoad(load, multiple * 1.0001), design, lambda, prices).first };
};

/**
 * Placements/s the deployed system sustains: the largest R (reports and E as given) with every
 * bound at or under `ceiling` × its limit, and the bound that stops it.
 */
export const sustainedPlacements = (
  load: ModelLoad,
  design: ModelDesign,
  lambda: ModelLambda,
  prices: ModelPrices,
  ceiling = 1,
): { placementsPerS: number; bound: Bound } => {
  const at = (r: number) => capacityModel({ ...load, schedulesPerS: r }, design, lambda, prices);
  const r = largest((x) => at(x).first.utilization <= ceiling, 1e6);
  return { placementsPerS: r, bound: at(r * 1.0001 + 1e-6).first };
};

/** The design as issue 12 describes it (the names are the config's where it has them). */
export const DEFAULT_DESIGN: ModelDesign = {
  shards: 16,
  projection: 'keys',
  // host (~12 B) + change_shard + changed_at + ver, names included: ~60 B; rounded up.
  keysEntryBytes: 100,
  refreshMs: 1000,
  lookbackMs: 10_000,
  nearMs: 1000,
  claimInTransaction: true,
  snapshotEveryS: 60,
  // Assumed (no snapshot branch figure yet): a 1.5 KB node item gzips to ~250 B in a chunk of many.
  snapshotBytesPerHost: 250,
  snapshotChunkBytes: 350 * 1024,
};

/**
 * Lambda figures. scheduleFixedMs: three DynamoDB calls (feed query or BatchGet, the claim, the
 * decision) at a few ms each on AWS plus the request's own CPU (assumed, not measured on AWS).
 * schedulePerHostUs: docs/scale.md "Claim path CPU": the host-state pass (1.4 ms) + filters and
 * weighers (1.0 ms) per request over 1,000 nodes = 2.4 µs per host.
 */
export const DEFAULT_LAMBDA: ModelLambda = {
  scheduleFixedMs: 15,
  schedulePerHostUs: 2.4,
  scheduleMemoryMb: 1024,
  reportMs: 15,
  reportMemoryMb: 256,
  notifyMs: 15,
  notifyMemoryMb: 256,
  arch: 'arm64',
};

/**
 * On-demand prices, us-east-1, USD. DynamoDB: $0.625 per million write request units and $0.125
 * per million read request units since the on-demand price cut of 2024-11-01 (aws.amazon.com/
 * dynamodb/pricing/on-demand/, whose stored copy renders the figures client-side; the numbers as
 * quoted by airbyte.com/data-engineering-resources/dynamodb-pricing, 2025-07-21); GSI writes and
 * reads are billed as the table's request units; storage $0.25 per GB-month (same page; the
 * first 25 GB free is ignored here). Lambda (aws.amazon.com/lambda/pricing/, first tier, as
 * quoted by cloudchipr.com/blog/aws-lambda-pricing, 2024): $0.20 per million requests,
 * $0.0000166667 per GB-s x86_64, $0.0000133334 per GB-s arm64. Streams are not used.
 */
export const PRICES_US_EAST_1: ModelPrices = {
  perMillionWrite: 0.625,
  perMillionRead: 0.125,
  perGbMonth: 0.25,
  lambdaPerMillionRequests: 0.2,
  lambdaPerGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
};
