/**
 * `npx tsx bench/claims.ts [seconds] [nodes]`: 8 in-process schedulers claiming on `nodes` (1,000) seeded
 * nodes, then the raw conditional UpdateItem rate, alternating in one process against one DynamoDB Local
 * (no serverless-offline): the claim path's own cost, and the figure a CPU profile is taken on
 * (`node --cpu-prof --import tsx bench/claims.ts`). Ports move by QM_TEST_PORT_OFFSET.
 */
import { randomUUID } from 'node:crypto';
import { readConfig } from '../adapters/config';
import { documentClient } from '../adapters/dynamodb/client';
import { DynamoFleetStore } from '../adapters/dynamodb/fleet-store';
import { makeScheduleDeps } from '../adapters/schedule-deps';
import { readSchedulerOptions } from '../adapters/scheduler-config';
import { type ScheduleDeps, scheduleRequest } from '../core/schedule-service';
import { ScheduleRequestSchema } from '../core/scheduler/request';
import { startDynamoDbLocal } from '../scripts/lib/dynamodb-local';
import { stopChild } from '../scripts/lib/stack';
import { createTablesFromServerlessYml } from '../scripts/lib/tables';
import { benchHost, hostReport, seedNodes, spreadUsage } from './lib/bench-nodes';
import { rawUpdateRate } from './lib/raw-update';

const seconds = Number(process.argv[2] ?? 10);
const nodes = Number(process.argv[3] ?? 1000);
const workers = 8;
const port = 8600 + Number(process.env.QM_TEST_PORT_OFFSET ?? 0);
const url = `http://127.0.0.1:${port}`;
const tables = { NodesTable: 'qm-cb-nodes', DecisionsTable: 'qm-cb-decisions', EventsTable: 'qm-cb-events' };
const AZ = 'bench-az';

const java = await startDynamoDbLocal(port);
try {
  await createTablesFromServerlessYml(url, tables);
  await seedNodes({
    endpoint: url,
    table: tables.NodesTable,
    from: 0,
    to: nodes,
    reportOf: (i) => hostReport(benchHost('bench', i), AZ, spreadUsage(i)),
  });
  const db = documentClient('us-east-1', url);
  const env = {
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    QM_REGION: 'us-east-1',
    QM_NODES_TABLE: tables.NodesTable,
    QM_DECISIONS_TABLE: tables.DecisionsTable,
    QM_EVENTS_TABLE: tables.EventsTable,
    QM_DYNAMODB_ENDPOINT: url,
    QM_SECRET: 'bench-secret-bench-secret-bench-secret',
    QM_FLEET_RESCAN_S: '3600',
    QM_SERVICE_DOWN_TIME: '86400',
  };
  Object.assign(process.env, env);
  const body = ScheduleRequestSchema.parse({
    request_spec: {
      instance_type: { name: 'm1.small', vcpus: 1, memory_mb: 2048, root_gb: 20, ephemeral_gb: 0, swap: 0 },
      instance_properties: { availability_zone: AZ },
    },
  });
  const claimRate = async (): Promise<{
    perS: number;
    nvh: number;
    cpuMsPerClaim: number;
    phases: Record<string, number>;
  }> => {
    const config = readConfig({ ...process.env, ...env });
    const opts = readSchedulerOptions(env);
    const deps = Array.from({ length: workers }, () => makeScheduleDeps(config, opts));
    await Promise.all(deps.map((d) => scheduleRequest(d as ScheduleDeps, body, randomUUID)));
    const end = Date.now() + seconds * 1000;
    let ok = 0;
    let nvh = 0;
    // Wall ms per phase of a claim (the request's own stats.timings), summed over the claims.
    const phases: Record<string, number> = {};
    const cpu0 = process.cpuUsage();
    await Promise.all(
      deps.map(async (d) => {
        while (Date.now() < end) {
          try {
            const r = await scheduleRequest(d, body, randomUUID);
            for (const [k, v] of Object.entries(r.stats.timings)) phases[k] = (phases[k] ?? 0) + v;
            ok++;
          } catch (e) {
            if ((e as { status?: number }).status === 409) nvh++;
            else throw e;
          }
        }
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    for (const k of Object.keys(phases)) phases[k] = (phases[k] as number) / Math.max(ok, 1);
    return { perS: ok / seconds, nvh, cpuMsPerClaim: (cpu.user + cpu.system) / 1000 / Math.max(ok, 1), phases };
  };
  const rawRate = () =>
    rawUpdateRate({ endpoint: url, table: tables.NodesTable, workers, seconds, keyOf: (w) => `#bench-raw-${w}` });
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  for (let round = 0; round < rounds; round++) {
    const c = await claimRate();
    const raw = process.env.BENCH_RAW === '0' ? 1 : await rawRate();
    console.log(
      `round ${round}: claims/s ${c.perS.toFixed(0)} (409: ${c.nvh}), raw UpdateItem/s ${raw.toFixed(0)}, ratio ${((100 * c.perS) / raw).toFixed(0)} %, Node CPU ${c.cpuMsPerClaim.toFixed(2)} ms/claim; wall ms per claim: ${Object.entries(
        c.phases,
      )
        .map(([k, v]) => `${k.replace(/_ms$/, '')} ${v.toFixed(2)}`)
        .join(', ')}`,
    );
  }
  let bad = 0;
  for (const n of await new DynamoFleetStore(db, tables.NodesTable).scan()) {
    const r = n.record;
    const claimed = Object.values(r.claims);
    const sum = (k: 'vcpus' | 'memory_mb' | 'disk_gb') => claimed.reduce((s, c) => s + c[k], 0);
    if (
      r.memory_mb_used + 512 + sum('memory_mb') > r.memory_mb ||
      r.vcpus_used + sum('vcpus') > r.vcpus * 4 ||
      r.local_gb_used + sum('disk_gb') > r.local_gb
    )
      bad++;
  }
  console.log(`over-committed nodes: ${bad}`);
  db.destroy();
} finally {
  await stopChild(java);
}
