import { randomUUID } from 'node:crypto';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { documentClient } from '../adapters/dynamodb/client';
import { DynamoEventStore } from '../adapters/dynamodb/event-store';
import { SqsDeadLetters } from '../adapters/sqs/dead-letters';
import { parseNotification } from '../core/events';
import type { NodeView } from '../core/nodes';
import { call, report, stack, uniqueHost } from './helpers';

const creds = { accessKeyId: 'local', secretAccessKey: 'local' };
const sns = new SNSClient({ endpoint: stack().snsUrl, region: 'us-east-1', credentials: creds });
const db = documentClient('us-east-1', stack().dynamodbUrl);
afterAll(() => {
  sns.destroy();
  db.destroy();
});

type Payload = Record<string, unknown>;
const notification = (host: string, event_type: string, payload: Payload, message_id: string = randomUUID()) =>
  JSON.stringify({
    message_id,
    event_type,
    publisher_id: `compute.${host}`,
    timestamp: new Date().toISOString(),
    priority: 'INFO',
    payload,
  });

const publish = (body: string) => sns.send(new PublishCommand({ TopicArn: stack().topicArn, Message: body }));

/**
 * Publishes and waits until notify has applied it (its idempotency record exists):
 * the local SNS delivers concurrently, so a test that needs an order waits for each message.
 */
const publishApplied = async (body: string) => {
  await publish(body);
  const id = JSON.parse(body).message_id as string;
  for (let i = 0; i < 100; i++) {
    const out = await db.send(new GetCommand({ TableName: stack().eventsTable, Key: { id }, ConsistentRead: true }));
    if (out.Item) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`message ${id} was never applied`);
};
const node = async (host: string) => (await call<NodeView>('GET', `/nodes/${host}`)).body;
const sized = (uuid: string, memory_mb = 2048) => ({ instance_id: uuid, vcpus: 1, memory_mb, disk_gb: 20 });

/** Polls GET /nodes/{host} until `ok` holds (SNS delivery is asynchronous), and returns the node. */
const until = async (host: string, ok: (n: NodeView) => boolean, what: string): Promise<NodeView> => {
  for (let i = 0; i < 100; i++) {
    const n = await node(host);
    if (ok(n)) return n;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${host}: ${what} never became true; last ${JSON.stringify(await node(host))}`);
};

/** A host of its own, in a zone of its own, so a schedule call can only land on it. */
const freshHost = async (over: Parameters<typeof report>[1] = {}) => {
  const host = uniqueHost('nt');
  expect((await report(host, { availability_zone: host, ...over })).status).toBe(200);
  return host;
};

const deadLetters = new SqsDeadLetters('us-east-1', stack().dlqUrl, stack().sqsUrl);
const parked = async (body: string) => {
  for (let i = 0; i < 60; i++) {
    const found = (await deadLetters.list()).find((m) => m.body === body);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
};

describe('notify over the local SNS endpoint', () => {
  it('create.end confirms a claim: it stops expiring, running_vms + 1, and a duplicate changes nothing', async () => {
    const host = await freshHost();
    const s = await call<{ claims: { instance_uuid: string }[] }>('POST', '/schedule', {
      body: {
        request_spec: {
          instance_type: { name: 'm1', vcpus: 1, memory_mb: 2048, root_gb: 20, ephemeral_gb: 0, swap: 0 },
          instance_properties: { availability_zone: host },
        },
      },
    });
    expect(s.status).toBe(200);
    const uuid = s.body.claims[0]?.instance_uuid as string;
    const before = await node(host);
    const msg = notification(host, 'compute.instance.create.end', sized(uuid));
    await publishApplied(msg);
    const after = await node(host);
    expect(after.running_vms).toBe(before.running_vms + 1);
    expect(after.claims[0]?.confirmed_at).toBeDefined();
    expect(after.free_ram_mb).toBe(before.free_ram_mb);
    // The duplicate, then a marker; the duplicate's delivery may land after the marker, so wait a little more.
    await publish(msg);
    await publishApplied(notification(host, 'compute.instance.update.start', {}));
    await new Promise((r) => setTimeout(r, 500));
    const settled = await node(host);
    expect(settled.current_workload).toBe(1);
    expect(settled.running_vms).toBe(before.running_vms + 1);
    expect(settled.free_ram_mb).toBe(before.free_ram_mb);
  });

  it('create.end of an instance nobody scheduled counts it until a report lists it, then once (rule 3)', async () => {
    const host = await freshHost({ memory_mb_used: 8192, running_vms: 0 });
    const uuid = randomUUID();
    const before = await node(host);
    await publish(notification(host, 'compute.instance.create.end', sized(uuid, 4096)));
    const counted = await until(host, (n) => n.announced.length === 1, 'announced');
    expect(counted.free_ram_mb).toBe(before.free_ram_mb - 4096);
    expect(counted.running_vms).toBe(1);
    const r = await report(host, {
      availability_zone: host,
      seq: 2,
      memory_mb_used: 8192 + 4096,
      running_vms: 1,
      instances: [{ uuid, vcpus: 1, memory_mb: 4096, disk_gb: 20 }],
    });
    expect(r.status).toBe(200);
    const absorbed = await node(host);
    expect(absorbed.announced).toEqual([]);
    expect(absorbed.free_ram_mb).toBe(before.free_ram_mb - 4096);
    expect(absorbed.drift).toEqual([]);
  });

  it('records an instance a report lists that nobody scheduled or announced as drift, in numbers', async () => {
    const host = await freshHost();
    const stray = randomUUID();
    const r = await report(host, {
      availability_zone: host,
      seq: 2,
      running_vms: 1,
      instances: [{ uuid: stray, vcpus: 2, memory_mb: 1536, disk_gb: 15 }],
    });
    expect(r.status).toBe(200);
    const n = await node(host);
    expect(n.drift).toMatchObject([
      { kind: 'unknown_instance', instance_uuid: stray, vcpus: 2, memory_mb: 1536, disk_gb: 15 },
    ]);
    expect(Date.parse(n.drift[0]?.since ?? '')).toBeGreaterThan(Date.now() - 60_000);
  });

  it('delete.end of a reported instance releases it until a report omits it; a late create.end changes nothing', async () => {
    const uuid = randomUUID();
    const host = await freshHost({
      memory_mb_used: 8192,
      running_vms: 1,
      instances: [{ uuid, vcpus: 2, memory_mb: 4096, disk_gb: 40 }],
    });
    const before = await node(host);
    await publishApplied(notification(host, 'compute.instance.delete.end', sized(uuid, 4096)));
    const released = await node(host);
    expect(released.released.map((r) => r.instance_uuid)).toEqual([uuid]);
    expect(released.free_ram_mb).toBe(before.free_ram_mb + 4096);
    expect(released.free_disk_gb).toBe(before.free_disk_gb + 40);
    expect(released.running_vms).toBe(0);
    // Reordered: the create.end of the deleted instance arrives last.
    await publishApplied(notification(host, 'compute.instance.create.end', sized(uuid, 4096)));
    const late = await node(host);
    expect(late.free_ram_mb).toBe(before.free_ram_mb + 4096);
    expect(late.announced).toEqual([]);
    const r = await report(host, {
      availability_zone: host,
      seq: 2,
      memory_mb_used: 4096,
      running_vms: 0,
      instances: [],
    });
    expect(r.status).toBe(200);
    const after = await node(host);
    expect(after.released).toEqual([]);
    expect(after.free_ram_mb).toBe(before.free_ram_mb + 4096);
  });

  it('X.start / X.end move current_workload, never below 0; capacity.utilization.update applies raw deltas', async () => {
    const host = await freshHost({ current_workload: 0, memory_mb_used: 8192, local_gb_used: 100, running_vms: 2 });
    await publishApplied(notification(host, 'compute.instance.resize.end', {}));
    expect((await node(host)).current_workload).toBe(0);
    await publishApplied(notification(host, 'compute.instance.rebuild.start', {}));
    expect((await node(host)).current_workload).toBe(1);
    await publishApplied(
      notification(host, 'capacity.utilization.update', {
        free_ram_mb_delta: -1024,
        free_disk_gb_delta: 10,
        work_delta: -5,
        vm_delta: 1,
      }),
    );
    const n = await node(host);
    expect(n.memory_mb_used).toBe(9216);
    expect(n.local_gb_used).toBe(90);
    expect(n.running_vms).toBe(3);
    expect(n.current_workload).toBe(0);
  });

  it('capacity.utilization.update never drives a measured figure below 0, so rule 5 holds after it', async () => {
    const host = await freshHost({
      memory_mb: 8192,
      memory_mb_used: 0,
      local_gb_used: 10,
      running_vms: 2,
      current_workload: 1,
      instances: [],
    });
    expect(
      (await call('PATCH', `/nodes/${host}`, { body: { metadata: { ram_allocation_ratio: '1.0' } } })).status,
    ).toBe(200);
    await publishApplied(
      notification(host, 'capacity.utilization.update', {
        free_ram_mb_delta: 100_000,
        free_disk_gb_delta: 500,
        work_delta: -7,
        vm_delta: -4,
      }),
    );
    const n = await node(host);
    expect([n.memory_mb_used, n.local_gb_used, n.running_vms, n.current_workload]).toEqual([0, 0, 0, 0]);
    // 8192 MB × 1.0 − 512 reserved = 7680 MB: one 4000 MB placement fits, not 13.
    const placed = [];
    for (let i = 0; i < 13; i++) {
      const s = await call('POST', '/schedule', {
        body: {
          request_spec: {
            instance_type: { name: 'big', vcpus: 1, memory_mb: 4000, root_gb: 1, ephemeral_gb: 0, swap: 0 },
            instance_properties: { availability_zone: host },
          },
        },
      });
      expect([200, 409]).toContain(s.status);
      if (s.status === 200) placed.push(s);
    }
    expect(placed).toHaveLength(1);
    expect((await node(host)).free_ram_mb).toBe(8192 - 4000);
  });

  it('keeps figures moved by huge deltas within [0, 2^40], and the node readable', async () => {
    const host = await freshHost({ memory_mb_used: 8192, local_gb_used: 100, running_vms: 1 });
    const up = {
      free_ram_mb_delta: -(2 ** 40),
      free_disk_gb_delta: -(2 ** 40),
      work_delta: 2 ** 40,
      vm_delta: 2 ** 40,
    };
    const uuid = randomUUID();
    await publishApplied(notification(host, 'compute.instance.create.end', sized(uuid)));
    for (let i = 0; i < 3; i++) await publishApplied(notification(host, 'capacity.utilization.update', up));
    const n = await node(host);
    expect([n.memory_mb_used, n.local_gb_used, n.running_vms, n.current_workload]).toEqual(Array(4).fill(2 ** 40));
    // Down to 0, where the release of the announced instance leaves running_vms (it does not go to −1).
    const down = {
      free_ram_mb_delta: 2 ** 40,
      free_disk_gb_delta: 2 ** 40,
      work_delta: -(2 ** 40),
      vm_delta: -(2 ** 40),
    };
    for (let i = 0; i < 2; i++) await publishApplied(notification(host, 'capacity.utilization.update', down));
    await publishApplied(notification(host, 'compute.instance.delete.end', { instance_id: uuid }));
    const m = await node(host);
    expect([m.memory_mb_used, m.local_gb_used, m.running_vms, m.current_workload]).toEqual([0, 0, 0, 0]);
  });

  it('keeps what cannot be applied in the dead-letter queue with the reason, and goes on', async () => {
    const host = await freshHost({ current_workload: 0 });
    const bad = [
      ['not json {', /^UnparseableMessage/],
      [notification(host, 'compute.instance.frobnicate', {}), /^UnknownEventType/],
      [notification(host, 'compute.instance.create.end', { instance_id: randomUUID(), vcpus: 1 }), /memory_mb/],
      [notification(uniqueHost('ghost'), 'compute.instance.delete.start', {}), /^UnknownHost/],
    ] as const;
    for (const [body] of bad) await publish(body);
    await publish(notification(host, 'compute.instance.snapshot.start', {}));
    await until(host, (n) => n.current_workload === 1, 'the good message after the bad ones');
    for (const [body, reason] of bad) {
      const m = await parked(body);
      expect(m?.reason, body).toMatch(reason);
    }
  });

  it('applies two copies of one message processed at the same moment once', async () => {
    const host = await freshHost({ running_vms: 0 });
    const store = new DynamoEventStore(db, stack().nodesTable, stack().eventsTable, 7200);
    const e = parseNotification(notification(host, 'compute.instance.create.end', sized(randomUUID())));
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => store.apply(e)));
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(5);
    expect((await node(host)).running_vms).toBe(1);
  });
});
