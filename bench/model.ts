/**
 * `npm run bench:model`: the capacity model of adapters/dynamodb/capacity-model.ts at 1k / 10k /
 * 100k hosts (and 5k, the anchors' size), printed as the markdown tables of docs/scale.md
 * "Capacity model". Pure arithmetic: no DynamoDB, no timing; the same output on every machine.
 */
import {
  type Bound,
  capacityModel,
  DEFAULT_DESIGN,
  DEFAULT_LAMBDA,
  headroom,
  type ModelDesign,
  type ModelLoad,
  PRICES_US_EAST_1,
  sustainedPlacements,
} from '../adapters/dynamodb/capacity-model';

const HOSTS = [1000, 10_000, 100_000];

/** Issue 12's target traffic: one report a minute per host, 200 claims/s, 200 notifications/s. */
const base = (hosts: number, nodeItemBytes: number): ModelLoad => ({
  hosts,
  schedulesPerS: 200,
  eventsPerS: 200,
  reportIntervalS: 60,
  // The design: the agent reports again on a change it sees (one per notification, the worst case).
  reportsPerEvent: 1,
  nodeItemBytes,
  // docs/performance.md "Fleet on real DynamoDB limits": decision bytes p50 2,333 B at 1k hosts
  // (4,468 before the compact ranking of 2026-12-04).
  decisionHeadBytes: 2400,
  idempotencyBytes: 300,
  lambdas: 1000,
});

/** docs/scale.md "Node items": a bare host 1,465 B; the item-6 host (50 instances, 100 claims) 14,214 B. */
const ITEMS = [
  { label: '1.5 KB nodes', bytes: 1500 },
  { label: '14 KB nodes (item-6 host)', bytes: 14_214 },
];

const run = (load: ModelLoad, design: ModelDesign = DEFAULT_DESIGN) =>
  capacityModel(load, design, DEFAULT_LAMBDA, PRICES_US_EAST_1);

const n = (x: number, digits = 0): string =>
  x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pct = (u: number): string => `${n(u * 100)} %`;
const usd = (x: number): string => `$${n(x)}`;
const boundText = (b: Bound): string => `${b.name} (${pct(b.utilization)})`;

const lines: string[] = [];
const out = (s = '') => lines.push(s);

out(
  `Design: S = ${DEFAULT_DESIGN.shards} shards, projection KEYS_ONLY + ver (${DEFAULT_DESIGN.keysEntryBytes} B entry), ` +
    `a container refreshes at most every ${n(DEFAULT_DESIGN.refreshMs)} ms, lookback ${DEFAULT_DESIGN.lookbackMs / 1000} s (near window ${DEFAULT_DESIGN.nearMs / 1000} s), ` +
    'claim in one transaction with the decision head, snapshot every 60 s. Load: reports every 60 s + one per ' +
    'notification, R = 200 schedules/s, E = 200 notifications/s, L = 1,000 Lambdas (the default account concurrency).',
);
out();

for (const item of ITEMS) {
  out(`#### Per second at R = 200, E = 200, ${item.label}`);
  out();
  out(
    '| hosts | node writes/s (reports + claims + events) | WCU per report / claim / event | nodes WCU/s | ' +
      'index WCU/s: total, hottest shard (% of 1,000) | index shard RCU/s (% of 3,000) | BatchGet RCU/s (% of 40,000 table quota) | ' +
      'schedule ms, busy Lambdas | first bound | load multiple to its limit (to 50 %) |',
  );
  out('|---:|---|---|---:|---|---|---|---|---|---|');
  for (const hosts of HOSTS) {
    const load = base(hosts, item.bytes);
    const r = run(load);
    const h1 = headroom(load, DEFAULT_DESIGN, DEFAULT_LAMBDA, PRICES_US_EAST_1, 1);
    const h5 = headroom(load, DEFAULT_DESIGN, DEFAULT_LAMBDA, PRICES_US_EAST_1, 0.5);
    const w = r.nodeWrites;
    out(
      `| ${n(hosts)} | ${n(w.reports + w.claims + w.events)} (${n(w.reports)} + ${n(w.claims)} + ${n(w.events)}) | ` +
        `${r.nodeWriteWcu.report} / ${r.nodeWriteWcu.claim} / ${r.nodeWriteWcu.event} | ${n(r.tableWcu)} | ` +
        `${n(r.indexWcu)}, ${n(r.indexShardWcu)} (${pct(r.indexShardWcu / 1000)}) | ${n(r.indexShardRcu, 1)} (${pct(r.indexShardRcu / 3000)}) | ` +
        `${n(r.batchGetRcu)} (${pct(r.batchGetRcu / 40_000)}) | ${n(r.scheduleMs)} ms, ${n(r.busyLambdas, 1)} | ` +
        `${boundText(r.first)} | ${n(h1.multiple, 2)}× (${n(h5.multiple, 2)}×): ${h1.bound.name} |`,
    );
  }
  out();
}

out('#### Placements/s sustained (reports and E = 200/s as above; R raised until the first bound reaches its limit)');
out();
out('| hosts | nodes | L = 1,000: placements/s | stopped by | L = 100: placements/s | stopped by |');
out('|---:|---|---:|---|---:|---|');
for (const hosts of [1000, 5000, 10_000, 100_000]) {
  for (const item of ITEMS) {
    const s1k = sustainedPlacements(base(hosts, item.bytes), DEFAULT_DESIGN, DEFAULT_LAMBDA, PRICES_US_EAST_1);
    const s100 = sustainedPlacements(
      { ...base(hosts, item.bytes), lambdas: 100 },
      DEFAULT_DESIGN,
      DEFAULT_LAMBDA,
      PRICES_US_EAST_1,
    );
    out(
      `| ${n(hosts)} | ${item.label} | ${n(s1k.placementsPerS)} | ${s1k.bound.name} | ${n(s100.placementsPerS)} | ${s100.bound.name} |`,
    );
  }
}
out();

out('#### Monthly on-demand bill at R = 200, E = 200 (730 h, us-east-1, arm64 Lambdas, no free tier)');
out();
out('| hosts | nodes | DynamoDB writes | DynamoDB reads | storage | Lambda | total |');
out('|---:|---|---:|---:|---:|---:|---:|');
for (const hosts of HOSTS) {
  for (const item of ITEMS) {
    const c = run(base(hosts, item.bytes)).cost;
    out(
      `| ${n(hosts)} | ${item.label} | ${usd(c.dynamoWrites)} | ${usd(c.dynamoReads)} | ${usd(c.storage)} | ${usd(c.lambda)} | ${usd(c.total)} |`,
    );
  }
}
out();

// The old design (one partition-key value `n`, projection ALL, claim not in a transaction),
// at the fleet bench's measured rates and mean WCU per node write (table WCU ÷ write units,
// a notification's transaction counting 2), against what the bench measured on `by_change`.
const measured = [
  { hosts: 1000, load: '1×', reports: 33, schedules: 200, events: 199, tableWcu: 2801.4, p50: 2471, index: 5232.4 },
  { hosts: 10_000, load: '1×', reports: 179, schedules: 200, events: 198, tableWcu: 2357.4, p50: 1558, index: 4295.1 },
  { hosts: 10_000, load: '2×', reports: 330, schedules: 400, events: 395, tableWcu: 4737.0, p50: 1621, index: 8639.8 },
];
const OLD: ModelDesign = { ...DEFAULT_DESIGN, shards: 1, projection: 'all', claimInTransaction: false };
out('#### The old single-partition design against the fleet bench (docs/performance.md)');
out();
out(
  '| hosts | load | measured rates (reports, R, E)/s | mean WCU per node write (measured) | model `by_change` WCU/s (% of 1,000) | ' +
    'measured (% of 1,000) | model ÷ measured | model from p50 item bytes alone (% of 1,000) |',
);
out('|---:|---:|---|---:|---:|---:|---:|---:|');
for (const m of measured) {
  const units = m.reports + m.schedules + 2 * m.events;
  const load: ModelLoad = {
    ...base(m.hosts, m.p50),
    reportIntervalS: m.hosts / m.reports,
    reportsPerEvent: 0,
    schedulesPerS: m.schedules,
    eventsPerS: m.events,
    lambdas: 1,
  };
  const calibrated = run({ ...load, nodeWriteWcu: m.tableWcu / units }, OLD);
  const blind = run(load, OLD);
  out(
    `| ${n(m.hosts)} | ${m.load} | ${m.reports}, ${m.schedules}, ${m.events} | ${n(m.tableWcu / units, 2)} | ` +
      `${n(calibrated.indexShardWcu)} (${pct(calibrated.indexShardWcu / 1000)}) | ${n(m.index)} (${pct(m.index / 1000)}) | ` +
      `${n(calibrated.indexShardWcu / m.index, 2)} | ${n(blind.indexShardWcu)} (${pct(blind.indexShardWcu / 1000)}) |`,
  );
}

console.log(lines.join('\n'));
