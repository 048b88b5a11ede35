import { randomUUID } from 'node:crypto';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { documentClient } from '../adapters/dynamodb/client';
import type { NodeView } from '../core/nodes';
import { call, report, stack, uniqueHost } from './helpers';
import { type NovaSample, onTheWire, samples } from './nova-samples';

/**
 * Issue 10 item 15: real Nova feeds the topic unchanged. Nova's own samples
 * (test/fixtures/nova), legacy and versioned, bare and in the oslo.messaging v2
 * envelope, published to the local SNS endpoint; the node's figures are read back.
 */
const creds = { accessKeyId: 'local', secretAccessKey: 'local' };
const sns = new SNSClient({ endpoint: stack().snsUrl, region: 'us-east-1', credentials: creds });
const db = documentClient('us-east-1', stack().dynamodbUrl);
afterAll(() => {
  sns.destroy();
  db.destroy();
});

const versioned = samples('versioned');
const legacy = samples('legacy');

/** Publishes a sample moved to `host` / `uuid` and waits until notify has applied it (its idempotency record). */
const send = async (s: NovaSample | undefined, host: string, o: { uuid?: string; envelope?: boolean } = {}) => {
  if (!s) throw new Error('no such sample');
  const message_id = randomUUID();
  await sns.send(new PublishCommand({ TopicArn: stack().topicArn, Message: onTheWire(s, { host, message_id, ...o }) }));
  for (let i = 0; i < 100; i++) {
    const out = await db.send(
      new GetCommand({ TableName: stack().eventsTable, Key: { id: message_id }, ConsistentRead: true }),
    );
    if (out.Item) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${s.event_type} (${message_id}) was never applied`);
};
const node = async (host: string) => (await call<NodeView>('GET', `/nodes/${host}`)).body;

const freshHost = async () => {
  const host = uniqueHost('nova');
  expect((await report(host, { availability_zone: host, memory_mb_used: 8192, running_vms: 0 })).status).toBe(200);
  return host;
};

// Every sample's flavor: test_flavor, 1 vCPU, 512 MB, root 1 GB.
describe("Nova's own notifications over the local SNS endpoint", () => {
  it.each([false, true])(
    'versioned (envelope %s): a claimed create keeps its claim sizes, an unclaimed one counts its flavor, operations move the workload',
    async (envelope) => {
      const host = await freshHost();
      const s = await call<{ claims: { instance_uuid: string }[] }>('POST', '/schedule', {
        body: {
          request_spec: {
            instance_type: { name: 'm1', vcpus: 2, memory_mb: 2048, root_gb: 20, ephemeral_gb: 0, swap: 0 },
            instance_properties: { availability_zone: host },
          },
        },
      });
      expect(s.status).toBe(200);
      const claimed = s.body.claims[0]?.instance_uuid as string;
      const start = await node(host);

      await send(versioned['instance-create-start'], host, { uuid: claimed, envelope });
      expect((await node(host)).current_workload).toBe(1);
      await send(versioned['instance-create-end'], host, { uuid: claimed, envelope });
      const confirmed = await node(host);
      expect(confirmed.claims[0]?.confirmed_at).toBeDefined();
      expect(confirmed.claims[0]?.memory_mb).toBe(2048);
      expect([confirmed.running_vms, confirmed.current_workload, confirmed.free_ram_mb]).toEqual([
        1,
        0,
        start.free_ram_mb,
      ]);

      const stray = randomUUID();
      await send(versioned['instance-create-end'], host, { uuid: stray, envelope });
      const announced = await node(host);
      expect(announced.announced).toMatchObject([{ instance_uuid: stray, vcpus: 1, memory_mb: 512, disk_gb: 1 }]);
      expect([announced.running_vms, announced.free_ram_mb, announced.free_disk_gb]).toEqual([
        2,
        start.free_ram_mb - 512,
        start.free_disk_gb - 1,
      ]);

      for (const op of ['power_off', 'power_on', 'reboot', 'resize']) {
        await send(versioned[`instance-${op}-start`], host, { uuid: stray, envelope });
        expect((await node(host)).current_workload, `${op}.start`).toBe(1);
        await send(versioned[`instance-${op}-${op === 'reboot' ? 'error' : 'end'}`], host, { uuid: stray, envelope });
        expect((await node(host)).current_workload, `${op} done`).toBe(0);
      }

      // nova-api deletes the instance of a host it thinks is down: the payload's host names the node.
      await send(versioned['instance-delete-end_compute_down'], host, { uuid: stray, envelope });
      await send(versioned['instance-delete-end'], host, { uuid: claimed, envelope });
      const deleted = await node(host);
      expect([deleted.running_vms, deleted.free_ram_mb, deleted.free_disk_gb]).toEqual([
        0,
        start.free_ram_mb + 2048,
        start.free_disk_gb + 20,
      ]);
      expect(deleted.claims).toEqual([]);
      expect(deleted.announced).toEqual([]);
    },
  );

  it.each([false, true])(
    'legacy (envelope %s), as info_from_instance builds it: create.end counts disk_gb, delete.end releases it',
    async (envelope) => {
      const host = await freshHost();
      const start = await node(host);
      const uuid = randomUUID();
      await send(legacy['compute.instance.create.start'], host, { uuid, envelope });
      await send(legacy['compute.instance.create.end'], host, { uuid, envelope });
      const created = await node(host);
      expect(created.announced).toMatchObject([{ instance_uuid: uuid, vcpus: 1, memory_mb: 512, disk_gb: 1 }]);
      expect([created.running_vms, created.current_workload, created.free_ram_mb]).toEqual([
        1,
        0,
        start.free_ram_mb - 512,
      ]);
      await send(legacy['compute.instance.resize.prep.start'], host, { uuid, envelope });
      await send(legacy['compute.instance.delete.start'], host, { uuid, envelope });
      expect((await node(host)).current_workload).toBe(2);
      await send(legacy['compute.instance.resize.prep.end'], host, { uuid, envelope });
      await send(legacy['compute.instance.delete.end'], host, { uuid, envelope });
      const deleted = await node(host);
      expect([deleted.running_vms, deleted.current_workload, deleted.free_ram_mb]).toEqual([0, 0, start.free_ram_mb]);
    },
  );

  it('applies a versioned create.error: the claim is released', async () => {
    const host = await freshHost();
    const start = await node(host);
    const s = await call<{ claims: { instance_uuid: string }[] }>('POST', '/schedule', {
      body: {
        request_spec: {
          instance_type: { name: 'm1', vcpus: 1, memory_mb: 1024, root_gb: 10, ephemeral_gb: 0, swap: 0 },
          instance_properties: { availability_zone: host },
        },
      },
    });
    expect(s.status).toBe(200);
    expect((await node(host)).free_ram_mb).toBe(start.free_ram_mb - 1024);
    // The sample's payload host is null (the build failed before it was set): the publisher names the node.
    await send(versioned['instance-create-error'], host, { uuid: s.body.claims[0]?.instance_uuid as string });
    const n = await node(host);
    expect([n.free_ram_mb, n.claims.length, n.running_vms]).toEqual([start.free_ram_mb, 0, 0]);
  });
});
