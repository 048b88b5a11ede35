/**
 * `npm run bench`: the pure core for 1k/10k/100k hosts, then the end-to-end
 * figures over HTTP against DynamoDB Local, then notifications applied per
 * second through the notify handler's code path. Writes docs/performance.md.
 * `--core-only` skips the end-to-end and notify parts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchDecisions, decisionsTable } from './decisions';
import { benchEndToEnd, type LatencyRow, type ThroughputRow } from './e2e';
import { sectionText } from './lib/performance-doc';
import { benchNotify, type NotifyResult } from './notify';
import { benchSchedulerCore, schedulerCoreTable } from './scheduler-core';
import { benchSimulate, simulateTable } from './simulate';

const log = (s: string) => process.stderr.write(`${s}\n`);
const coreOnly = process.argv.includes('--core-only');

const machine = () => {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let kernel = '';
  try {
    kernel = execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim();
  } catch {}
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${kernel}, Node ${process.version}`;
};

const latencyTable = (rows: LatencyRow[]) =>
  [
    '| nodes stored | requests | p50 ms | p99 ms | DynamoDB items read per decision | % of fleet |',
    '|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.nodes.toLocaleString('en-US')} | ${r.requests} | ${r.p50_ms.toFixed(1)} | ${r.p99_ms.toFixed(1)} | ${r.mean_items_read.toFixed(2)} | ${r.items_read_pct_of_fleet.toFixed(3)} % |`,
    ),
  ].join('\n');

const throughputTable = (rows: ThroughputRow[]) =>
  [
    '| schedulers | nodes | concurrent | seconds | claims/s | raw conditional UpdateItem/s, small item | ratio | raw conditional UpdateItem/s, node item | ratio | over-committed nodes | NoValidHost |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.path} | ${r.nodes.toLocaleString('en-US')} | ${r.schedulers} | ${r.seconds} | ${r.claims_per_s.toFixed(0)} | ${r.raw_update_per_s.toFixed(0)} | ${(100 * r.ratio).toFixed(0)} % | ${r.raw_node_update_per_s.toFixed(0)} | ${(100 * r.node_ratio).toFixed(0)} % | ${r.over_committed_nodes} | ${r.no_valid_host} |`,
    ),
  ].join('\n');

const notifyTable = (r: NotifyResult) => {
  const n = (x: number | null | undefined, digits = 0) => (x === null || x === undefined ? '—' : x.toFixed(digits));
  const fresh = r.rows[0];
  const dupCost = (row: NotifyResult['rows'][number]) => {
    if (row.duplicate_vs_fresh === null) return '—';
    const pct = `${(100 * row.duplicate_vs_fresh).toFixed(0)} % of a fresh one`;
    return row.duplicate_basis === 'mean ms, same row'
      ? `${pct}: ${n(row.duplicate_mean_ms, 1)} ms against ${n(row.fresh_mean_ms, 1)} ms in this row`
      : `${pct}: ${n(row.raw_updates_per_event, 2)} raw UpdateItems against ${n(fresh?.raw_updates_per_event, 2)}`;
  };
  return [
    '| path | seconds | events/s | raw conditional UpdateItem/s, node item | ratio | raw TransactWriteItems/s (Put + node Update) | ratio | mean ms per event | TransactWriteItems per event | cost per event in raw UpdateItems | applied | duplicate | errors | a duplicate costs |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...r.rows.map(
      (row) =>
        `| ${row.path} | ${row.seconds} | ${n(row.events_per_s)} | ${n(row.raw_update_per_s)} | ${(100 * row.ratio).toFixed(0)} % | ${n(row.raw_transact_per_s)} | ${(100 * row.transact_ratio).toFixed(0)} % | ${n(row.mean_ms, 1)} | ${n(row.transactions_per_event, 2)} | ${n(row.raw_updates_per_event, 2)} | ${row.applied.toLocaleString('en-US')} | ${row.duplicate.toLocaleString('en-US')} | ${row.errors} | ${dupCost(row)} |`,
    ),
  ].join('\n');
};

log('core: 1k, 10k, 100k hosts');
const core = benchSchedulerCore();
log(schedulerCoreTable(core));
log('replay (qm simulate): 1k hosts');
const sim = simulateTable(
  benchSimulate(),
  core.find((r) => r.hosts === 1_000 && r.request === 'plain')?.median_ms_top20,
);
log(sim);
const e2e = coreOnly ? undefined : await benchEndToEnd(log);
const notify = coreOnly ? undefined : await benchNotify(log);
const decisions = coreOnly ? undefined : await benchDecisions(log);

const doc = [
  '# Performance',
  '',
  `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${machine()}.`,
  'Every figure in a table comes from the same run; ratios compare figures of one run.',
  '',
  '## Scheduler core (pure: filter + weigh + select, every filter and weigher enabled)',
  '',
  schedulerCoreTable(core),
  '',
  '## What-if replay (`qm simulate`, 1,000 empty hosts, a generated trace, default configuration)',
  '',
  sim,
  '',
  'A replay decision is cheaper than the plain row above: the trace asks nothing of the image, capability or',
  'aggregate filters, so they drop out of the chain, and an empty fleet has few instances per host to check.',
  '',
  ...(e2e
    ? [
        '## POST /schedule over HTTP (serverless-offline → DynamoDB Local)',
        '',
        'Sequential requests, each one a real claim, after 20 warm-up requests (a cold container scans the table once;',
        'afterwards it reads only the nodes changed since its last look, through the `by_change_sharded` index).',
        '',
        latencyTable(e2e.latency),
        '',
        '## Claims per second, 8 concurrent schedulers',
        '',
        throughputTable(e2e.throughput),
        '',
        'Reading it: a claim makes up to three DynamoDB round trips — the change-feed queries (skipped while',
        "`fleet_refresh_ms` lets a container reuse its copy, own claims applied from the UpdateItem's ALL_NEW),",
        'the conditional UpdateItem of the node item, and the decision PutItem — so two calls is the floor and',
        'half the raw rate the ceiling. The rest is CPU: on these two cores the schedulers (filtering 1,000 hosts,',
        'building and gzipping the decision, the AWS SDK) share the machine with DynamoDB Local (Java); a CPU',
        'profile of the in-process row shows Node busy about 15 ms per claim and Java taking the other core, so',
        `every call waits in a queue. Writing the decision in the claim's transaction (one call) was slower here`,
        '(DynamoDB Local serializes transactions). The target (50 % of the raw rate) is not met.',
        'The HTTP row also pays serverless-offline (hapi, a worker thread per concurrent invocation) on the',
        'same two cores. Figures on this shared 2-core machine move by up to 2× between runs (other work on',
        'the host); compare rows of one run only.',
        '',
      ]
    : []),
  ...(notify
    ? [
        '## Notifications applied per second, 8 concurrent',
        '',
        `${notify.nodes.toLocaleString('en-US')} nodes stored. The in-process rows call the notify handler's code path`,
        '(`parseNotification` + `DynamoEventStore.apply`) from 8 loops; fresh messages are a quarter each of',
        '`compute.instance.create.end` of a new uuid, an X.start, the delete.end of that uuid and the X.end, spread',
        'over every host. The raw rates are 8 loops on one node item each, run in 2 s slices taking turns with the',
        `row's own (the SNS row's: right after it), so both see the same background load.`,
        '',
        notifyTable(notify),
        '',
        'Reading it: each event is one TransactWriteItems — the idempotency Put (`attribute_not_exists`) and the',
        `node's update guarded by the facts it was chosen on — plus a second one when the first guess of those facts is`,
        "wrong (the store guesses what the last event of its kind found, and each host's workload as last seen),",
        'so the raw TransactWriteItems rate is its ceiling. A duplicate is one transaction cancelled on the Put, which',
        'writes nothing: it must cost less than a fresh event (last column: mean wall time against the fresh events of',
        'the same row; for the duplicates-only row, raw UpdateItems per message — load moves mean ms between rows).',
        ...(notify.sns_skipped
          ? ['', `The row over the local SNS endpoint is missing: ${notify.sns_skipped}.`]
          : [
              'The SNS row publishes the fresh mix to serverless-offline-sns, which invokes the bundled handler in',
              `serverless-offline's process; at most 64 messages are unconfirmed at once, a poller reads their idempotency`,
              'records back (its mean ms is publish → read back, seconds include the drain until the last one).',
            ]),
        '',
      ]
    : []),
  ...(decisions
    ? [
        '## Decisions at any size (all hosts rejected; docs/decisions.md)',
        '',
        'Stored through DynamoDecisionStore into a DynamoDB Local of its own (`bench/decisions.ts`); bytes by',
        "DynamoDB's item-size rules, WCU by AWS's (1 per KB per item, rounded up: DynamoDB Local reports none),",
        'the RCU of one `?host=` read (head + one page, 1 per 4 KB per item, strongly consistent).',
        '',
        decisionsTable(decisions),
        '',
      ]
    : []),
].join('\n');
mkdirSync('docs', { recursive: true });
// `npm run bench:fleet` owns its own section: keep it.
const fleet = sectionText('docs/performance.md', 'Fleet on real DynamoDB limits');
writeFileSync('docs/performance.md', `${doc}\n${fleet ? `\n${fleet}\n` : ''}`);
log('wrote docs/performance.md');
