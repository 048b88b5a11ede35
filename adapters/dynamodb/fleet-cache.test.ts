import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ChangeRef, FleetStore, StoredNode } from '../../core/ports';
import { CachedFleet } from './fleet-cache';

/**
 * A model of the change feed the way DynamoDB delivers it: a write commits to the table at `commitAt`
 * (true time), is stamped by its writer's clock (`commitAt + skew`), and reaches the index at
 * `visibleAt = commitAt + delay`; the index holds, per host, the newest write visible so far, and a
 * query returns its entries in no order. Time is the test's clock, never the wall clock.
 */
interface Write {
  host: string;
  ver: number;
  commitAt: number;
  stamp: number;
  visibleAt: number;
}

const node = (host: string, ver: number): StoredNode =>
  ({ record: { host }, ver, baseline: 0, changedAt: 0, claimed: { vcpus: 0, memory_mb: 0, disk_gb: 0 } }) as StoredNode;

class ModelStore {
  t = 0;
  readonly writes: Write[] = [];
  constructor(private readonly shuffle: (n: number) => number[]) {}

  private newest(ok: (w: Write) => boolean): Map<string, Write> {
    const m = new Map<string, Write>();
    for (const w of this.writes) if (ok(w) && (m.get(w.host)?.ver ?? -1) < w.ver) m.set(w.host, w);
    return m;
  }

  readonly store: FleetStore = {
    scan: async () => [...this.newest((w) => w.commitAt <= this.t).values()].map((w) => node(w.host, w.ver)),
    changedSince: async (sinceMs: number): Promise<ChangeRef[]> => {
      const entries = [...this.newest((w) => w.visibleAt <= this.t).values()]
        .filter((w) => w.stamp >= sinceMs)
        .map((w) => ({ host: w.host, ver: w.ver, changedAt: w.stamp }));
      return this.shuffle(entries.length).map((i) => entries[i] as ChangeRef);
    },
    nodes: async (hosts) => {
      const table = this.newest((w) => w.commitAt <= this.t);
      return hosts.flatMap((h) => {
        const w = table.get(h);
        return w ? [node(h, w.ver)] : [];
      });
    },
    get: async () => undefined,
    group: async () => ({ hosts: new Map(), members: 0, ver: 0 }),
    leaveGroup: async () => undefined,
    instanceClaims: async () => new Map(),
    claim: async () => ({ ok: true }),
  };
}

type Op = { kind: 'write'; host: number; dt: number; delay: number; skew: number } | { kind: 'refresh'; dt: number };

const ops = (maxDelayMs: number) =>
  fc.array(
    fc.oneof(
      fc.record({
        kind: fc.constant('write' as const),
        host: fc.integer({ min: 0, max: 5 }),
        dt: fc.integer({ min: 0, max: 2_000 }),
        delay: fc.integer({ min: 0, max: maxDelayMs }),
        skew: fc.integer({ min: -1_000, max: 1_000 }),
      }),
      // Refreshes often closer together than the near window, and sometimes seconds apart.
      fc.record({
        kind: fc.constant('refresh' as const),
        dt: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 3_000 })),
      }),
    ),
    { minLength: 1, maxLength: 60 },
  );

/**
 * Runs `script` against a fresh cache; then checks every write against the bound of fleet-cache.ts:
 * in the copy (by ver) after the first refresh starting after it became visible when its stamp is
 * ≥ visibleAt − nearMs; after the first refresh starting ≥ visibleAt + nearMs when its stamp is
 * ≥ visibleAt − lookback; else after the first full rescan starting after it committed.
 */
const run = (script: Op[], order: number[], lookbackMs: number, rescanMs: number, nearMs: number) => {
  const model = new ModelStore((n) => {
    const idx = Array.from({ length: n }, (_, i) => i);
    // A fixed permutation from the generated order: results come back unordered.
    return idx.sort((a, b) => (order[a % order.length] ?? 0) - (order[b % order.length] ?? 0) || b - a);
  });
  const fleet = new CachedFleet(model.store, rescanMs, () => model.t, 0, { lookbackMs, nearMs });
  const vers = new Map<string, number>();
  const refreshes: { at: number; scan: boolean; copy: Map<string, number> }[] = [];
  let lastScan = Number.NEGATIVE_INFINITY;
  return (async () => {
    // Settle: a tail of refreshes long after the last write, so every write has become visible.
    const tail: Op[] = Array.from({ length: 4 }, () => ({ kind: 'refresh', dt: 6_000 }));
    for (const op of [{ kind: 'refresh', dt: 0 } as Op, ...script, ...tail]) {
      model.t += op.dt;
      if (op.kind === 'write') {
        const host = `h${op.host}`;
        const ver = (vers.get(host) ?? 0) + 1;
        vers.set(host, ver);
        model.writes.push({
          host,
          ver,
          commitAt: model.t,
          stamp: model.t + op.skew,
          visibleAt: model.t + op.delay,
        });
      } else {
        const scan = model.t - lastScan >= rescanMs;
        if (scan) lastScan = model.t;
        const r = await fleet.refresh();
        refreshes.push({ at: model.t, scan, copy: new Map(r.nodes.map((n) => [n.record.host, n.ver])) });
      }
    }
    for (const w of model.writes) {
      const near = Math.min(nearMs, lookbackMs);
      const inNear = w.stamp >= w.visibleAt - near;
      const inLookback = w.stamp >= w.visibleAt - lookbackMs;
      const due = inNear
        ? refreshes.find((r) => r.at > w.visibleAt)
        : inLookback
          ? refreshes.find((r) => r.at > w.visibleAt && r.at >= w.visibleAt + near)
          : refreshes.find((r) => r.scan && r.at > w.commitAt);
      if (!due) continue;
      expect({ write: w, inNear, inLookback, copyVer: due.copy.get(w.host) ?? 0 }).toMatchObject({
        copyVer: expect.toSatisfy((v: number) => v >= w.ver),
      });
    }
  })();
};

/** `run` over 300 generated scripts and result orders: index delays up to `maxDelayMs`. */
const holds = (maxDelayMs: number, lookbackMs: number, rescanMs: number, nearMs: number) =>
  fc.assert(
    fc.asyncProperty(ops(maxDelayMs), fc.array(fc.integer(), { minLength: 1, maxLength: 20 }), (script, order) =>
      run(script, order, lookbackMs, rescanMs, nearMs),
    ),
    { numRuns: 300 },
  );

describe('CachedFleet against an index that delays, reorders and mis-stamps writes', () => {
  it('holds every write at the first refresh after it became visible, with a near window of 0 (delay 0–5 s, skew ±1 s, lookback 10 s)', async () => {
    await holds(5_000, 10_000, 3_600_000, 0);
  });

  it('holds a write inside the near window at the first refresh after it became visible, one inside the lookback within the near window after (near 1 s)', async () => {
    await holds(5_000, 10_000, 3_600_000, 1_000);
  });

  it('reads the near window on every refresh and the whole lookback at most once per near window', async () => {
    const model = new ModelStore((n) => Array.from({ length: n }, (_, i) => i));
    const since: number[] = [];
    const store = {
      ...model.store,
      changedSince: (s: number) => {
        since.push(s);
        return model.store.changedSince(s);
      },
    };
    const fleet = new CachedFleet(store, 3_600_000, () => model.t, 0, { lookbackMs: 10_000, nearMs: 1_000 });
    for (const t of [0, 300, 600, 900, 1_000, 1_200, 2_500]) {
      model.t = t;
      await fleet.refresh();
    }
    // 0 scans; 300–900 near (previous start − 1 s); 1,000 is ≥ 1 s after the scan: far (scan − 10 s);
    // 1,200 near; 2,500 far again (from the far read at 1,000 − 10 s).
    expect(since).toEqual([-1_000, -700, -400, -10_000, 0, -9_000]);
  });

  it('holds a write whose lag + skew exceeds the lookback after the next full rescan', async () => {
    await holds(20_000, 2_000, 15_000, 1_000);
  });

  it('loads a seed instead of scanning, and reads the feed from its asOf − lookback', async () => {
    const model = new ModelStore((n) => Array.from({ length: n }, (_, i) => n - 1 - i));
    let scans = 0;
    const store = {
      ...model.store,
      scan: async () => {
        scans++;
        return model.store.scan();
      },
    };
    model.t = 100_000;
    // Written before the snapshot's asOf but visible only after it: the feed's lookback finds it.
    model.writes.push({ host: 'late', ver: 1, commitAt: 99_000, stamp: 99_000, visibleAt: 101_000 });
    const fleet = new CachedFleet(store, 3_600_000, () => model.t, 0, {
      lookbackMs: 5_000,
      seed: async () => ({ asOfMs: 100_000, nodes: [node('seeded', 3)] }),
    });
    const first = await fleet.refresh();
    expect(scans).toBe(0);
    expect(first.nodes.map((n) => n.record.host)).toEqual(['seeded']);
    model.t = 102_000;
    const second = await fleet.refresh();
    expect(new Map(second.nodes.map((n) => [n.record.host, n.ver]))).toEqual(
      new Map([
        ['seeded', 3],
        ['late', 1],
      ]),
    );
  });

  it('scans at the first refresh when the seed has nothing; restartFeed replaces the copy', async () => {
    const model = new ModelStore((n) => Array.from({ length: n }, (_, i) => i));
    model.writes.push({ host: 'a', ver: 2, commitAt: 0, stamp: 0, visibleAt: 0 });
    const fleet = new CachedFleet(model.store, 3_600_000, () => model.t, 0, { seed: async () => undefined });
    expect((await fleet.refresh()).nodes.map((n) => n.record.host)).toEqual(['a']);
    fleet.restartFeed(0, [node('b', 1)]);
    model.t = 1_000;
    // b stays (the copy is the snapshot), a comes back through the feed (its entry is newer than nothing).
    expect(new Set((await fleet.refresh()).nodes.map((n) => n.record.host))).toEqual(new Set(['a', 'b']));
  });
});
