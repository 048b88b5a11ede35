/**
 * `npm run bench:coldstart -- --hosts 10000,100000 [--scan-max 10000] [--no-scan] [--no-doc]`: how long a cold schedule container
 * takes to have the fleet in memory, and how much memory that fleet takes (issue 12 item 4; targets
 * ≤ 3 s and a 1,024 MB Lambda). For each N it seeds N node items into a DynamoDB Local of its own
 * (BatchWriteItem, 8 calls in flight; the agent's report shape with a few instances, ~1.5 KB an
 * item), writes a fleet snapshot (adapters/dynamodb/fleet-snapshot.ts), then loads the fleet in a
 * FRESH child process (`node --import tsx`, so module load and a cold heap count) once by the
 * snapshot and once by the cold scan (adapters/dynamodb/fleet-seed.ts), under `/usr/bin/time -v`
 * when it exists. Prints a markdown table and upserts "Cold start" in docs/performance.md.
 * DynamoDB Local listens on 9700 + QM_TEST_PORT_OFFSET.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { nativeItemSize as itemBytes } from '../adapters/dynamodb/capacity-rules';
import { documentClient } from '../adapters/dynamodb/client';
import { coldScan, fleetSeed } from '../adapters/dynamodb/fleet-seed';
import { FleetSnapshotStore } from '../adapters/dynamodb/fleet-snapshot';
import { fromItem, toItem } from '../adapters/dynamodb/node-item';
import { applyReport, type Report } from '../core/nodes';
import type { StoredNode } from '../core/ports';
import { startDynamoDbLocal } from '../scripts/lib/dynamodb-local';
import { stopChild } from '../scripts/lib/stack';
import { createTablesFromServerlessYml } from '../scripts/lib/tables';
import { upsertSection } from './lib/performance-doc';

const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
};
const log = (s: string) => process.stderr.write(`${s}\n`);
/** --scan-max N: scan only fleets up to N hosts. */
const SCAN_MAX = argOf('scan-max');
const MB = 1024 * 1024;

/** A seeded PRNG (mulberry32): the same fleet every run. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const CPUS = [
  { arch: 'x86_64', vendor: 'Intel', model: 'Xeon Gold 6230', features: ['avx', 'avx2', 'sse4_2'] },
  { arch: 'x86_64', vendor: 'AMD', model: 'EPYC 7763', features: ['avx', 'avx2', 'sse4_2', 'sha_ni'] },
  { arch: 'aarch64', vendor: 'ARM', model: 'Neoverse-N1', features: ['asimd', 'crc32', 'aes'] },
];
const hex = (rand: () => number, n: number) =>
  Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
const uuid = (rand: () => number) =>
  `${hex(rand, 8)}-${hex(rand, 4)}-4${hex(rand, 3)}-a${hex(rand, 3)}-${hex(rand, 12)}`;

/** The bench fleet's report shape (bench/fleet.ts, bench/claims.ts), with 0–5 instances and three CPU models. */
const reportOf = (i: number, rand: () => number): Report => {
  const instances = Array.from({ length: Math.floor(rand() * 6) }, () => ({
    uuid: uuid(rand),
    vcpus: 2,
    memory_mb: 4096,
    disk_gb: 40,
  }));
  return {
    hypervisor_hostname: `cold-${String(i).padStart(6, '0')}`,
    hypervisor_type: 'QEMU',
    hypervisor_version: 6_002_000,
    cpu_info: { ...(CPUS[i % CPUS.length] as (typeof CPUS)[0]), topology: { sockets: 2, cores: 16, threads: 2 } },
    vcpus: 64,
    memory_mb: 262_144,
    local_gb: 4000,
    vcpus_used: (i % 16) + instances.length * 2,
    memory_mb_used: 8192 + ((i * 7919) % 65_536) + instances.length * 4096,
    local_gb_used: ((i * 13) % 1000) + instances.length * 40,
    disk_available_least: 3000 - instances.length * 40,
    running_vms: instances.length,
    current_workload: i % 4,
    instances,
    availability_zone: `az-${i % 4}`,
    seq: 1,
    reported_at: new Date().toISOString(),
  };
};

/** Seeds `n` hosts as their first report leaves them; returns the p50 and max item size. */
const seed = async (
  url: string,
  table: string,
  n: number,
): Promise<{ p50: number; max: number; nodes: StoredNode[] }> => {
  const db = documentClient('us-east-1', url);
  const rand = prng(n);
  const now = Date.now();
  const sizes: number[] = [];
  const nodes: StoredNode[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < n) {
        const from = next;
        next = Math.min(n, next + 25);
        let req: Record<string, unknown[]> | undefined = {
          [table]: Array.from({ length: next - from }, (_, k) => {
            const i = from + k;
            const host = `cold-${String(i).padStart(6, '0')}`;
            const record = applyReport(undefined, reportOf(i, rand), host, { id: i + 1, service_id: i + 1 }, now, {
              claimTtlS: 600,
              windowS: 7200,
            });
            const item = toItem(record, 1, now);
            sizes.push(itemBytes(item as unknown as Record<string, unknown>));
            nodes.push(fromItem(item as unknown as Record<string, unknown>));
            return { PutRequest: { Item: item } };
          }),
        };
        while (req && Object.keys(req).length > 0) {
          const out = await db.send(new BatchWriteCommand({ RequestItems: req as never }));
          req = out.UnprocessedItems as Record<string, unknown[]> | undefined;
        }
      }
    }),
  );
  db.destroy();
  sizes.sort((a, b) => a - b);
  return { p50: sizes[Math.floor(sizes.length / 2)] ?? 0, max: sizes.at(-1) ?? 0, nodes };
};

type ChildResult = {
  mode: string;
  nodes: number;
  loadMs: number;
  sinceProcessStartMs: number;
  heapUsedMB: number;
  rssMB: number;
  maxRssMB: number;
  timeMaxRssMB?: number;
};

/** In the child: one cold load, then the memory it leaves (after a full GC, the fleet still held). */
const child = async (mode: string, url: string, table: string): Promise<void> => {
  // The snapshot path uses the production client (5 s request timeout). A 1 MB scan page on
  // DynamoDB Local with 10 segments in flight takes longer than that, so the scan gets 120 s.
  const db =
    mode === 'snapshot'
      ? documentClient('us-east-1', url)
      : DynamoDBDocumentClient.from(
          new DynamoDBClient({
            region: 'us-east-1',
            endpoint: url,
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
            requestHandler: { requestTimeout: 120_000 },
          }),
        );
  const t0 = performance.now();
  const silent = () => {};
  const nodes =
    mode === 'snapshot'
      ? ((await fleetSeed(new FleetSnapshotStore(db, table), () => coldScan(db, table), Date.now, silent)())?.nodes ??
        [])
      : await coldScan(db, table);
  const loadMs = performance.now() - t0;
  const sinceProcessStartMs = performance.now();
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  const out: ChildResult = {
    mode,
    nodes: nodes.length,
    loadMs,
    sinceProcessStartMs,
    heapUsedMB: m.heapUsed / MB,
    rssMB: m.rss / MB,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  db.destroy();
};

const skipped = (mode: string): ChildResult => ({
  mode,
  nodes: 0,
  loadMs: Number.NaN,
  sinceProcessStartMs: Number.NaN,
  heapUsedMB: Number.NaN,
  rssMB: Number.NaN,
  maxRssMB: Number.NaN,
});

/** A child that takes longer is reported as failed (NaN), not waited on. */
const CHILD_MS = 300_000;

const runChild = (mode: string, url: string, table: string): ChildResult => {
  // BENCH_CPU_PROF=<dir>: the child writes a V8 CPU profile there (NODE_OPTIONS refuses --cpu-prof).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const node = [process.execPath, '--expose-gc', ...prof, '--import', 'tsx', 'bench/coldstart.ts'];
  const args = ['--child', mode, '--url', url, '--table', table];
  const timed = existsSync('/usr/bin/time');
  const r = timed
    ? spawnSync('/usr/bin/time', ['-v', ...node, ...args], { encoding: 'utf8', maxBuffer: 64 * MB, timeout: CHILD_MS })
    : spawnSync(node[0] as string, [...node.slice(1), ...args], {
        encoding: 'utf8',
        maxBuffer: 64 * MB,
        timeout: CHILD_MS,
      });
  if (r.status !== 0) {
    log(`child ${mode} failed or exceeded ${CHILD_MS / 1000} s: ${r.stderr?.slice(-2000)}`);
    return skipped(mode);
  }
  const res = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as ChildResult;
  const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
  if (kb) res.timeMaxRssMB = Number(kb[1]) / 1024;
  return res;
};

/** RCU of reading `bytes` eventually consistent: 0.5 per 4 KB (AWS), rounded up per item (`items` sizes) or per page. */
const halfRcu = (sizes: number[]) => sizes.reduce((t, b) => t + Math.ceil(b / 4096) * 0.5, 0);

type Row = {
  hosts: number;
  itemP50: number;
  itemMax: number;
  tableMB: number;
  seedS: number;
  snapBytes: number;
  chunks: number;
  wcu: number;
  writeMs: number;
  snap: ChildResult;
  scan: ChildResult;
  snapRcu: number;
  scanRcu: number;
};

const benchOne = async (url: string, n: number): Promise<Row> => {
  const names = {
    NodesTable: `cold-${n}-nodes`,
    DecisionsTable: `cold-${n}-decisions`,
    EventsTable: `cold-${n}-events`,
  };
  await createTablesFromServerlessYml(url, names);
  const table = names.NodesTable;
  const t0 = Date.now();
  const sizes = await seed(url, table, n);
  const seedS = (Date.now() - t0) / 1000;
  log(`seeded ${n} hosts in ${seedS.toFixed(1)} s (item p50 ${sizes.p50} B, max ${sizes.max} B)`);
  const db = documentClient('us-east-1', url);
  const d = await db.send(new DescribeTableCommand({ TableName: table }));
  const tableBytes = d.Table?.TableSizeBytes ?? 0;
  // The snapshot of the nodes as seeded (what a scan returns; test/coldstart.test.ts checks the equality):
  // a scan of 100k items on DynamoDB Local takes minutes.
  const w0 = Date.now();
  const written = await new FleetSnapshotStore(db, table).write(sizes.nodes, w0);
  const writeMs = Date.now() - w0;
  db.destroy();
  log(`snapshot: ${written.bytes} B in ${written.chunks} chunks, ${written.wcu} WCU, written in ${writeMs} ms`);
  const snap = runChild('snapshot', url, table);
  log(`snapshot load: ${JSON.stringify(snap)}`);
  // --no-scan: the snapshot path alone; --scan-max N: scan only fleets up to N hosts (the 100k scan
  // on DynamoDB Local does not finish within the child's 300 s).
  const noScan = process.argv.includes('--no-scan') || n > Number(SCAN_MAX ?? Number.POSITIVE_INFINITY);
  const scan = noScan ? skipped('scan') : runChild('scan', url, table);
  log(`scan load: ${JSON.stringify(scan)}`);
  const chunkSizes = written.chunkBytes;
  return {
    hosts: n,
    itemP50: sizes.p50,
    itemMax: sizes.max,
    tableMB: tableBytes / MB,
    seedS,
    snapBytes: written.bytes,
    chunks: written.chunks,
    wcu: written.wcu,
    writeMs,
    snap,
    scan,
    // The head is one more read of < 4 KB.
    snapRcu: halfRcu(chunkSizes) + 0.5,
    // A Scan rounds up per page of up to 1 MB, not per item: ~ table bytes / 4 KB × 0.5.
    scanRcu: Math.ceil(tableBytes / 4096) * 0.5,
  };
};

const f1 = (x: number) => x.toFixed(1);
const s2 = (ms: number) => (ms / 1000).toFixed(2);
const rss = (c: ChildResult) => f1(c.timeMaxRssMB ?? c.maxRssMB);

const table = (rows: Row[]): string =>
  [
    '| hosts | item p50 / max (B) | table (MB) | snapshot (KB) | chunks | snapshot WCU | snapshot write (s) | load by snapshot (s) | by scan (s) | heap after load, snapshot / scan (MB) | peak RSS, snapshot / scan (MB) | load RCU, snapshot / scan |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.hosts.toLocaleString('en')} | ${r.itemP50} / ${r.itemMax} | ${f1(r.tableMB)} | ${Math.round(r.snapBytes / 1024).toLocaleString('en')} | ${r.chunks} | ${r.wcu.toLocaleString('en')} | ${s2(r.writeMs)} | **${s2(r.snap.loadMs)}** (${s2(r.snap.sinceProcessStartMs)} from process start) | ${s2(r.scan.loadMs)} (${s2(r.scan.sinceProcessStartMs)}) | ${f1(r.snap.heapUsedMB)} / ${f1(r.scan.heapUsedMB)} | ${rss(r.snap)} / ${rss(r.scan)} | ${r.snapRcu.toLocaleString('en')} / ${r.scanRcu.toLocaleString('en')} |`,
    ),
  ].join('\n');

const main = async () => {
  const mode = argOf('child');
  if (mode) return child(mode, argOf('url') as string, argOf('table') as string);
  const list = (argOf('hosts') ?? '10000')
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  if (list.length === 0) throw new Error('--hosts must list positive integers, e.g. 10000,100000');
  const port = 9700 + Number(process.env.QM_TEST_PORT_OFFSET ?? 0);
  const url = `http://127.0.0.1:${port}`;
  const java = await startDynamoDbLocal(port);
  const rows: Row[] = [];
  try {
    for (const n of list) rows.push(await benchOne(url, n));
  } finally {
    await stopChild(java);
  }
  const md = table(rows);
  process.stdout.write(`${md}\n`);
  if (!process.argv.includes('--no-doc')) {
    upsertSection(
      'docs/performance.md',
      'Cold start',
      'A new schedule container loading the fleet (issue 12 item 4: ≤ 3 s at 100,000 hosts, within a 1,024 MB Lambda), in a fresh `node --import tsx` process against DynamoDB Local on this machine (2 cores). "Load" is from the first read to the fleet in memory as `StoredNode`s; "from process start" adds Node start-up and tsx transpiling the modules (a bundled Lambda loads faster). Heap is `process.memoryUsage().heapUsed` after a full GC with the fleet held; peak RSS is `/usr/bin/time -v`\'s maximum resident set. RCU are AWS\'s arithmetic for eventually consistent reads (0.5 per 4 KB, per item for BatchGetItem, per page for Scan); WCU 1 per KB per chunk item. Design and arithmetic: docs/scale.md, "Cold start".',
      `npm run bench:coldstart -- --hosts ${list.join(',')}${SCAN_MAX ? ` --scan-max ${SCAN_MAX}` : ''}`,
      md,
    );
  }
};

await main();
