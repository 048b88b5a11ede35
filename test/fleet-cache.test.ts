import { afterAll, describe, expect, it } from 'vitest';
import { documentClient } from '../adapters/dynamodb/client';
import { CachedFleet } from '../adapters/dynamodb/fleet-cache';
import { DynamoFleetStore } from '../adapters/dynamodb/fleet-store';
import { report, stack, uniqueHost } from './helpers';

/** The scheduler's fleet copy against the stack's DynamoDB Local: what it reads, and when. */
describe('CachedFleet', () => {
  const db = documentClient('us-east-1', stack().dynamodbUrl);
  const store = new DynamoFleetStore(db, stack().nodesTable);
  afterAll(() => db.destroy());

  const hosts = (r: { nodes: { record: { host: string } }[] }) => new Set(r.nodes.map((n) => n.record.host));

  it('reads the changes on every request by default', async () => {
    const fleet = new CachedFleet(store, 3_600_000);
    await fleet.refresh();
    const a = uniqueHost('fc');
    expect((await report(a)).status).toBe(200);
    const r = await fleet.refresh();
    expect(hosts(r).has(a)).toBe(true);
    expect(r.itemsRead).toBeGreaterThan(0);
  });

  it('reuses its copy within refreshMs, and reads at once when asked fresh', async () => {
    const fleet = new CachedFleet(store, 3_600_000, Date.now, 60_000);
    await fleet.refresh();
    const a = uniqueHost('fc');
    expect((await report(a)).status).toBe(200);
    const cached = await fleet.refresh();
    expect(cached.itemsRead).toBe(0);
    expect(hosts(cached).has(a)).toBe(false);
    const fresh = await fleet.refresh({ fresh: true });
    expect(hosts(fresh).has(a)).toBe(true);
  });

  it('after invalidate() the next refresh reads', async () => {
    const fleet = new CachedFleet(store, 3_600_000, Date.now, 60_000);
    await fleet.refresh();
    const a = uniqueHost('fc');
    expect((await report(a)).status).toBe(200);
    fleet.invalidate();
    expect(hosts(await fleet.refresh()).has(a)).toBe(true);
  });

  it('after invalidate([host]) the next refresh within refreshMs reads that host alone, by key', async () => {
    const fleet = new CachedFleet(store, 3_600_000, Date.now, 60_000);
    const a = uniqueHost('fc');
    const b = uniqueHost('fc');
    expect((await report(a)).status).toBe(200);
    const first = await fleet.refresh({ fresh: true });
    const verOf = (r: typeof first, h: string) => r.nodes.find((n) => n.record.host === h)?.ver;
    expect(verOf(first, a)).toBeDefined();
    expect((await report(a, { seq: 2 })).status).toBe(200);
    expect((await report(b)).status).toBe(200);
    fleet.invalidate([a]);
    const next = await fleet.refresh();
    expect(next.itemsRead).toBe(1);
    expect(verOf(next, a)).toBeGreaterThan(verOf(first, a) as number);
    // b changed too, but nobody said so: within refreshMs the copy does not read it.
    expect(hosts(next).has(b)).toBe(false);
    expect((await fleet.refresh()).itemsRead).toBe(0);
  });

  it('a node put in by update() does not hide changes made before it', async () => {
    const fleet = new CachedFleet(store, 3_600_000);
    await fleet.refresh();
    const early = uniqueHost('fc');
    const late = uniqueHost('fc');
    expect((await report(early)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
    expect((await report(late)).status).toBe(200);
    // A claim's write or a conflict's re-read hands the cache a node newer than `early`.
    const lateNode = await store.get(late);
    if (!lateNode) throw new Error('late node not stored');
    fleet.update(lateNode);
    expect(hosts(await fleet.refresh()).has(early)).toBe(true);
  });
});
