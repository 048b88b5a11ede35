/**
 * `npm run bench`: the pure core for 1k/10k/100k hosts, then the end-to-end
 * figures over HTTP against DynamoDB Local. Writes docs/performance.md.
 * `--core-only` skips the end-to-end part.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchEndToEnd, type LatencyRow, type ThroughputRow } from './e2e';
import { benchSchedulerCore, schedulerCoreTable } from './scheduler-core';

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

log('core: 1k, 10k, 100k hosts');
const core = benchSchedulerCore();
log(schedulerCoreTable(core));
const e2e = coreOnly ? undefined : await benchEndToEnd(log);

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
  ...(e2e
    ? [
        '## POST /schedule over HTTP (serverless-offline → DynamoDB Local)',
        '',
        'Sequential requests, each one a real claim, after 20 warm-up requests (a cold container scans the table once;',
        'afterwards it reads only the nodes changed since its last look, through the `by_change` index).',
        '',
        latencyTable(e2e.latency),
        '',
        '## Claims per second, 8 concurrent schedulers',
        '',
        throughputTable(e2e.throughput),
        '',
        'Reading it: a claim is at least one conditional UpdateItem of a node item (about 1 KB, kept in the',
        '`by_change` index, whose key attribute every write moves) plus the by_change query and the decision',
        'PutItem. The "small item" column is the bare DynamoDB Local rate on items outside any index; the',
        '"node item" column is the same conditional UpdateItem on node items, the real floor of a claim.',
        'The HTTP row also pays serverless-offline (hapi, a worker thread per concurrent invocation) on the',
        'same two cores as DynamoDB Local (Java) and the client.',
        '',
      ]
    : []),
].join('\n');
mkdirSync('docs', { recursive: true });
writeFileSync('docs/performance.md', `${doc}\n`);
log('wrote docs/performance.md');
