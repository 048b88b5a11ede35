/**
 * End-to-end figures over HTTP against DynamoDB Local: POST /schedule latency
 * with 1k and 10k nodes stored, DynamoDB items read per decision, and claims
 * per second with 8 concurrent schedulers beside the raw conditional
 * UpdateItem rate of the same DynamoDB Local, measured in the same run.
 */

import { randomUUID } from 'node:crypto';
import { readConfig } from '../adapters/config';
import { documentClient } from '../adapters/dynamodb/client';
import { DynamoFleetStore } from '../adapters/dynamodb/fleet-store';
import { makeScheduleDeps } from '../adapters/schedule-deps';
import { readSchedulerOptions } from '../adapters/scheduler-config';
import { type ScheduleDeps, scheduleRequest } from '../core/schedule-service';
import { ScheduleRequestSchema } from '../core/scheduler/request';
import { type Stack, startStack } from '../scripts/lib/stack';
import { benchHost, hostReport, seedNodes, spreadUsage } from './lib/bench-nodes';
import { rawUpdateRate } from './lib/raw-update';

export interface LatencyRow {
  nodes: number;
  requests: number;
  p50_ms: number;
  p99_ms: number;
  mean_items_read: number;
  items_read_pct_of_fleet: number;
}

export interface ThroughputRow {
  path: string;
  nodes: number;
  schedulers: number;
  seconds: number;
  claims_per_s: number;
  raw_update_per_s: number;
  ratio: number;
  raw_node_update_per_s: number;
  node_ratio: number;
  over_committed_nodes: number;
  no_valid_host: number;
}

const AZ = 'bench-az';

/** Writes nodes straight into the table, as reports would have left them. */
export const seed = (stack: Stack, from: number, to: number): Promise<void> =>
  seedNodes({
    endpoint: stack.dynamodbUrl,
    table: stack.nodesTable,
    from,
    to,
    reportOf: (i) => hostReport(benchHost('bench', i), AZ, spreadUsage(i)),
  });

const scheduleBody = () => ({
  request_spec: {
    instance_type: { name: 'm1.small', vcpus: 1, memory_mb: 2048, root_gb: 20, ephemeral_gb: 0, swap: 0 },
    instance_properties: { availability_zone: AZ },
  },
});

export const post = async (stack: Stack) => {
  const t0 = performance.now();
  const r = await fetch(`${stack.baseUrl}/schedule`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.operatorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(scheduleBody()),
  });
  const body = (await r.json()) as { stats?: { items_read: number; timings?: Record<string, number> } };
  return { ms: performance.now() - t0, status: r.status, itemsRead: body.stats?.items_read ?? 0, stats: body.stats };
};

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

const latency = async (stack: Stack, nodes: number, requests: number): Promise<LatencyRow> => {
  for (let i = 0; i < 20; i++) await post(stack); // warm: the container's first read is a full scan
  const ms: number[] = [];
  let items = 0;
  for (let i = 0; i < requests; i++) {
    const r = await post(stack);
    if (r.status !== 200) throw new Error(`schedule answered ${r.status}`);
    ms.push(r.ms);
    items += r.itemsRead;
  }
  ms.sort((a, b) => a - b);
  return {
    nodes,
    requests,
    p50_ms: pct(ms, 50),
    p99_ms: pct(ms, 99),
    mean_items_read: items / requests,
    items_read_pct_of_fleet: (100 * items) / requests / nodes,
  };
};

const overCommitted = async (stack: Stack): Promise<number> => {
  const store = new DynamoFleetStore(documentClient('us-east-1', stack.dynamodbUrl), stack.nodesTable);
  let bad = 0;
  for (const n of await store.scan()) {
    const r = n.record;
    const claimed = Object.values(r.claims);
    const ram = r.memory_mb_used + 512 + claimed.reduce((s, c) => s + c.memory_mb, 0);
    const cpu = r.vcpus_used + claimed.reduce((s, c) => s + c.vcpus, 0);
    const disk = r.local_gb_used + claimed.reduce((s, c) => s + c.disk_gb, 0);
    if (ram > r.memory_mb * 1.0 || cpu > r.vcpus * 4.0 || disk > r.local_gb * 1.0) bad++;
  }
  return bad;
};

/** 8 loops for `seconds`, each counting 200s and 409s of `once`. */
const loops = async (
  workers: number,
  seconds: number,
  once: (w: number) => Promise<number | { status: number; message: string }>,
) => {
  const end = Date.now() + seconds * 1000;
  let ok = 0;
  let nvh = 0;
  let firstNvh = '';
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (Date.now() < end) {
        const r = await once(w);
        const status = typeof r === 'number' ? r : r.status;
        if (status === 200) ok++;
        else if (status === 409) {
          nvh++;
          if (!firstNvh && typeof r !== 'number') firstNvh = r.message;
        } else throw new Error(`schedule answered ${status}`);
      }
    }),
  );
  if (firstNvh) console.error(`first 409: ${firstNvh}`);
  return { ok, nvh };
};

/**
 * Claims/s two ways, then the raw ceiling, all in one run: 8 clients of the HTTP
 * API (serverless-offline runs each in a worker of its own, like 8 Lambda
 * containers), and 8 schedulers in this process (the same service and DynamoDB
 * adapters, each with its own fleet cache) — which leaves out serverless-offline's
 * own cost per request.
 */
const throughput = async (stack: Stack, nodes: number, workers: number, seconds: number): Promise<ThroughputRow[]> => {
  for (let w = 0; w < workers; w++) await post(stack);
  await Promise.all(Array.from({ length: workers }, () => post(stack)));
  const http = await loops(workers, seconds, async () => (await post(stack)).status);

  const body = ScheduleRequestSchema.parse(scheduleBody());
  const inProcessRate = async (env: Record<string, string>) => {
    // Seeded nodes never report again: keep them up for the whole run (a minute in, they would be down).
    const all = { QM_SERVICE_DOWN_TIME: '86400', ...env };
    const config = readConfig({ ...process.env, ...stack.env, QM_FLEET_RESCAN_S: '3600', ...all });
    const opts = readSchedulerOptions(all);
    const schedulers = Array.from({ length: workers }, () => makeScheduleDeps(config, opts));
    const run = async (w: number) => {
      try {
        await scheduleRequest(schedulers[w] as ScheduleDeps, body, randomUUID);
        return 200;
      } catch (e) {
        return { status: (e as { status?: number }).status ?? 500, message: (e as Error).message.slice(0, 500) };
      }
    };
    await Promise.all(schedulers.map((_, w) => run(w)));
    return loops(workers, seconds, run);
  };
  const inProcess = await inProcessRate({});
  // Nova's remedy for schedulers herding onto the one best host: pick among the best N.
  const spread = await inProcessRate({ QM_HOST_SUBSET_SIZE: String(workers) });
  // One DynamoDB call fewer per decision: each container reuses its copy for a second (own claims applied).
  const reuse = await inProcessRate({ QM_FLEET_REFRESH_MS: '1000' });
  const reuseSpread = await inProcessRate({ QM_FLEET_REFRESH_MS: '1000', QM_HOST_SUBSET_SIZE: String(workers) });

  // Small items outside the index; then node items (~1 KB, in by_change, whose key attribute moves), as a claim writes.
  const rawOf = (keyOf: (w: number) => string) =>
    rawUpdateRate({ endpoint: stack.dynamodbUrl, table: stack.nodesTable, workers, seconds, keyOf });
  const raw = await rawOf((w) => `#bench-raw-${w}`);
  const rawNode = await rawOf((w) => benchHost('bench', 900 + w));
  const over = await overCommitted(stack);
  return [
    ['HTTP (serverless-offline)', http],
    ['in-process schedulers', inProcess],
    [`in-process, host_subset_size ${workers}`, spread],
    ['in-process, fleet_refresh_ms 1000', reuse],
    [`in-process, fleet_refresh_ms 1000, host_subset_size ${workers}`, reuseSpread],
  ].map(([path, r]) => {
    const { ok, nvh } = r as { ok: number; nvh: number };
    return {
      path: path as string,
      nodes,
      schedulers: workers,
      seconds,
      claims_per_s: ok / seconds,
      raw_update_per_s: raw,
      ratio: ok / seconds / raw,
      raw_node_update_per_s: rawNode,
      node_ratio: ok / seconds / rawNode,
      over_committed_nodes: over,
      no_valid_host: nvh,
    };
  });
};

export const benchEndToEnd = async (
  log: (s: string) => void,
  o = { requests: 200, seconds: 10 },
): Promise<{ latency: LatencyRow[]; throughput: ThroughputRow[] }> => {
  const stack = await startStack({
    stage: 'bench',
    httpPort: 3500,
    snsPort: 4502,
    dynamodbPort: 8500,
    sqsPort: 9824,
    lambdaPort: 3502,
    secret: `bench-${randomUUID()}`,
    buildDir: '.esbuild-bench',
    env: { QM_FLEET_RESCAN_S: '3600', QM_SERVICE_DOWN_TIME: '86400' },
  });
  try {
    log('seeding 1,000 nodes');
    await seed(stack, 0, 1000);
    const lat1k = await latency(stack, 1000, o.requests);
    log(`1k: p50 ${lat1k.p50_ms.toFixed(1)} ms`);
    const tp = await throughput(stack, 1000, 8, o.seconds);
    for (const r of tp)
      log(`1k ${r.path}: ${r.claims_per_s.toFixed(0)} claims/s vs raw ${r.raw_update_per_s.toFixed(0)}/s`);
    log('seeding 9,000 more nodes');
    await seed(stack, 1000, 10_000);
    const lat10k = await latency(stack, 10_000, o.requests);
    log(`10k: p50 ${lat10k.p50_ms.toFixed(1)} ms`);
    return { latency: [lat1k, lat10k], throughput: tp };
  } finally {
    await stack.stop();
  }
};
