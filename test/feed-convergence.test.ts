import { afterAll, describe, expect, it } from 'vitest';
import { documentClient } from '../adapters/dynamodb/client';
import { CachedFleet } from '../adapters/dynamodb/fleet-cache';
import { DynamoFleetStore } from '../adapters/dynamodb/fleet-store';
import { DynamoNodeStore } from '../adapters/dynamodb/node-store';
import { applyReport } from '../core/node/apply';
import type { ChangeRef, FleetStore } from '../core/ports';
import { makeReport, stack, uniqueHost } from './helpers';

/**
 * Issue 12 item 3 against the real index (DynamoDB Local): real writes through the node store with
 * skewed writer clocks, read through a wrapper in front of the real change query that hides chosen
 * entries until a time of the injected clock and shuffles the rest. The bound is judged in
 * injected-clock terms (fleet-cache.ts): a change visible at v with stamp ≥ v − lookback is in the
 * copy after the first refresh starting after v; one beyond the lookback after the next rescan.
 */
describe('the change feed converges whatever the index delays or reorders', () => {
  const db = documentClient('us-east-1', stack().dynamodbUrl);
  const real = new DynamoFleetStore(db, stack().nodesTable);
  afterAll(() => db.destroy());

  const T0 = Date.now();
  let t = 0;
  const now = () => T0 + t;
  /** host → injected time (relative to T0) before which its entry is hidden. */
  const hiddenUntil = new Map<string, number>();
  // The real store (scan, BatchGet, claims) with its change query wrapped.
  const faulty: FleetStore = Object.assign(Object.create(real) as DynamoFleetStore, {
    changedSince: async (sinceMs: number): Promise<ChangeRef[]> => {
      const refs = (await real.changedSince(sinceMs)).filter((r) => (hiddenUntil.get(r.host) ?? 0) <= t);
      // Reversed and interleaved: no order a reader could rely on.
      return refs.reverse().sort((a, b) => (a.host.length % 2) - (b.host.length % 2));
    },
  });

  /** A report of `host` written by a writer whose clock is `skewMs` off the injected one. */
  const write = async (host: string, skewMs: number) => {
    const writerNow = () => now() + skewMs;
    const store = new DynamoNodeStore(db, stack().nodesTable, writerNow);
    const record = applyReport(undefined, makeReport(host), host, { id: 1, service_id: 1 }, writerNow(), {
      claimTtlS: 600,
      windowS: 7200,
    });
    await store.put(record, undefined);
  };

  it('sees a late entry at the first refresh after it shows, and one beyond the lookback at the rescan', async () => {
    const fleet = new CachedFleet(faulty, 20_000, now, 0, { lookbackMs: 10_000 });
    const has = async () => new Set((await fleet.refresh()).nodes.map((n) => n.record.host));
    await fleet.refresh(); // t = 0: the cold scan
    const [late, prompt, lost] = [uniqueHost('late'), uniqueHost('prompt'), uniqueHost('lost')];

    t = 1_000;
    hiddenUntil.set(late, 6_000); // lag 5 s, stamped 1 s early: stamp 0 ≥ 6 s − 10 s
    await write(late, -1_000);
    t = 1_500;
    await write(prompt, 1_000); // visible at once, stamped 1 s late
    hiddenUntil.set(lost, 7_000); // stamped 20 s early, visible at 7 s: beyond the lookback
    await write(lost, -20_000);

    t = 2_000;
    let seen = await has();
    expect(seen.has(prompt)).toBe(true);
    expect(seen.has(late)).toBe(false);
    t = 4_000;
    expect((await has()).has(late)).toBe(false);
    t = 6_500; // the first refresh after `late` became visible
    seen = await has();
    expect(seen.has(late)).toBe(true);
    expect(seen.has(prompt)).toBe(true);
    t = 7_500; // `lost` is visible, but its stamp is before 4 s − 10 s: only a rescan finds it
    expect((await has()).has(lost)).toBe(false);
    t = 20_500; // ≥ rescanMs after the cold scan
    expect((await has()).has(lost)).toBe(true);
  });

  it('with refreshes every 200 ms: a late entry inside the near window at the next refresh, one inside the lookback within the near window (1 s)', async () => {
    const fleet = new CachedFleet(faulty, 3_600_000, now, 0, { lookbackMs: 10_000, nearMs: 1_000 });
    const has = async () => new Set((await fleet.refresh()).nodes.map((n) => n.record.host));
    t = 30_000;
    await fleet.refresh(); // the cold scan
    const [slow, stale] = [uniqueHost('slow'), uniqueHost('stale')];
    hiddenUntil.set(slow, 30_400); // shows at 30.4 s, stamped 0.5 s early: inside the near window (≥ 30.4 − 1 s)
    await write(slow, -500);
    hiddenUntil.set(stale, 31_100); // shows at 31.1 s, stamped 5 s early: only a far read reaches it
    await write(stale, -5_000);
    const seenAt = new Map<string, number>();
    for (t = 30_200; t <= 33_000; t += 200) {
      const seen = await has();
      for (const h of [slow, stale]) if (seen.has(h) && !seenAt.has(h)) seenAt.set(h, t);
    }
    expect(seenAt.get(slow)).toBe(30_400); // the first refresh once it shows
    expect(seenAt.get(stale)).toBeGreaterThan(31_100);
    expect(seenAt.get(stale)).toBeLessThanOrEqual(32_100); // ≤ 1 s after it showed, within the 2 s target
  });
});
