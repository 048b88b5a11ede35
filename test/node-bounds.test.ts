import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { documentClient } from '../adapters/dynamodb/client';
import { MAX_ANNOUNCED, MAX_TOMBSTONES, type NodeView } from '../core/nodes';
import { TEST_PORTS } from './global-setup';
import { call, report, stack, uniqueHost } from './helpers';

/**
 * Issue 10 item 2: nothing a sender does grows a node's item without bound
 * (CONTRACT.md "Compute nodes"; bounds and policies in docs/accounting.md).
 * Messages go through the real notify function, invoked on serverless-offline's
 * Lambda endpoint with SNS events of 100 records each (the flood is the point,
 * not SNS's delivery speed; each invocation answers when its records are applied).
 */
const db = documentClient('us-east-1', stack().dynamodbUrl);
afterAll(() => db.destroy());

const INVOKE = `http://127.0.0.1:${TEST_PORTS.lambdaPort}/2015-03-31/functions/quartermaster-test-notify/invocations`;

const notification = (host: string, event_type: string, payload: Record<string, unknown>) =>
  JSON.stringify({
    message_id: randomUUID(),
    event_type,
    publisher_id: `compute.${host}`,
    timestamp: new Date().toISOString(),
    priority: 'INFO',
    payload,
  });

/** Invokes notify with `bodies`, 100 records an event, `inFlight` events at a time; fails on a function error. */
const flood = async (bodies: string[], inFlight = 3) => {
  const batches: string[][] = [];
  for (let i = 0; i < bodies.length; i += 100) batches.push(bodies.slice(i, i + 100));
  const worker = async () => {
    for (let b = batches.shift(); b; b = batches.shift()) {
      const event = {
        Records: b.map((Message) => ({
          EventSource: 'aws:sns',
          Sns: { Type: 'Notification', MessageId: randomUUID(), TopicArn: stack().topicArn, Message },
        })),
      };
      const r = await fetch(INVOKE, {
        method: 'POST',
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(110_000),
      });
      const text = await r.text();
      expect(r.headers.get('x-amz-function-error'), text).toBeNull();
      expect(r.status, text).toBe(200);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
};

/** The node item as stored, and its size by DynamoDB's rules (names + values; numbers ≈ 1 byte per 2 digits + 1). */
const rawItem = async (host: string) => {
  const out = await db.send(
    new GetCommand({
      TableName: stack().nodesTable,
      Key: { host },
      ConsistentRead: true,
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  const item = out.Item as Record<string, unknown>;
  const bytes = (v: unknown): number => {
    if (typeof v === 'string') return Buffer.byteLength(v);
    if (typeof v === 'number') return Math.ceil(String(Math.abs(v)).replace('.', '').length / 2) + 1;
    if (typeof v === 'boolean' || v === null || v === undefined) return 1;
    if (Array.isArray(v)) return 3 + v.reduce((s: number, x) => s + 1 + bytes(x), 0);
    if (v instanceof Set) return [...v].reduce((s: number, x) => s + bytes(x), 0);
    return (
      3 + Object.entries(v as Record<string, unknown>).reduce((s, [k, x]) => s + 1 + Buffer.byteLength(k) + bytes(x), 0)
    );
  };
  const size = Object.entries(item).reduce((s, [k, v]) => s + Buffer.byteLength(k) + bytes(v), 0);
  return { item, size, rcu: out.ConsumedCapacity?.CapacityUnits ?? 0 };
};

const scheduleBody = (host: string, dry_run: boolean) => ({
  request_spec: {
    instance_type: { name: 'm1', vcpus: 1, memory_mb: 2048, root_gb: 20, ephemeral_gb: 0, swap: 0 },
    instance_properties: { availability_zone: host },
  },
  dry_run,
});

describe('a node item stays bounded under floods of notifications', () => {
  it(
    'takes 10,000 delete.end for instances it never had, and stays readable, writable and schedulable',
    async () => {
      const host = uniqueHost('flood');
      expect((await report(host, { availability_zone: host, running_vms: 0 })).status).toBe(200);
      const bodies = Array.from({ length: 10_000 }, () =>
        notification(host, 'compute.instance.delete.end', { instance_id: randomUUID() }),
      );
      await flood(bodies);

      const { item, size, rcu } = await rawItem(host);
      console.log(
        `node item after 10,000 delete.end: ${size} bytes (${rcu} RCU read), ${Object.keys(item.gone as object).length} tombstones`,
      );
      expect(Object.keys(item.gone as object)).toHaveLength(MAX_TOMBSTONES);
      expect(size).toBeLessThan(100_000);

      const read = await call<NodeView>('GET', `/nodes/${host}`);
      expect(read.status).toBe(200);
      expect(read.body.running_vms).toBe(0);
      expect(read.body.current_workload).toBe(0);
      expect((await call('PATCH', `/nodes/${host}`, { body: { disabled_reason: 'flooded' } })).status).toBe(200);
      // The flood outlasts service_down_time: the host reports again (writable) before it is scheduled.
      expect((await report(host, { availability_zone: host, seq: 2 })).status).toBe(200);
      // A report keeps the newest tombstones within the window: still bounded.
      expect(Object.keys((await rawItem(host)).item.gone as object).length).toBeLessThanOrEqual(MAX_TOMBSTONES);
      expect((await call('POST', '/schedule', { body: scheduleBody(host, true) })).status).toBe(200);
      const placed = await call<{ selections: { host: string }[] }>('POST', '/schedule', {
        body: scheduleBody(host, false),
      });
      expect(placed.status, JSON.stringify(placed.body)).toBe(200);
      expect(placed.body.selections[0]?.host).toBe(host);
      expect((await call('DELETE', `/nodes/${host}`)).status).toBe(200);
      expect((await report(host, { availability_zone: host, seq: 3 })).status).toBe(200);
    },
    15 * 60_000,
  );

  it(
    `counts at most ${MAX_ANNOUNCED} instances nobody scheduled; the rest wait for the report to measure them`,
    async () => {
      const host = uniqueHost('announce');
      expect(
        (await report(host, { availability_zone: host, memory_mb: 1 << 20, memory_mb_used: 0, running_vms: 0 })).status,
      ).toBe(200);
      const size = { vcpus: 1, memory_mb: 64, disk_gb: 1 };
      await flood(
        Array.from({ length: MAX_ANNOUNCED + 100 }, () =>
          notification(host, 'compute.instance.create.end', { instance_id: randomUUID(), ...size }),
        ),
      );
      const n = (await call<NodeView>('GET', `/nodes/${host}`)).body;
      expect(n.announced).toHaveLength(MAX_ANNOUNCED);
      expect(n.running_vms).toBe(MAX_ANNOUNCED);
      expect(n.free_ram_mb).toBe((1 << 20) - MAX_ANNOUNCED * 64);
      console.log(`node item with ${MAX_ANNOUNCED} announced: ${(await rawItem(host)).size} bytes`);
    },
    10 * 60_000,
  );
});
