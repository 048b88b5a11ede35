import { randomBytes, randomUUID } from 'node:crypto';
import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeItemSize as itemBytes } from '../adapters/dynamodb/capacity-rules';
import { documentClient } from '../adapters/dynamodb/client';
import { coldScan, fleetSeed } from '../adapters/dynamodb/fleet-seed';
import { FleetSnapshotStore, SNAPSHOT_HEAD } from '../adapters/dynamodb/fleet-snapshot';
import { DynamoFleetStore } from '../adapters/dynamodb/fleet-store';
import { toItem } from '../adapters/dynamodb/node-item';
import { applyReport } from '../core/nodes';
import type { StoredNode } from '../core/ports';
import { createTablesFromServerlessYml } from '../scripts/lib/tables';
import { call, makeReport, report, stack, uniqueHost } from './helpers';

type Json = Record<string, any>;

/** Sorted by host, as JSON: what two reads of the same fleet must equal. */
const canon = (nodes: StoredNode[]) =>
  JSON.parse(JSON.stringify([...nodes].sort((a, b) => a.record.host.localeCompare(b.record.host))));

const CPUS = [
  { arch: 'x86_64', vendor: 'Intel', model: 'Xeon Gold 6230', features: ['avx', 'avx2'] },
  { arch: 'x86_64', vendor: 'AMD', model: 'EPYC 7763', features: ['avx2', 'sha_ni'] },
  { arch: 'aarch64', vendor: 'ARM', model: 'Neoverse-N1', features: ['asimd'] },
];

/**
 * The fleet snapshot (adapters/dynamodb/fleet-snapshot.ts) and the cold seed (fleet-seed.ts), each
 * test on a nodes table of its own in the stack's DynamoDB Local (the stack's schedule function
 * writes snapshots and takes the lease on the stack's table), the last on the stack's table.
 */
describe('cold start: the fleet snapshot', () => {
  const db = documentClient('us-east-1', stack().dynamodbUrl);
  afterAll(() => db.destroy());

  const freshTable = async () => {
    const id = randomUUID().slice(0, 8);
    const names = {
      NodesTable: `cs-${id}-nodes`,
      DecisionsTable: `cs-${id}-decisions`,
      EventsTable: `cs-${id}-events`,
    };
    await createTablesFromServerlessYml(stack().dynamodbUrl, names);
    return names.NodesTable;
  };

  /** `n` hosts of varied shapes: three CPU models, 0–4 instances, some with no zone, some disabled, metadata. */
  const seedHosts = async (table: string, n: number) => {
    const now = Date.now();
    const items = Array.from({ length: n }, (_, i) => {
      const host = `cs-${String(i).padStart(4, '0')}`;
      const instances = Array.from({ length: i % 5 }, () => ({
        uuid: randomUUID(),
        vcpus: 1 + (i % 3),
        memory_mb: 2048,
        disk_gb: 20,
      }));
      const r = makeReport(host, {
        cpu_info: { ...(CPUS[i % 3] as (typeof CPUS)[0]), topology: { sockets: 1 + (i % 2), cores: 8, threads: 2 } },
        instances,
        running_vms: instances.length,
        vcpus_used: i % 17,
        ...(i % 7 === 0 ? {} : { availability_zone: `az-${i % 3}` }),
      });
      let record = applyReport(undefined, r, host, { id: i + 1, service_id: i + 1 }, now, {
        claimTtlS: 600,
        windowS: 7200,
      });
      if (i % 11 === 0) record = { ...record, disabled: true, disabled_reason: `drain ${i}` } as typeof record;
      if (i % 13 === 0) record = { ...record, metadata: { rack: `r${i % 4}`, owner: 'ops' } } as typeof record;
      return toItem(record, 1 + (i % 4), now - i);
    });
    for (let i = 0; i < items.length; i += 25) {
      await db.send(
        new BatchWriteCommand({
          RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
        }),
      );
    }
  };

  const logs: Record<string, unknown>[] = [];
  const seedOf = (table: string) =>
    fleetSeed(
      new FleetSnapshotStore(db, table),
      () => coldScan(db, table),
      Date.now,
      (f) => logs.push(f),
    );

  let table: string;
  let scanned: StoredNode[];
  beforeAll(async () => {
    table = await freshTable();
    await seedHosts(table, 300);
    scanned = await new DynamoFleetStore(db, table).scan();
    expect(scanned).toHaveLength(300);
  });

  it('round-trips every node exactly: the snapshot equals a scan, and the cold scan does too', async () => {
    const snapshots = new FleetSnapshotStore(db, table);
    const written = await snapshots.write(scanned, 1_700_000_000_000);
    expect(written.nodes).toBe(300);
    const back = await snapshots.read();
    if (!('nodes' in back)) throw new Error(`no snapshot: ${back.miss}`);
    expect(back.asOfMs).toBe(1_700_000_000_000);
    expect(canon(back.nodes)).toEqual(canon(scanned));
    expect(canon(await coldScan(db, table))).toEqual(canon(scanned));
    const seeded = await seedOf(table)();
    expect(seeded?.asOfMs).toBe(1_700_000_000_000);
    expect(canon(seeded?.nodes ?? [])).toEqual(canon(scanned));
  });

  it('a torn snapshot falls back to the scan: missing chunk, bad checksum, head naming a deleted generation', async () => {
    const snapshots = new FleetSnapshotStore(db, table);
    const head = async () =>
      (await db.send(new GetCommand({ TableName: table, Key: { host: SNAPSHOT_HEAD }, ConsistentRead: true })))
        .Item as Json;
    const expectScan = async (miss: string) => {
      const r = await snapshots.read();
      expect('miss' in r && r.miss).toBe(miss);
      const before = Date.now();
      const seeded = await seedOf(table)();
      expect(canon(seeded?.nodes ?? [])).toEqual(canon(scanned));
      // A scan's as-of is its own start, not the torn snapshot's.
      expect(seeded?.asOfMs).toBeGreaterThanOrEqual(before);
    };

    await snapshots.write(scanned, 1);
    let h = await head();
    await db.send(new DeleteCommand({ TableName: table, Key: { host: `${SNAPSHOT_HEAD}#${h.generation}#0` } }));
    await expectScan('missing-chunk');

    await snapshots.write(scanned, 2);
    h = await head();
    const key = { host: `${SNAPSHOT_HEAD}#${h.generation}#0` };
    const chunk = (await db.send(new GetCommand({ TableName: table, Key: key }))).Item as Json;
    const data = Buffer.from(chunk.data as Uint8Array);
    data.writeUInt8(data.readUInt8(data.length - 1) ^ 0xff, data.length - 1);
    await db.send(new PutCommand({ TableName: table, Item: { ...key, data } }));
    await expectScan('bad-checksum');

    await snapshots.write(scanned, 3);
    h = await head();
    await db.send(new PutCommand({ TableName: table, Item: { ...h, generation: 'deleted-generation' } }));
    await expectScan('missing-chunk');

    await db.send(new DeleteCommand({ TableName: table, Key: { host: SNAPSHOT_HEAD } }));
    await expectScan('no-head');
  });

  it('the lease lets one writer at a time write, and passes on when it expires', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const a = new FleetSnapshotStore(db, table, clock, 'a');
    const b = new FleetSnapshotStore(db, table, clock, 'b');
    const results = await Promise.all([a.acquireLease(60_000), b.acquireLease(60_000)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const [holder, other] = results[0] ? [a, b] : [b, a];
    now += 30_000;
    expect(await other.acquireLease(60_000)).toBe(false);
    expect(await holder.acquireLease(60_000)).toBe(true); // renewed: now held until 1,090,000
    now += 60_000; // expires_ms = now: still held
    expect(await other.acquireLease(60_000)).toBe(false);
    now += 1;
    expect(await other.acquireLease(60_000)).toBe(true);
    expect(await holder.acquireLease(60_000)).toBe(false);
  });

  it('a fleet too big for one item is cut into several chunks, each under the 400 KB item limit', async () => {
    const big = await freshTable();
    // 1,000 nodes with 1 KB of noise each (gzip cannot shrink it): ~1.3 MB of snapshot.
    const nodes = scanned.slice(0, 100).flatMap((n, k) =>
      Array.from({ length: 10 }, (_, j) => ({
        ...n,
        record: { ...n.record, host: `big-${k}-${j}`, hypervisor_hostname: randomBytes(1024).toString('base64') },
      })),
    ) as StoredNode[];
    const snapshots = new FleetSnapshotStore(db, big);
    const written = await snapshots.write(nodes, 5);
    expect(written.chunks).toBeGreaterThanOrEqual(3);
    const items = (await db.send(new ScanCommand({ TableName: big, ConsistentRead: true }))).Items ?? [];
    const chunks = items.filter((i) => String(i.host).startsWith(`${SNAPSHOT_HEAD}#`));
    expect(chunks).toHaveLength(written.chunks);
    for (const c of chunks) expect(itemBytes(c)).toBeLessThan(400 * 1024);
    const back = await snapshots.read();
    if (!('nodes' in back)) throw new Error(`no snapshot: ${back.miss}`);
    expect(canon(back.nodes)).toEqual(canon(nodes));
    // Two generations kept (the current and the one before, for readers of the old head); older ones deleted.
    await snapshots.write(nodes, 6);
    await snapshots.write(nodes, 7);
    const after = (await db.send(new ScanCommand({ TableName: big, ConsistentRead: true }))).Items ?? [];
    const generations = new Set(
      after.filter((i) => String(i.host).startsWith(`${SNAPSHOT_HEAD}#`)).map((i) => String(i.host).split('#')[2]),
    );
    expect(generations.size).toBe(2);
  });

  it('snapshot items never appear as nodes: GET /nodes, the scan, the cold scan, a decision', async () => {
    const t = stack().nodesTable;
    const az = `az-${randomUUID().slice(0, 8)}`;
    const host = uniqueHost('cs');
    expect((await report(host, { availability_zone: az })).status).toBe(200);
    const store = new DynamoFleetStore(db, t);
    const snapshots = new FleetSnapshotStore(db, t);
    await snapshots.acquireLease(1);
    await snapshots.write(await store.scan(), Date.now());
    const isMeta = (h: unknown) => String(h).startsWith('#');
    const listed = await call<Json>('GET', '/nodes');
    expect(listed.status).toBe(200);
    const hosts = ((listed.body.nodes ?? listed.body) as Json[]).map((n) => n.host ?? n.hypervisor_hostname);
    expect(hosts.length).toBeGreaterThan(0);
    expect(hosts.some(isMeta)).toBe(false);
    expect((await store.scan()).some((n) => isMeta(n.record.host))).toBe(false);
    expect((await coldScan(db, t)).some((n) => isMeta(n.record.host))).toBe(false);
    const r = await call<Json>('POST', '/schedule', {
      body: {
        request_spec: {
          instance_type: { name: 'm1.small', vcpus: 1, memory_mb: 2048, root_gb: 20, ephemeral_gb: 0, swap: 0 },
          instance_properties: { availability_zone: az },
          num_instances: 1,
        },
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.selections.map((s: Json) => s.host)).toEqual([host]);
    const ranked = (await call<Json>('GET', `/decisions/${r.body.decision_id}`)).body;
    expect(JSON.stringify(ranked)).not.toMatch(/"#snapshot/);
  });
});
