/**
 * Over 350 lines on purpose: one simulation whose parts share its state (the hosts, the simulated
 * second, the ledger, the counts) — seed, drive, drain the streams, tabulate; the reusable parts
 * already live in bench/lib (seeding, stream feed, raw update rate, the doc writer).
 *
 * `npm run bench:fleet -- --hosts 10000 [--load 2] [--seconds 60] [--rate 200] [--events 200]`:
 * a fleet on real DynamoDB's limits. Drives the REAL handlers in this process (the report,
 * schedule and notify functions' `handler`, called with the API Gateway and SNS events
 * serverless-offline would hand them) against DynamoDB Local: N hosts reporting every 60 s with
 * jitter and again after each change, R schedule requests/s, E notifications/s (create.end of
 * the instances it placed, delete.end of those it created). Each simulated second's calls run
 * together and the next second starts when they are done: where DynamoDB Local cannot keep up,
 * wall time stretches (the slowdown factor printed) while the accounting counts simulated
 * seconds. Capacity is accounted by adapters/dynamodb/capacity.ts (per table, index and
 * partition-key value; writes priced from the tables' streams), and the tables and indexes are
 * read from DescribeTable, so the bench measures whatever design serverless.yml has.
 * Also measures a fresh schedule container's cold start (seconds, heap of its fleet copy) and each claim's WCU.
 * Prints markdown tables and updates "Fleet on real DynamoDB limits" in docs/performance.md: a row per run
 * (hosts + load) in its summary table, and the run's detail under its own heading.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { register } from 'node:module';
import { DescribeTableCommand, DynamoDBClient, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, SNSEvent } from 'aws-lambda';
import { readConfig } from '../adapters/config';
import { CapacityLedger, type PartitionTally } from '../adapters/dynamodb/capacity';
import { enableCapacityAccounting } from '../adapters/dynamodb/capacity-middleware';
import { PARTITION_LIMITS, type TableShape, tableShape } from '../adapters/dynamodb/capacity-rules';
import { documentClient } from '../adapters/dynamodb/client';
import { FleetSnapshotStore } from '../adapters/dynamodb/fleet-snapshot';
import { makeScheduleDeps } from '../adapters/schedule-deps';
import { readSchedulerOptions } from '../adapters/scheduler-config';
import { instancePayload, notification } from '../agent/notifications';
import { operatorToken } from '../core/auth';
import type { Report } from '../core/nodes';
import type { StoredNode } from '../core/ports';
import { startDynamoDbLocal } from '../scripts/lib/dynamodb-local';
import { createTablesFromServerlessYml } from '../scripts/lib/tables';
import { benchHost, hostReport, seedNodes } from './lib/bench-nodes';
import { sectionText, upsertSection, upsertTableRow } from './lib/performance-doc';
import { StreamFeed } from './lib/stream-feed';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? undefined : Number(process.argv[i + 1]);
  if (v === undefined) return def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};
const HOSTS = Math.floor(arg('hosts', 1000));
const LOAD = arg('load', 1);
const SECONDS = Math.floor(arg('seconds', 60));
const SCHEDULES = arg('rate', 200) * LOAD;
const EVENTS = arg('events', 200) * LOAD;
const REPORT_PERIOD_S = 60 / LOAD;
const JITTER_S = 5;
const CONCURRENCY = Math.floor(arg('concurrency', 16));
const PORT = Math.floor(arg('port', 3511));
const WRITE_DOC = !process.argv.includes('--no-doc');
const log = (s: string) => process.stderr.write(`${s}\n`);

/** A seeded PRNG (mulberry32): the same fleet and the same jitter every run. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const rand = prng(12);

const AZ = 'fleet-az';
const FLAVOR = { vcpus: 1, memory_mb: 512, disk_gb: 1 };
const hostName = (i: number) => benchHost('fleet', i);

interface Instance {
  uuid: string;
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
}

/** What a host's agent last said and what it runs: its report is built from this. */
interface HostState {
  seq: number;
  instances: Map<string, Instance>;
}
const hosts: HostState[] = Array.from({ length: HOSTS }, () => ({ seq: 1, instances: new Map() }));

/** A report as this machine's agent sends it (the bench's e2e shape), with the host's instances. */
const reportOf = (i: number, s: HostState): Report => {
  const inst = [...s.instances.values()];
  const sum = (k: 'vcpus' | 'memory_mb' | 'disk_gb') => inst.reduce((t, x) => t + x[k], 0);
  return hostReport(
    hostName(i),
    AZ,
    {
      vcpus_used: (i % 16) + sum('vcpus'),
      memory_mb_used: 8192 + ((i * 7919) % 65_536) + sum('memory_mb'),
      local_gb_used: ((i * 13) % 1000) + sum('disk_gb'),
      disk_available_least: 3000 - sum('disk_gb'),
      running_vms: inst.length,
      current_workload: 0,
      instances: inst,
    },
    s.seq,
  );
};

const TABLES = { NodesTable: 'fleet-nodes', DecisionsTable: 'fleet-decisions', EventsTable: 'fleet-events' };
const endpoint = `http://127.0.0.1:${PORT}`;
const secret = `fleet-${randomUUID()}`;

const raw = new DynamoDBClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

/** Turns the stream on (after the seed: the window's writes only) and reads each table's shape. */
const streamsAndShapes = async (): Promise<{ shape: TableShape; arn: string }[]> => {
  const out = [];
  for (const name of Object.values(TABLES)) {
    const u = await raw.send(
      new UpdateTableCommand({
        TableName: name,
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    const d = await raw.send(new DescribeTableCommand({ TableName: name }));
    if (!d.Table) throw new Error(`no table ${name}`);
    out.push({ shape: tableShape(d.Table), arn: u.TableDescription?.LatestStreamArn ?? '' });
  }
  return out;
};

type HttpHandler = (e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult>;
type SnsHandler = (e: SNSEvent, c: Context) => Promise<void>;

const context = () =>
  ({ awsRequestId: randomUUID(), functionName: 'fleet', getRemainingTimeInMillis: () => 30_000 }) as unknown as Context;

const apiEvent = (method: string, resource: string, path: string, body: unknown, token: string, params = {}) =>
  ({
    httpMethod: method,
    resource,
    path,
    pathParameters: params,
    queryStringParameters: null,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    multiValueHeaders: {},
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { requestId: randomUUID(), stage: 'fleet' },
  }) as unknown as APIGatewayProxyEvent;

const snsEvent = (message: string): SNSEvent => ({
  Records: [
    {
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: 'arn:aws:sns:us-east-1:123456789012:fleet:1',
      Sns: {
        Type: 'Notification',
        MessageId: randomUUID(),
        TopicArn: 'arn:aws:sns:us-east-1:123456789012:fleet',
        Subject: '',
        Message: message,
        Timestamp: new Date().toISOString(),
        SignatureVersion: '1',
        Signature: '',
        SigningCertUrl: '',
        UnsubscribeUrl: '',
        MessageAttributes: {},
      },
    },
  ],
});

/** The operation (report, schedule, notify) a DynamoDB call is made for: the ledger tags its writes with it. */
const operation = new AsyncLocalStorage<string>();

/**
 * A fresh schedule container's cold start through the real path (makeScheduleDeps → CachedFleet
 * refresh: whatever that reads today, a full scan or a snapshot): its seconds, and the heap its
 * fleet copy holds — heap used after − before, each after a full GC when node runs with
 * --expose-gc (npm run bench:fleet does), else a rougher figure.
 */
const coldStart = async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const deps = makeScheduleDeps(readConfig(), readSchedulerOptions());
  const t0 = performance.now();
  const nodes = (await deps.fleet.refresh()).nodes.length;
  const seconds = (performance.now() - t0) / 1000;
  gc?.();
  const heapMb = (process.memoryUsage().heapUsed - before) / 2 ** 20;
  // Used after the measure, so the copy is still held when it is taken.
  deps.fleet.invalidate();
  return { seconds, nodes, heapMb, gc: gc !== undefined };
};

const max = (xs: readonly number[]) => xs.reduce((a, b) => Math.max(a, b), 0);
const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

const main = async () => {
  const started = Date.now();
  const dynamo = await startDynamoDbLocal(PORT);
  // Whatever way this process ends, the DynamoDB Local it started ends with it.
  process.on('exit', () => {
    if (dynamo.exitCode === null && dynamo.pid) process.kill(dynamo.pid);
  });
  try {
    await createTablesFromServerlessYml(endpoint, TABLES);
    log(`seeding ${HOSTS.toLocaleString('en-US')} hosts`);
    const seeded: StoredNode[] = [];
    await seedNodes({
      endpoint,
      table: TABLES.NodesTable,
      from: 0,
      to: HOSTS,
      reportOf: (i) => reportOf(i, hosts[i]!),
      written: (n) => seeded.push(n),
    });
    log(`seeded in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    // The fleet snapshot a running deployment keeps (the lease holder writes one a minute): cold
    // containers below load it, as they would in production, instead of the first-deploy scan.
    {
      const db = documentClient('us-east-1', endpoint);
      const w = await new FleetSnapshotStore(db, TABLES.NodesTable).write(seeded, Date.now());
      db.destroy();
      seeded.length = 0;
      log(`snapshot: ${w.chunks} chunks, ${(w.bytes / 2 ** 20).toFixed(1)} MB`);
    }
    const tables = await streamsAndShapes();
    let second = -1;
    const ledger = new CapacityLedger(
      tables.map((t) => t.shape),
      () => second,
      // A snapshot chunk or head (keys start with '#') is the container's own write, not the request's.
      (_table, pk) => (pk.startsWith('#') ? 'snapshot' : operation.getStore()),
    );
    const feeds = tables.map(
      (t) => new StreamFeed(endpoint, t.arn, (before, after) => ledger.onStreamRecord(t.shape.name, before, after)),
    );
    for (const f of feeds) await f.start();

    Object.assign(process.env, {
      QM_STAGE: 'fleet',
      QM_NODES_TABLE: TABLES.NodesTable,
      QM_DECISIONS_TABLE: TABLES.DecisionsTable,
      QM_EVENTS_TABLE: TABLES.EventsTable,
      QM_DYNAMODB_ENDPOINT: endpoint,
      QM_SECRET: secret,
      // Wall time stretches under the slowdown: a host reporting every simulated minute must stay up.
      QM_SERVICE_DOWN_TIME: '86400',
      // The same for the schedule container's full rescan (every 300 s): the window is shorter than that in
      // simulated time, and must not see rescans that only the slowdown brought into it.
      QM_FLEET_RESCAN_S: '86400',
      // And for a DynamoDB call's timeout: DynamoDB Local answers slower as the fleet grows (the point of
      // the slowdown), and a call it answers late is not an outage.
      QM_DYNAMODB_TIMEOUT_MS: '300000',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    enableCapacityAccounting(ledger);
    register('./lib/page-stub-hooks.mjs', import.meta.url);
    second = -2;
    const cold = await coldStart();
    log(
      `cold start: ${cold.seconds.toFixed(1)} s, ${cold.nodes.toLocaleString('en-US')} nodes, ${cold.heapMb.toFixed(0)} MB of heap`,
    );
    second = -1;
    const report = (await import('../functions/report/handler')).handler as unknown as HttpHandler;
    const schedule = (await import('../functions/schedule/handler')).handler as unknown as HttpHandler;
    const notify = (await import('../functions/notify/handler')).handler as unknown as SnsHandler;
    const token = operatorToken(secret, { nowMs: Date.now() });

    const counts = { report: 0, schedule: 0, notify: 0, errors: 0, noValidHost: 0, skipped: 0 };
    const firstError: string[] = [];
    const fail = (what: string, detail: string) => {
      counts.errors++;
      if (firstError.length < 3) firstError.push(`${what}: ${detail.slice(0, 300)}`);
    };
    const placed: { uuid: string; host: number }[] = [];
    const created: { uuid: string; host: number }[] = [];
    let changed = new Set<number>();

    const doReport = (i: number) => operation.run('report', () => reportOnce(i));
    const reportOnce = async (i: number) => {
      const s = hosts[i]!;
      s.seq++;
      const host = hostName(i);
      const r = await report(
        apiEvent('PUT', '/nodes/{host}', `/nodes/${host}`, reportOf(i, s), token, { host }),
        context(),
      );
      counts.report++;
      if (r.statusCode >= 300) fail('report', `${r.statusCode} ${r.body}`);
    };
    const doSchedule = () => operation.run('schedule', scheduleOnce);
    const scheduleOnce = async () => {
      const uuid = randomUUID();
      const r = await schedule(
        apiEvent(
          'POST',
          '/schedule',
          '/schedule',
          {
            request_spec: {
              instance_type: {
                name: 'f1.tiny',
                vcpus: FLAVOR.vcpus,
                memory_mb: FLAVOR.memory_mb,
                root_gb: FLAVOR.disk_gb,
              },
              instance_properties: { availability_zone: AZ },
              instance_uuids: [uuid],
            },
          },
          token,
        ),
        context(),
      );
      counts.schedule++;
      if (r.statusCode === 409) counts.noValidHost++;
      else if (r.statusCode !== 200) fail('schedule', `${r.statusCode} ${r.body}`);
      else {
        const host = (JSON.parse(r.body) as { selections: { host: string }[] }).selections[0]?.host ?? '';
        placed.push({ uuid, host: Number(host.slice('fleet-'.length)) });
      }
    };
    const doNotify = (kind: 'create' | 'delete') => operation.run('notify', () => notifyOnce(kind));
    const notifyOnce = async (kind: 'create' | 'delete') => {
      const pool = kind === 'create' ? placed : created;
      const pick = pool.shift();
      if (!pick) {
        counts.skipped++;
        return;
      }
      const host = hostName(pick.host);
      const inst = { uuid: pick.uuid, ...FLAVOR };
      const msg = JSON.stringify(
        notification(host, `compute.instance.${kind}.end`, { ...instancePayload(host, inst) }, new Date(), randomUUID),
      );
      try {
        await notify(snsEvent(msg), context());
        counts.notify++;
        const s = hosts[pick.host]!;
        if (kind === 'create') {
          s.instances.set(pick.uuid, inst);
          created.push(pick);
        } else s.instances.delete(pick.uuid);
        changed.add(pick.host);
      } catch (e) {
        fail('notify', (e as Error).message);
      }
    };

    // Each host's place in the minute, and its jitter each period.
    const offset = Array.from({ length: HOSTS }, () => rand() * REPORT_PERIOD_S);
    const due = new Map<number, number[]>();
    const periods = Math.ceil(SECONDS / REPORT_PERIOD_S) + 1;
    for (let i = 0; i < HOSTS; i++) {
      for (let p = 0; p < periods; p++) {
        const at = Math.floor(p * REPORT_PERIOD_S + offset[i]! + (rand() * 2 - 1) * JITTER_S);
        if (at < 0 || at >= SECONDS) continue;
        const list = due.get(at) ?? [];
        list.push(i);
        due.set(at, list);
      }
    }

    const runAll = async (ops: (() => Promise<void>)[]) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(CONCURRENCY, ops.length) }, async () => {
          while (next < ops.length) {
            const op = ops[next++]!;
            try {
              await op();
            } catch (e) {
              fail('call', (e as Error).message);
            }
          }
        }),
      );
    };
    const shuffle = <T>(xs: T[]) => {
      for (let i = xs.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [xs[i], xs[j]] = [xs[j]!, xs[i]!];
      }
      return xs;
    };

    // Second -1: the schedule container's cold start (the snapshot, else a full scan), counted apart from the window.
    await doSchedule();
    const wall0 = Date.now();
    let carry = { schedule: 0, notify: 0 };
    for (second = 0; second < SECONDS; second++) {
      const t0 = Date.now();
      const ops: (() => Promise<void>)[] = [];
      // Reports due this second, and the changed hosts' reports of the second before (on change).
      const reporting = new Set([...(due.get(second) ?? []), ...changed]);
      changed = new Set();
      for (const i of reporting) ops.push(() => doReport(i));
      carry = { schedule: carry.schedule + SCHEDULES, notify: carry.notify + EVENTS };
      for (; carry.schedule >= 1; carry.schedule--) ops.push(doSchedule);
      for (let k = 0; carry.notify >= 1; carry.notify--, k++)
        ops.push(() => doNotify(k % 2 === 0 ? 'create' : 'delete'));
      await runAll(shuffle(ops));
      if (second % 10 === 0 || second === SECONDS - 1) {
        log(
          `s ${second}: ${ops.length} calls in ${Date.now() - t0} ms (${counts.report} reports, ${counts.schedule} schedules, ${counts.notify} notifications, ${counts.errors} errors)`,
        );
      }
    }
    const wallS = (Date.now() - wall0) / 1000;
    log('draining the streams');
    for (const f of feeds) await f.drain();
    ledger.closeUnmatched();

    // Per (table, index): units per second; per partition: mean and peak per second.
    const where = (t: { table: string; index?: string }) => (t.index ? `${t.table} / ${t.index}` : t.table);
    const perSecond = ledger.partitionSeconds();
    const handlerCold = perSecond.get(-1) ?? [];
    const window = [...perSecond].filter(([s]) => s >= 0);
    const totals = new Map<string, { wcu: number; rcu: number }>();
    const parts = new Map<
      string,
      { where: string; pk: string; wcu: number; rcu: number; peakWcu: number; peakRcu: number }
    >();
    for (const [, tallies] of window) {
      for (const t of tallies as PartitionTally[]) {
        const w = where(t);
        const tot = totals.get(w) ?? { wcu: 0, rcu: 0 };
        tot.wcu += t.wcu;
        tot.rcu += t.rcu;
        totals.set(w, tot);
        const k = `${w}\u0000${t.partitionKey}`;
        const p = parts.get(k) ?? { where: w, pk: t.partitionKey, wcu: 0, rcu: 0, peakWcu: 0, peakRcu: 0 };
        p.wcu += t.wcu;
        p.rcu += t.rcu;
        p.peakWcu = Math.max(p.peakWcu, t.wcu);
        p.peakRcu = Math.max(p.peakRcu, t.rcu);
        parts.set(k, p);
      }
    }
    const reported = new Map<string, { wcu: number; rcu: number }>();
    for (const [s, m] of ledger.reportedSeconds()) {
      if (s < 0) continue;
      for (const [k, u] of m) {
        const key = k.replace('/', ' / ');
        const r = reported.get(key) ?? { wcu: 0, rcu: 0 };
        r.wcu += u.wcu;
        r.rcu += u.rcu;
        reported.set(key, r);
      }
    }
    const all = [...parts.values()];
    const hotW = all.reduce((a, b) => (b.wcu > a.wcu ? b : a), all[0]!);
    const hotR = all.reduce((a, b) => (b.rcu > a.rcu ? b : a), all[0]!);
    const sizes = (t: string) => ledger.writtenSizes.get(t) ?? [];
    // Node items as the three operations write them (snapshot chunks, up to 350 KB, are not node items).
    const nodeSizes = ['report', 'schedule', 'notify'].flatMap((t) => ledger.writtenSizesOf(t, TABLES.NodesTable));
    const decisionSizes = sizes(TABLES.DecisionsTable);
    const f0 = (x: number) => Math.round(x).toLocaleString('en-US');
    const f1 = (x: number) => x.toFixed(1);
    const pctOf = (x: number, lim: number) => `${((100 * x) / lim).toFixed(0)} %`;
    // What binds first: the partition with the largest share of its limit, writes or reads.
    const shares = all.flatMap((p) => [
      { p, kind: 'WCU', mean: p.wcu / SECONDS, limit: PARTITION_LIMITS.wcu },
      { p, kind: 'RCU', mean: p.rcu / SECONDS, limit: PARTITION_LIMITS.rcu },
    ]);
    const binding = shares.reduce((a, b) => (b.mean / b.limit > a.mean / a.limit ? b : a), shares[0]!);
    const coldRcu = handlerCold.reduce((s, t) => s + t.rcu, 0);
    // A claim's write: the node item's UpdateItem (or its transaction item) a schedule request made, table + indexes.
    const claimWcu = ledger.writeCosts('schedule', TABLES.NodesTable);
    const claimMean = claimWcu.reduce((a, b) => a + b, 0) / Math.max(1, claimWcu.length);

    const coldCell = f1(cold.seconds);
    const memoryCell = `${f0(cold.heapMb)}${cold.gc ? '' : ' (no --expose-gc)'}`;
    const rates = `${f0(counts.report / SECONDS)} reports/s, ${f0(counts.schedule / SECONDS)} schedules/s, ${f0(counts.notify / SECONDS)} notifications/s`;
    const summary = [
      '| hosts | load | simulated s | slowdown (wall s / simulated s) | reports/s | schedules/s | notifications/s | hottest write partition | its WCU/s mean (peak) | % of 1,000 | hottest read partition | its RCU/s mean (peak) | % of 3,000 | first limit to bind | node item bytes p50 / max | decision bytes p50 / max | cold-start read RCU | cold start s | fleet memory MB | claim WCU mean / max (claims) |',
      '|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|',
      `| ${f0(HOSTS)} | ${LOAD}× | ${SECONDS} | ${f1(wallS / SECONDS)} | ${f0(counts.report / SECONDS)} | ${f0(counts.schedule / SECONDS)} | ${f0(counts.notify / SECONDS)} | ${hotW.where} \`${hotW.pk}\` | ${f0(hotW.wcu / SECONDS)} (${f0(hotW.peakWcu)}) | ${pctOf(hotW.wcu / SECONDS, PARTITION_LIMITS.wcu)} | ${hotR.where} \`${hotR.pk}\` | ${f0(hotR.rcu / SECONDS)} (${f0(hotR.peakRcu)}) | ${pctOf(hotR.rcu / SECONDS, PARTITION_LIMITS.rcu)} | ${binding.p.where} \`${binding.p.pk}\` ${binding.kind}, ${pctOf(binding.mean, binding.limit)} | ${f0(pct(nodeSizes, 50))} / ${f0(max(nodeSizes))} | ${f0(pct(decisionSizes, 50))} / ${f0(max(decisionSizes))} | ${f0(coldRcu)} | ${coldCell} | ${memoryCell} | ${f1(claimMean)} / ${f0(max(claimWcu))} (${f0(claimWcu.length)}) |`,
    ].join('\n');
    const breakdown = [
      '| table / index | WCU/s (rules) | WCU/s (DynamoDB Local reported) | RCU/s (rules) | RCU/s (DynamoDB Local reported) | partition-key values written | hottest partition: WCU/s mean (peak) | hottest: RCU/s mean (peak) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...[...new Set([...totals.keys(), ...reported.keys()])].sort().map((w) => {
        const t = totals.get(w) ?? { wcu: 0, rcu: 0 };
        const r = reported.get(w) ?? { wcu: 0, rcu: 0 };
        const mine = all.filter((p) => p.where === w);
        const hw = mine.reduce((a, b) => (b.wcu > a.wcu ? b : a), mine[0] ?? { wcu: 0, peakWcu: 0, pk: '' });
        const hr = mine.reduce((a, b) => (b.rcu > a.rcu ? b : a), mine[0] ?? { rcu: 0, peakRcu: 0, pk: '' });
        const written = mine.filter((p) => p.wcu > 0).length;
        return `| ${w} | ${f1(t.wcu / SECONDS)} | ${f1(r.wcu / SECONDS)} | ${f1(t.rcu / SECONDS)} | ${f1(r.rcu / SECONDS)} | ${f0(written)} | ${f1(hw.wcu / SECONDS)} (${f0(hw.peakWcu ?? 0)}) | ${f1(hr.rcu / SECONDS)} (${f0(hr.peakRcu ?? 0)}) |`;
      }),
    ].join('\n');
    const command = `npm run bench:fleet -- --hosts ${HOSTS}${LOAD !== 1 ? ` --load ${LOAD}` : ''} --seconds ${SECONDS}`;
    // One row per run (hosts + load) in the table at the top of the section; runs accumulate.
    const overview = upsertTableRow(
      WRITE_DOC ? sectionText(DOC, SECTION) : '',
      [
        'hosts',
        'load',
        'reports/s',
        'schedules/s',
        'notifications/s',
        'hottest write partition',
        '% of 1,000 WCU/s',
        'hottest read partition',
        '% of 3,000 RCU/s',
        'cold start s',
        'fleet memory MB',
        'decision bytes p50 / max',
        'claim WCU mean / max',
        'command',
      ],
      [
        f0(HOSTS),
        `${LOAD}×`,
        f0(counts.report / SECONDS),
        f0(counts.schedule / SECONDS),
        f0(counts.notify / SECONDS),
        `${hotW.where} \`${hotW.pk}\``,
        pctOf(hotW.wcu / SECONDS, PARTITION_LIMITS.wcu),
        `${hotR.where} \`${hotR.pk}\``,
        pctOf(hotR.rcu / SECONDS, PARTITION_LIMITS.rcu),
        coldCell,
        memoryCell,
        `${f0(pct(decisionSizes, 50))} / ${f0(max(decisionSizes))}`,
        `${f1(claimMean)} / ${f0(max(claimWcu))}`,
        `\`${command}\``,
      ],
    );
    const body = [
      `\`${command}\`, ${new Date().toISOString().slice(0, 16)}Z: ${rates} for ${SECONDS} simulated s in ${f1(wallS)} wall s (slowdown ${f1(wallS / SECONDS)}×); ${counts.noValidHost} NoValidHost, ${counts.errors} errors, ${counts.skipped} notifications skipped (nothing to notify yet).`,
      '',
      summary,
      '',
      breakdown,
      ...(firstError.length ? ['', `First errors: ${firstError.map((e) => `\`${e}\``).join('; ')}`] : []),
    ].join('\n');
    console.log(body);
    log(
      `stream records ${feeds.map((f) => f.records).join('/')}, unmatched ${ledger.waiting}, total ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    if (WRITE_DOC) {
      upsertSection(DOC, SECTION, `${FLEET_INTRO}\n\n${overview}`, `${f0(HOSTS)} hosts, load ${LOAD}×`, body);
      log('updated docs/performance.md');
    }
  } finally {
    enableCapacityAccounting(undefined);
    raw.destroy();
    if (dynamo.exitCode === null && dynamo.pid) process.kill(dynamo.pid);
  }
};

const DOC = 'docs/performance.md';
const SECTION = 'Fleet on real DynamoDB limits';
const FLEET_INTRO = `Measured by \`npm run bench:fleet\` (bench/fleet.ts): the real report, schedule and notify handlers,
called in one process with the events serverless-offline would hand them, against DynamoDB Local. Every
host reports every 60 s (÷ load) with ±${JITTER_S} s jitter and again the second after a notification changed
it; schedule requests place one 1-vCPU instance each; notifications alternate create.end of a placed
instance and delete.end of a created one. DynamoDB Local enforces no limit, so each simulated second's
calls run together (${CONCURRENCY} at once) and the next second waits for them: the slowdown is wall
seconds per simulated second, and every figure is per SIMULATED second. One schedule container serves every
request (its fleet copy is read through the change feed on each request; its cold start's read RCU is a
column of its own, outside the window; the container's full rescan is pushed past the window).

The seeded fleet is snapshotted (adapters/dynamodb/fleet-snapshot.ts) as a running deployment's lease holder
keeps it, so cold containers load the snapshot, not the first-deploy scan; the schedule container writes its
own snapshot during the run too, every 60 wall s (its chunks are kept out of the node item sizes and claim
WCU, not out of the partition figures). Cold start s and fleet memory MB are a second, fresh schedule
container's (makeScheduleDeps → CachedFleet, before the window): wall seconds until its fleet is in memory, and heap used after − before (a full GC before
each; node runs with --expose-gc). Claim WCU is each committed node-item write of a schedule request, table +
indexes, by the rules below (from the capacity ledger). The table first has one row per run; each run's
detail follows under its own heading.

Capacity comes from adapters/dynamodb/capacity.ts (fed by capacity-middleware.ts): writes are priced per partition-key value from each
table's stream (NEW_AND_OLD_IMAGES: the item's size before and after, the old and new index keys) with
AWS's rules (adapters/dynamodb/capacity-rules.ts), reads from the request and the items returned. Limits:
1,000 WCU/s and 3,000 RCU/s per partition-key value, table and every index alike (a throttled index
throttles the table's writes). "DynamoDB Local reported" is what it answers to ReturnConsumedCapacity:
INDEXES; it agrees with the rules on plain writes and reads, but reports TransactWriteItems at 4× a plain
write where AWS documents 2×, and reports nothing for a write whose condition failed (the rules charge it
on the item's size, at least 1 WCU). Means are over the window; peaks are the busiest simulated second.`;

await main();
