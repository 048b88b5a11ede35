import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, SNSEvent } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { documentClient } from '../adapters/dynamodb/client';
import { fromItem } from '../adapters/dynamodb/node-item';
import { MAX_TTL_S, nodeToken, operatorToken } from '../core/auth';
import { type NodeView, toNodeView } from '../core/nodes';
import { createTablesFromServerlessYml } from '../scripts/lib/tables';
import { makeReport, stack } from './helpers';

/**
 * Usage accounting rules 1–5 (CONTRACT.md, docs/accounting.md) under random
 * interleavings of reports, claims, lifecycle events, duplicates, reorderings
 * and claim expiries, through the real report, schedule and notify handlers
 * (imported here, invoked with API Gateway and SNS events) against the stack's
 * DynamoDB Local. The clock is faked (Date only) so expiry costs no waiting.
 *
 * The world: two hosts (8 vCPUs, 8 GiB, 100 GB) per case. An instance the
 * scheduler placed is later created (create.end), fails (create.error) or is
 * never built (its claim expires); a living one may be deleted (delete.end).
 * Messages wait in a queue and are delivered in any order, some twice. A report
 * is the host's truth at that moment. Assumption: a create.end reaches SNS
 * before its claim's `claim_ttl` runs out (the notification pipeline is faster
 * than 10 minutes); a later one could confirm an instance the scheduler had
 * already given the room to, in any design with expiring claims.
 *
 * The hosts also get `capacity.utilization.update` messages with small, large
 * and huge (±2^40) deltas: a new measurement, which the truth does not follow.
 *
 * Checked: after every step every figure a message moves is in [0, 2^40]; no
 * node's ledger exceeds capacity × ratio (rule 5) — on a host a utilization
 * update moved since its last report, checked after each claim landing there
 * (measured + pending fits at that moment; a later raise of the measurement may
 * overfill it, and no claim may land then). Once every message is delivered the
 * ledger equals the instances that really live there (rules 1–4; hosts with a
 * utilization update since their last report excepted), and again after a final
 * report, with nothing left pending. Runs: QM_PROPERTY_RUNS (default 2000, about 5 minutes here); seed: QM_PROPERTY_SEED.
 */

const RUNS = Number(process.env.QM_PROPERTY_RUNS ?? 2000);
const SEED = Number(process.env.QM_PROPERTY_SEED ?? 20261126);
const CLAIM_TTL_S = 600;
const RESERVED_MB = 512;
const CPU_RATIO = 4;
const HOST = { vcpus: 8, memory_mb: 8192, local_gb: 100 };
const FLAVORS = [
  { vcpus: 1, memory_mb: 1024, disk_gb: 10 },
  { vcpus: 2, memory_mb: 2048, disk_gb: 20 },
  { vcpus: 4, memory_mb: 3072, disk_gb: 40 },
];

type Handler<E, R> = (event: E, context: Context) => Promise<R>;
let reportHandler: Handler<APIGatewayProxyEvent, APIGatewayProxyResult>;
let scheduleHandler: Handler<APIGatewayProxyEvent, APIGatewayProxyResult>;
let notifyHandler: Handler<SNSEvent, void>;
const db = documentClient('us-east-1', stack().dynamodbUrl);
let clock = Date.now();
const tick = (ms = 1000) => {
  clock += ms;
  vi.setSystemTime(clock);
};

const context = {
  awsRequestId: 'property',
  functionName: 'property',
  getRemainingTimeInMillis: () => 30_000,
} as Context;
const api = (
  h: Handler<APIGatewayProxyEvent, APIGatewayProxyResult>,
  method: string,
  resource: string,
  path: string,
  token: string,
  body: unknown,
  pathParameters: Record<string, string> | null = null,
) =>
  h(
    {
      httpMethod: method,
      resource,
      path,
      pathParameters,
      queryStringParameters: null,
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEvent,
    context,
  );

// The handlers read their config from process.env at import; the worker's env is restored after.
let savedEnv: NodeJS.ProcessEnv = {};
// Tables of its own: the fake clock runs months ahead, and schedulers on that clock read the
// change feed from their previous refresh on, months past every other test's writes.
const TABLES = {
  NodesTable: 'qm-property-nodes',
  DecisionsTable: 'qm-property-decisions',
  EventsTable: 'qm-property-events',
};

beforeAll(async () => {
  const s = stack();
  await createTablesFromServerlessYml(s.dynamodbUrl, TABLES);
  savedEnv = { ...process.env };
  Object.assign(process.env, {
    QM_NODES_TABLE: TABLES.NodesTable,
    QM_DECISIONS_TABLE: TABLES.DecisionsTable,
    QM_EVENTS_TABLE: TABLES.EventsTable,
    QM_DYNAMODB_ENDPOINT: s.dynamodbUrl,
    QM_SECRET: s.secret,
    QM_DLQ_URL: s.dlqUrl,
    QM_SQS_ENDPOINT: s.sqsUrl,
    QM_CLAIM_TTL: String(CLAIM_TTL_S),
    // Cases jump the clock by claim_ttl: a time-based full rescan would re-read the whole table each time.
    QM_FLEET_RESCAN_S: String(10 ** 9),
    // And each jump would write a fleet snapshot (every 60 s of clock): not what this test is about.
    QM_SNAPSHOT_EVERY_S: '0',
    // One change-feed shard: every refresh is one query instead of 16 (the sharding is tested in
    // fleet-cache and feed-convergence; here it only doubled the test's 5 minutes).
    QM_CHANGE_SHARDS: '1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    // Thousands of in-process invocations: their EMF lines are not what this test reads.
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(clock);
  reportHandler = (await import('../functions/report/handler')).handler as never;
  scheduleHandler = (await import('../functions/schedule/handler')).handler as never;
  notifyHandler = (await import('../functions/notify/handler')).handler as never;
});
afterAll(() => {
  process.env = savedEnv;
  vi.useRealTimers();
  db.destroy();
});

type Inst = {
  uuid: string;
  host: string;
  size: (typeof FLAVORS)[number];
  state: 'pending' | 'living' | 'dead';
  expiresAt: number;
};

const Step = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('schedule' as const), flavor: fc.nat(FLAVORS.length - 1) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('create' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('fail' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('deliver' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('duplicate' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('report' as const), host: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('expire' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('utilization' as const),
      host: fc.nat(1),
      deltas: fc.array(
        fc.oneof(
          fc.integer({ min: -3000, max: 3000 }),
          fc.constantFrom(100_000, -100_000, 2 ** 40, -(2 ** 40)),
          fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        ),
        { minLength: 4, maxLength: 4 },
      ),
    }),
  },
);
type StepT = typeof Step extends fc.Arbitrary<infer T> ? T : never;

let caseNo = 0;

const runCase = async (steps: StepT[], finish: boolean[], order: number[]) => {
  const tag = `pp${process.pid}-${caseNo++}`;
  const hosts = [`${tag}-a`, `${tag}-b`];
  const seq = new Map(hosts.map((h) => [h, 0]));
  const insts: Inst[] = [];
  const queue: string[] = [];
  const delivered: string[] = [];
  /** Hosts a utilization update moved since their last report: their measurement is no longer the truth. */
  const moved = new Set<string>();
  // The fake clock jumps ahead within a case: a token as long-lived as any may be.
  const op = operatorToken(stack().secret, { nowMs: Date.now(), ttlS: MAX_TTL_S });

  const living = (h: string) => insts.filter((i) => i.host === h && i.state === 'living');
  const report = async (h: string) => {
    const on = living(h);
    const sum = (k: 'vcpus' | 'memory_mb' | 'disk_gb') => on.reduce((s, i) => s + i.size[k], 0);
    seq.set(h, (seq.get(h) ?? 0) + 1);
    const body = makeReport(h, {
      ...HOST,
      vcpus_used: sum('vcpus'),
      memory_mb_used: sum('memory_mb'),
      local_gb_used: sum('disk_gb'),
      disk_available_least: HOST.local_gb - sum('disk_gb'),
      running_vms: on.length,
      current_workload: 0,
      instances: on.map((i) => ({ uuid: i.uuid, ...i.size })),
      availability_zone: tag,
      seq: seq.get(h) ?? 1,
      reported_at: new Date(clock).toISOString(),
    });
    const nodeAuth = nodeToken(stack().secret, h, { nowMs: Date.now() });
    const r = await api(reportHandler, 'PUT', '/nodes/{host}', `/nodes/${h}`, nodeAuth, body, {
      host: h,
    });
    expect(r.statusCode, r.body).toBe(200);
    moved.delete(h);
  };
  const message = (i: Inst, event_type: string) =>
    JSON.stringify({
      message_id: randomUUID(),
      event_type,
      publisher_id: `compute.${i.host}`,
      timestamp: new Date(clock).toISOString(),
      priority: 'INFO',
      payload: { instance_id: i.uuid, ...i.size },
    });
  const deliver = async (body: string) => {
    if (body.includes('"capacity.utilization.update"'))
      moved.add(JSON.parse(body).publisher_id.slice('compute.'.length));
    await notifyHandler(
      { Records: [{ Sns: { Message: body, MessageId: randomUUID() } }] } as unknown as SNSEvent,
      context,
    );
    delivered.push(body);
  };
  const views = async (): Promise<NodeView[]> =>
    Promise.all(
      hosts.map(async (h) => {
        const out = await db.send(
          new GetCommand({ TableName: TABLES.NodesTable, Key: { host: h }, ConsistentRead: true }),
        );
        return toNodeView(fromItem(out.Item as Record<string, unknown>).record, clock, 60);
      }),
    );
  /** Rule 5: the ledger (measured + pending) within capacity × ratio, reserved memory included. */
  const withinCapacity = async (when: string, landed?: string) => {
    for (const v of await views()) {
      for (const f of ['memory_mb_used', 'local_gb_used', 'running_vms', 'current_workload'] as const) {
        expect(v[f], `${when}: ${v.host} ${f}`).toBeGreaterThanOrEqual(0);
        expect(v[f], `${when}: ${v.host} ${f}`).toBeLessThanOrEqual(2 ** 40);
      }
      if (moved.has(v.host) && v.host !== landed) continue;
      const claimedVcpus = v.claims.reduce((s, c) => s + c.vcpus, 0);
      const announcedVcpus = v.announced.reduce((s, c) => s + c.vcpus, 0);
      const releasedVcpus = v.released.reduce((s, c) => s + c.vcpus, 0);
      const ctx = `${when}: ${v.host} ${JSON.stringify({ free_ram_mb: v.free_ram_mb, free_disk_gb: v.free_disk_gb, claims: v.claims.length })}`;
      expect(v.memory_mb - v.free_ram_mb + RESERVED_MB, ctx).toBeLessThanOrEqual(v.memory_mb);
      expect(v.local_gb - v.free_disk_gb, ctx).toBeLessThanOrEqual(v.local_gb);
      expect(v.vcpus_used + claimedVcpus + announcedVcpus - releasedVcpus, ctx).toBeLessThanOrEqual(
        v.vcpus * CPU_RATIO,
      );
    }
  };
  /** Rules 1–4: the ledger equals the instances that live there. */
  const matchesTruth = async (when: string) => {
    for (const v of await views()) {
      if (moved.has(v.host)) continue;
      const on = living(v.host);
      const mem = on.reduce((s, i) => s + i.size.memory_mb, 0);
      const disk = on.reduce((s, i) => s + i.size.disk_gb, 0);
      const ctx = `${when}: ${v.host} living ${on.map((i) => i.uuid.slice(0, 8))} ${JSON.stringify({ claims: v.claims, announced: v.announced, released: v.released, used: v.memory_mb_used, running_vms: v.running_vms })}`;
      expect(v.free_ram_mb, ctx).toBe(v.memory_mb - mem);
      expect(v.free_disk_gb, ctx).toBe(v.local_gb - disk);
      expect(v.running_vms, ctx).toBe(on.length);
    }
  };
  const pick = <T>(xs: T[], n: number): T | undefined => (xs.length ? xs[n % xs.length] : undefined);

  for (const h of hosts) await report(h);
  for (const s of steps) {
    tick();
    let landed: string | undefined;
    switch (s.t) {
      case 'schedule': {
        const size = FLAVORS[s.flavor] as Inst['size'];
        const r = await api(scheduleHandler, 'POST', '/schedule', '/schedule', op, {
          request_spec: {
            instance_type: {
              name: 'f',
              vcpus: size.vcpus,
              memory_mb: size.memory_mb,
              root_gb: size.disk_gb,
              ephemeral_gb: 0,
              swap: 0,
            },
            instance_properties: { availability_zone: tag },
          },
        });
        expect([200, 409], r.body).toContain(r.statusCode);
        if (r.statusCode === 200) {
          const out = JSON.parse(r.body) as {
            selections: { instance_uuid: string; host: string }[];
            claims: { instance_uuid: string; expires_at: string }[];
          };
          const [c, sel] = [out.claims[0], out.selections[0]];
          if (!c || !sel) throw new Error('a 200 without a claim');
          landed = sel.host;
          insts.push({
            uuid: c.instance_uuid,
            host: sel.host,
            size,
            state: 'pending',
            expiresAt: Date.parse(c.expires_at),
          });
        }
        break;
      }
      case 'create':
      case 'fail': {
        const i = pick(
          insts.filter((x) => x.state === 'pending'),
          s.pick,
        );
        if (!i) break;
        i.state = s.t === 'create' ? 'living' : 'dead';
        queue.push(message(i, s.t === 'create' ? 'compute.instance.create.end' : 'compute.instance.create.error'));
        break;
      }
      case 'delete': {
        const i = pick(
          insts.filter((x) => x.state === 'living'),
          s.pick,
        );
        if (!i) break;
        i.state = 'dead';
        queue.push(message(i, 'compute.instance.delete.end'));
        break;
      }
      case 'deliver': {
        if (!queue.length) break;
        const [body] = queue.splice(s.pick % queue.length, 1);
        await deliver(body as string);
        break;
      }
      case 'duplicate': {
        const body = pick(delivered, s.pick);
        if (body) await deliver(body);
        break;
      }
      case 'report':
        await report(hosts[s.host] as string);
        break;
      case 'expire':
        // The pipeline assumption: create.end messages reach notify before their claims run out.
        for (let k = queue.length - 1; k >= 0; k--) {
          if ((queue[k] as string).includes('create.end')) await deliver(queue.splice(k, 1)[0] as string);
        }
        tick(CLAIM_TTL_S * 1000 + 1000);
        // Builds not started by now are abandoned: nothing will ever confirm their claims.
        for (const i of insts) if (i.state === 'pending' && i.expiresAt <= clock) i.state = 'dead';
        break;
      case 'utilization': {
        const [free_ram_mb_delta, free_disk_gb_delta, work_delta, vm_delta] = s.deltas;
        const h = hosts[s.host] as string;
        await deliver(
          JSON.stringify({
            message_id: randomUUID(),
            event_type: 'capacity.utilization.update',
            publisher_id: `compute.${h}`,
            timestamp: new Date(clock).toISOString(),
            priority: 'INFO',
            payload: { free_ram_mb_delta, free_disk_gb_delta, work_delta, vm_delta },
          }),
        );
        break;
      }
    }
    await withinCapacity(`after ${s.t}`, landed);
  }

  // Quiescence: every build finishes one way or the other, every message arrives (in a random order, some twice).
  insts
    .filter((i) => i.state === 'pending')
    .forEach((i, k) => {
      i.state = finish[k % Math.max(1, finish.length)] ? 'living' : 'dead';
      queue.push(message(i, i.state === 'living' ? 'compute.instance.create.end' : 'compute.instance.create.error'));
    });
  const dupes = delivered.filter((_, k) => (order[k % Math.max(1, order.length)] ?? 0) % 4 === 0);
  queue.push(...dupes);
  while (queue.length) {
    tick(10);
    const [body] = queue.splice((order[queue.length % Math.max(1, order.length)] ?? 0) % queue.length, 1);
    await deliver(body as string);
  }
  await matchesTruth('all messages delivered');
  for (const h of hosts) await report(h);
  await matchesTruth('after a final report');
  for (const v of await views()) {
    expect(v.claims, v.host).toEqual([]);
    expect(v.announced, v.host).toEqual([]);
    expect(v.released, v.host).toEqual([]);
  }
};

describe('usage accounting under random interleavings (property, real handlers, DynamoDB Local)', () => {
  it(
    `holds rules 1–5 in ${RUNS} cases (seed ${SEED})`,
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(Step, { minLength: 4, maxLength: 24 }),
          fc.array(fc.boolean(), { maxLength: 8 }),
          fc.array(fc.nat(), { maxLength: 16 }),
          runCase,
        ),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    },
    30 * 60_000,
  );
});
