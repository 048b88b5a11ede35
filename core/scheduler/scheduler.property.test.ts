import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from './options';
import { schedule } from './scheduler';
import { makeHost, makeSpec, seededRng, uuidFor } from './test-fixtures';
import type { GroupPolicy, HostInstance, HostState } from './types';

// Ratios are exact binary fractions so that capacity × ratio compares without rounding.
const ratio = fc.constantFrom(0.5, 1, 1.5, 2, 4, 16);

const hostArb = (i: number) =>
  fc
    .record({
      memory_mb: fc.integer({ min: 0, max: 65536 }),
      usedRam: fc.integer({ min: 0, max: 70000 }),
      vcpus_total: fc.integer({ min: 1, max: 64 }),
      vcpus_used: fc.integer({ min: 0, max: 80 }),
      disk_gb: fc.integer({ min: 0, max: 500 }),
      usedDiskMb: fc.integer({ min: 0, max: 600 * 1024 }),
      ram: ratio,
      cpu: ratio,
      disk: ratio,
      up: fc.boolean(),
      member: fc.boolean(),
      num_io_ops: fc.integer({ min: 0, max: 10 }),
    })
    .map(
      (r): HostState =>
        makeHost({
          host: `h${i}`,
          memory_mb: r.memory_mb,
          free_ram_mb: r.memory_mb - r.usedRam,
          vcpus_total: r.vcpus_total,
          vcpus_used: r.vcpus_used,
          total_usable_disk_gb: r.disk_gb,
          free_disk_mb: r.disk_gb * 1024 - r.usedDiskMb,
          ram_allocation_ratio: r.ram,
          cpu_allocation_ratio: r.cpu,
          disk_allocation_ratio: r.disk,
          up: r.up || i % 3 !== 0,
          num_io_ops: r.num_io_ops,
          instances: new Map<string, HostInstance>(r.member ? [[uuidFor(1000 + i), { group: 'g1' }]] : []),
        }),
    );

const fleetArb = fc
  .integer({ min: 1, max: 16 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => hostArb(i))));

const requestArb = fc.record({
  vcpus: fc.integer({ min: 0, max: 16 }),
  memory_mb: fc.integer({ min: 0, max: 16384 }),
  root_gb: fc.integer({ min: 0, max: 80 }),
  ephemeral_gb: fc.integer({ min: 0, max: 40 }),
  swap: fc.integer({ min: 0, max: 4096 }),
  num_instances: fc.integer({ min: 1, max: 12 }),
  policy: fc.constantFrom<GroupPolicy | null>(null, 'anti-affinity', 'affinity'),
  subset: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer(),
});

describe('schedule (property)', () => {
  it('never places more on a host than capacity × ratio, and never two anti-affinity members together', () => {
    fc.assert(
      fc.property(fleetArb, requestArb, (fleet, r) => {
        const spec = makeSpec({
          vcpus: r.vcpus,
          memory_mb: r.memory_mb,
          root_gb: r.root_gb,
          ephemeral_gb: r.ephemeral_gb,
          swap: r.swap,
          num_instances: r.num_instances,
          scheduler_hints:
            r.policy === null
              ? { same_host: [], different_host: [] }
              : { same_host: [], different_host: [], group: 'g1', group_policy: r.policy },
        });
        const opts = resolveOptions({ host_subset_size: r.subset });
        const d = schedule(fleet, spec, opts, seededRng(r.seed));

        // Every host is accounted for exactly once: rejected, or a survivor of the last pass.
        const rejected = Object.values(d.filter_counts).reduce((a, b) => a + b, 0);
        const lastPass = d.passes.at(-1)?.candidates ?? 0;
        expect(rejected + (d.placed ? lastPass : 0)).toBe(fleet.length);
        expect(d.picks.length).toBe(d.placed ? r.num_instances : (d.failed?.instance_index ?? -1));

        const placed = new Map<string, number>();
        for (const p of d.picks) placed.set(p.host, (placed.get(p.host) ?? 0) + 1);
        const diskMb = (r.root_gb + r.ephemeral_gb) * 1024 + r.swap;
        for (const [name, k] of placed) {
          const h = fleet.find((x) => x.host === name) as HostState;
          // used before + what the scheduler put there ≤ capacity × ratio
          expect(h.memory_mb - h.free_ram_mb + k * r.memory_mb).toBeLessThanOrEqual(
            h.memory_mb * h.ram_allocation_ratio,
          );
          expect(h.vcpus_used + k * r.vcpus).toBeLessThanOrEqual(h.vcpus_total * h.cpu_allocation_ratio);
          const totalDisk = h.total_usable_disk_gb * 1024;
          expect(totalDisk - h.free_disk_mb + k * diskMb).toBeLessThanOrEqual(totalDisk * h.disk_allocation_ratio);
          expect(h.up).toBe(true);
          if (r.policy === 'anti-affinity') {
            expect(k).toBe(1);
            expect([...h.instances.values()].some((i) => i.group === 'g1')).toBe(false);
          }
        }
        if (r.policy === 'affinity' && d.picks.length > 0) {
          // With members somewhere, every pick lands on a member's host; without, all follow the first pick.
          const members = fleet
            .filter((h) => [...h.instances.values()].some((i) => i.group === 'g1'))
            .map((h) => h.host);
          const allowed = members.length > 0 ? members : [d.picks[0]?.host];
          for (const p of d.picks) expect(allowed).toContain(p.host);
        }
      }),
      { numRuns: 400 },
    );
  });
});
