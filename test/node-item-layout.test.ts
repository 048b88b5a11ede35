import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { documentClient } from '../adapters/dynamodb/client';
import { DynamoFleetStore } from '../adapters/dynamodb/fleet-store';
import type { Claim } from '../core/nodes';
import type { HostClaim, StoredNode } from '../core/ports';
import { report, stack, uniqueHost } from './helpers';

/**
 * Issue 12 items 6 and 7 against DynamoDB Local: the compact node item (claims without their uuid
 * inside and with epoch-ms times, instances kept once in `inst`) and the claim's UpdateItem asking
 * for the updated attributes only.
 */
const db = documentClient('us-east-1', stack().dynamodbUrl);
const store = new DynamoFleetStore(db, stack().nodesTable);
afterAll(() => db.destroy());

const BIG = { vcpus: 1e9, memory_mb: 1e12, disk_gb: 1e12 };

const claimOf = (nowMs: number): Claim => ({
  instance_uuid: randomUUID(),
  vcpus: 1,
  memory_mb: 2048,
  disk_gb: 20,
  claimed_at: new Date(nowMs).toISOString(),
  expires_at: new Date(nowMs + 600_000).toISOString(),
});

const hostClaim = (read: StoredNode, c: Claim): HostClaim => ({
  host: read.record.host,
  baseline: read.baseline,
  maxClaimedBefore: BIG,
  add: { vcpus: c.vcpus, memory_mb: c.memory_mb, disk_gb: c.disk_gb },
  claims: [c],
});

const reported = async () => {
  const host = uniqueHost('ni');
  const uuid = randomUUID().toUpperCase();
  const r = await report(host, {
    instances: [
      { uuid, vcpus: 2, memory_mb: 4096, disk_gb: 40 },
      { uuid: randomUUID(), vcpus: 1, memory_mb: 1024, disk_gb: 10 },
    ],
  });
  expect(r.status).toBe(200);
  return { host, uuid };
};

describe('the compact node item', () => {
  it('keeps the reported list once, in order and case, and claims without their uuid inside', async () => {
    const { host, uuid } = await reported();
    const read = (await store.get(host)) as StoredNode;
    const c = claimOf(Date.now());
    expect((await store.claim([hostClaim(read, c)], undefined, Date.now())).ok).toBe(true);
    const raw = (await db.send(new GetCommand({ TableName: stack().nodesTable, Key: { host }, ConsistentRead: true })))
      .Item as Record<string, any>;
    expect(raw.instances).toBeUndefined();
    expect(Object.keys(raw.inst)).toContain(uuid.toLowerCase());
    expect(raw.claims[c.instance_uuid]).toEqual({
      vcpus: 1,
      memory_mb: 2048,
      disk_gb: 20,
      at: Date.parse(c.claimed_at),
      exp: Date.parse(c.expires_at),
    });
    const after = (await store.get(host)) as StoredNode;
    expect(after.record.instances).toEqual(read.record.instances);
    expect(after.record.instances[0]?.uuid).toBe(uuid);
    expect(after.record.claims[c.instance_uuid]).toEqual(c);
  });

  it('reads and moves a claim stored in the layout before it', async () => {
    const { host } = await reported();
    const now = Date.now();
    const old = claimOf(now);
    const item = (await db.send(new GetCommand({ TableName: stack().nodesTable, Key: { host }, ConsistentRead: true })))
      .Item as Record<string, any>;
    const before = (await store.get(host)) as StoredNode;
    // As the item was written before: the list beside `inst`, the claim whole, its times ISO strings.
    await db.send(
      new PutCommand({
        TableName: stack().nodesTable,
        Item: {
          ...item,
          instances: before.record.instances,
          inst: Object.fromEntries(Object.entries(item.inst).map(([k, v]) => [k, { ...(v as object), o: undefined }])),
          claims: { [old.instance_uuid]: old },
        },
      }),
    );
    const legacy = (await store.get(host)) as StoredNode;
    expect(legacy.record.instances).toEqual(before.record.instances);
    expect(legacy.record.claims[old.instance_uuid]).toEqual(old);
    // Rule 6: a move removes the old claim only if it is the one its pointer names (claimed_at).
    const move: HostClaim = {
      host,
      baseline: 0,
      maxClaimedBefore: { vcpus: 0, memory_mb: 0, disk_gb: 0 },
      add: { vcpus: 0, memory_mb: 0, disk_gb: 0 },
      claims: [],
      releases: [{ ...old, host, decision_id: 'd' }],
    };
    expect((await store.claim([move], undefined, now)).ok).toBe(true);
    expect((await store.get(host))?.record.claims[old.instance_uuid]).toBeUndefined();
  });
});

describe("a claim's UpdateItem", () => {
  it('returns the node as a consistent read then shows it', async () => {
    const { host } = await reported();
    const read = (await store.get(host)) as StoredNode;
    const out = await store.claim([hostClaim(read, claimOf(Date.now()))], undefined, Date.now());
    expect(out.ok && out.stored?.[0]).toEqual(await store.get(host));
  });

  it('returns the node as it is now when another write came between the read and the claim', async () => {
    const { host } = await reported();
    const read = (await store.get(host)) as StoredNode;
    const first = claimOf(Date.now());
    expect((await store.claim([hostClaim(read, first)], undefined, Date.now())).ok).toBe(true);
    // Still a valid claim (the bounds allow it), made on a copy that misses the first one.
    const second = claimOf(Date.now());
    const out = await store.claim([hostClaim(read, second)], undefined, Date.now());
    expect(out.ok && out.stored?.[0]).toEqual(await store.get(host));
    expect(out.ok && Object.keys(out.stored?.[0]?.record.claims ?? {}).sort()).toEqual(
      [first.instance_uuid, second.instance_uuid].sort(),
    );
    expect(out.ok && out.stored?.[0]?.ver).toBe(read.ver + 2);
  });
});
