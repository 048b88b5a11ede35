import { describe, expect, it } from 'vitest';
import {
  capacityModel,
  DEFAULT_DESIGN,
  DEFAULT_LAMBDA,
  headroom,
  type ModelLoad,
  PRICES_US_EAST_1,
  SECONDS_PER_MONTH,
  sustainedPlacements,
} from './capacity-model.js';

// Issue 12's target load: 100,000 hosts reporting once a minute, 200 claims/s, 200 notifications/s.
const target: ModelLoad = {
  hosts: 100_000,
  schedulesPerS: 200,
  eventsPerS: 200,
  reportIntervalS: 60,
  reportsPerEvent: 0,
  nodeItemBytes: 1500,
  decisionHeadBytes: 4500,
  idempotencyBytes: 300,
  lambdas: 1000,
};
const model = (load: ModelLoad, design = DEFAULT_DESIGN) =>
  capacityModel(load, design, DEFAULT_LAMBDA, PRICES_US_EAST_1);

describe('capacityModel', () => {
  it('prices every node write on the table and twice (delete + put) on its index shard', () => {
    const r = model(target);
    // reports 100,000 / 60 = 1,666.7/s; a 1.5 KB item costs ceil(1500/1024) = 2 WCU;
    // claim in a transaction with the decision head: 2 × 2 = 4; notify's transaction: 2 × 2 = 4.
    expect(r.reportsPerS).toBeCloseTo(1666.67, 1);
    expect(r.nodeWriteWcu).toEqual({ report: 2, claim: 4, event: 4 });
    // table: 1,666.7 × 2 + 200 × 4 + 200 × 4 = 3,333.3 + 800 + 800 = 4,933.3 WCU/s
    expect(r.tableWcu).toBeCloseTo(4933.33, 1);
    // index: a 100 B keys-only entry is 1 WCU; delete + put = 2 per write, transactions ×2:
    // 2 × (1,666.7 + 200 × 2 + 200 × 2) = 4,933.3 WCU/s, over 16 shards = 308.3 (31 % of 1,000)
    expect(r.indexWcu).toBeCloseTo(4933.33, 1);
    expect(r.indexShardWcu).toBeCloseTo(308.33, 1);
    // decisions: head 4,500 B = 5 WCU, ×2 in the claim's transaction: 200 × 10 = 2,000 WCU/s
    expect(r.decisionsWcu).toBe(2000);
    // idempotency records: 300 B = 1 WCU, ×2: 200 × 2 = 400 WCU/s
    expect(r.eventsWcu).toBe(400);
  });

  it('reads every changed node once per container: BatchGet RCU = containers × node writes/s', () => {
    const r = model(target);
    // schedule: 15 ms + 100,000 × 2.4 µs = 255 ms; busy Lambdas = 200 × 0.255 = 51 containers
    expect(r.scheduleMs).toBe(255);
    expect(r.busyLambdas).toBeCloseTo(51, 6);
    // node writes 1,666.7 + 200 + 200 = 2,066.7/s, each a 1.5 KB strong read = 1 RCU:
    // 51 × 2,066.7 = 105,400 RCU/s — 2.6 × the table's default 40,000 quota: the first bound.
    expect(r.batchGetRcu).toBeCloseTo(105_400, 0);
    expect(r.first.name).toBe('nodes table RCU quota (BatchGet)');
    // change queries: each container refreshes min(200/51, 1000/1000 ms) = 1/s; a shard's query
    // covers 1 s + 10 s lookback: 2,066.7 / 16 × 11 = 1,420.8 entries × 100 B = 142,083 B
    // = ceil(142,083 / 4,096) = 35 × 0.5 = 17.5 RCU; × 51 containers = 892.5 RCU/s per shard
    expect(r.indexShardRcu).toBeCloseTo(892.5, 6);
  });

  it('with a refresh on every request, reads the whole lookback once per near window, not per request', () => {
    const every = (nearMs: number) => model(target, { ...DEFAULT_DESIGN, refreshMs: 0, nearMs }).indexShardRcu;
    // 51 containers, 200/51 = 3.92 refreshes/s each. Every query far (nearMs 0): a window of 0.255 s +
    // 10 s = 1,324.6 entries × 100 B → 33 pages of 4 KB × 0.5 = 16.5 RCU; × 200 queries/s = 3,300 RCU/s
    // per shard, 110 % of 3,000: over the limit.
    expect(every(0)).toBeCloseTo(3300, 6);
    // nearMs 1,000: one far query per container per second (11 s: 17.5 RCU) and 2.92 near ones
    // (0.255 s + 1 s = 162 entries → 4 pages = 2 RCU): 51 × (17.5 + 2.92 × 2) = 1,190.5 RCU/s, 40 %.
    expect(every(1000)).toBeCloseTo(1190.5, 6);
  });

  it('finds the multiple of the load at which the first bound reaches its limit', () => {
    // BatchGet RCU scales as k × (containers at k) × ...: at k, containers = ceil(51k) and node
    // writes 2,066.7k, so 40,000 RCU/s is reached near k² × 105,400 = 40,000 → k ≈ 0.62 (the
    // containers round up, so a little under).
    const h = headroom(target, DEFAULT_DESIGN, DEFAULT_LAMBDA, PRICES_US_EAST_1);
    expect(h.bound.name).toBe('nodes table RCU quota (BatchGet)');
    expect(h.multiple).toBeGreaterThan(0.58);
    expect(h.multiple).toBeLessThan(0.62);
  });

  it('with one Lambda, placements/s stop at 1 / 0.255 s, long before the index shard (2,966.7/s)', () => {
    // One Lambda: BatchGet RCU = 1 × node writes. Index shard WCU at R claims/s =
    // (2 × 1,666.7 + 2 × 2 × 200 + 4R) / 16 ≤ 1,000 → R ≤ (16,000 − 3,333.3 − 800) / 4 = 2,966.7;
    // but a lone Lambda serves 1 / 0.255 s = 3.92 placements/s first.
    const s = sustainedPlacements({ ...target, lambdas: 1 }, DEFAULT_DESIGN, DEFAULT_LAMBDA, PRICES_US_EAST_1);
    expect(s.bound.name).toBe('schedule Lambdas busy');
    expect(s.placementsPerS).toBeCloseTo(1 / 0.255, 1);
  });

  it('reproduces the old single-partition design from its measured mean write size', () => {
    // docs/performance.md, 1,000 hosts 1×: 33 reports/s, 200 schedules/s, 199 notifications/s;
    // fleet-nodes 2,801 WCU/s over 33 + 200 + 2 × 199 = 631 write units = 4.44 WCU each.
    // by_change (S = 1, ALL): 2 × 4.44 × 631 = 5,603 WCU/s = 560 % (measured 523 %).
    const r = model(
      {
        ...target,
        hosts: 1000,
        reportIntervalS: 1000 / 33,
        schedulesPerS: 200,
        eventsPerS: 199,
        nodeWriteWcu: 2801.4 / 631,
      },
      { ...DEFAULT_DESIGN, shards: 1, projection: 'all', claimInTransaction: false },
    );
    expect(r.tableWcu).toBeCloseTo(2801.4, 0);
    expect(r.indexShardWcu).toBeCloseTo(2 * 2801.4, 0);
  });

  it('bills a month of 730 h at on-demand prices', () => {
    const r = model(target);
    // writes: table 4,933.3 + index 4,933.3 + decisions 2,000 + events 400 + snapshot
    // (100,000 × 250 B = 25,000,000 B → ceil(/358,400) = 70 chunks × 350 WCU / 60 s = 408.3)
    // = 12,675 WCU/s × 2,628,000 s × $0.625 / 1e6 = $20,818.69
    expect(SECONDS_PER_MONTH).toBe(2_628_000);
    expect(r.snapshotWcu).toBeCloseTo(408.33, 1);
    expect(r.cost.dynamoWrites).toBeCloseTo(20_818.69, 1);
  });
});
