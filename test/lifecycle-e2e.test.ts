import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { documentClient } from '../adapters/dynamodb/client';
import { runAgent } from '../agent/test-support';
import type { NodeView } from '../core/nodes';
import { call, stack, tokenFor, uniqueHost } from './helpers';

const AWS = '/usr/bin/aws';
const FLAVOR = { name: 'm1.small', vcpus: 1, memory_mb: 2048, root_gb: 20, ephemeral_gb: 0, swap: 0 };
const db = documentClient('us-east-1', stack().dynamodbUrl);
const sns = new SNSClient({
  endpoint: stack().snsUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
afterAll(() => {
  db.destroy();
  sns.destroy();
});

const node = async (host: string) => {
  const r = await call<NodeView>('GET', `/nodes/${host}`);
  expect(r.status).toBe(200);
  return r.body;
};

/** Waits until notify has applied `messageId` (its idempotency record exists). */
const applied = async (messageId: string) => {
  for (let i = 0; i < 100; i++) {
    const out = await db.send(
      new GetCommand({ TableName: stack().eventsTable, Key: { id: messageId }, ConsistentRead: true }),
    );
    if (out.Item) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`message ${messageId} never applied`);
};

const notification = (host: string, event_type: string, uuid: string) => {
  const message_id = randomUUID();
  const body = JSON.stringify({
    message_id,
    event_type,
    publisher_id: `compute.${host}`,
    timestamp: new Date().toISOString(),
    priority: 'INFO',
    payload: { instance_id: uuid, vcpus: FLAVOR.vcpus, memory_mb: FLAVOR.memory_mb, disk_gb: FLAVOR.root_gb },
  });
  return { message_id, body };
};

/** The whole loop over the real transports: agent → report, HTTP schedule, SNS events (one via /usr/bin/aws). */
describe.skipIf(!existsSync(AWS))('an instance lifecycle end to end', () => {
  it('schedule two, create.end both, delete.end one, the agent reports: the node is right at each step', async () => {
    const host = uniqueHost('life');
    const stateDir = mkdtempSync(join(tmpdir(), 'qm-life-'));
    const agent = () =>
      runAgent([
        '--api-url',
        stack().baseUrl,
        '--token',
        tokenFor(host),
        '--host',
        host,
        '--availability-zone',
        host,
        '--instances-path',
        tmpdir(),
        '--state-file',
        join(stateDir, 'state.json'),
        '--virsh-uri',
        'test:///nonexistent-so-no-instances',
        '--once',
      ]);

    // 1. The agent reports this machine.
    expect((await agent()).code).toBe(0);
    const reported = await node(host);
    expect(reported.claims).toEqual([]);
    const free0 = reported.free_ram_mb;
    const vms0 = reported.running_vms;

    // 2. Two instances scheduled over HTTP: two claims, free RAM down by two flavors at once (rule 2).
    const s = await call<{ claims: { instance_uuid: string }[]; selections: { host: string }[] }>('POST', '/schedule', {
      body: {
        request_spec: { instance_type: FLAVOR, instance_properties: { availability_zone: host }, num_instances: 2 },
      },
    });
    expect(s.status, JSON.stringify(s.body)).toBe(200);
    expect(s.body.selections.map((x) => x.host)).toEqual([host, host]);
    const [a, b] = s.body.claims.map((c) => c.instance_uuid) as [string, string];
    const claimed = await node(host);
    expect(claimed.free_ram_mb).toBe(free0 - 2 * FLAVOR.memory_mb);
    expect(claimed.claims.map((c) => c.instance_uuid).sort()).toEqual([a, b].sort());

    // 3. create.end for both — one published by Debian's awscli, one by the SDK: confirmed, counted once.
    const ca = notification(host, 'compute.instance.create.end', a);
    await promisify(execFile)(
      AWS,
      [
        'sns',
        'publish',
        '--endpoint-url',
        stack().snsUrl,
        '--region',
        'us-east-1',
        '--topic-arn',
        stack().topicArn,
        '--message',
        ca.body,
      ],
      { env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_PAGER: '' } },
    );
    const cb = notification(host, 'compute.instance.create.end', b);
    await sns.send(new PublishCommand({ TopicArn: stack().topicArn, Message: cb.body }));
    await applied(ca.message_id);
    await applied(cb.message_id);
    const confirmed = await node(host);
    expect(confirmed.claims.every((c) => c.confirmed_at !== undefined)).toBe(true);
    expect(confirmed.free_ram_mb).toBe(free0 - 2 * FLAVOR.memory_mb);
    expect(confirmed.running_vms).toBe(vms0 + 2);

    // 4. delete.end for one: its resources come back; the other stays counted.
    const da = notification(host, 'compute.instance.delete.end', a);
    await sns.send(new PublishCommand({ TopicArn: stack().topicArn, Message: da.body }));
    await applied(da.message_id);
    const deleted = await node(host);
    expect(deleted.claims.map((c) => c.instance_uuid)).toEqual([b]);
    expect(deleted.free_ram_mb).toBe(free0 - FLAVOR.memory_mb);
    expect(deleted.running_vms).toBe(vms0 + 1);

    // 5. The agent reports again. Without libvirt it lists no instances, so b's confirmed claim still
    //    counts on top of the new measurement (until a report lists it, or claim_ttl reaps it as drift).
    expect((await agent()).code).toBe(0);
    const after = await node(host);
    expect(after.seq).toBeGreaterThan(reported.seq);
    expect(after.claims.map((c) => c.instance_uuid)).toEqual([b]);
    expect(after.free_ram_mb).toBe(after.memory_mb - after.memory_mb_used - FLAVOR.memory_mb);
    expect(after.running_vms).toBe(vms0 + 1);
  });
});
