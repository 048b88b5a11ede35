import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineFilter } from './filters/define-filter';
import { resolveOptions } from './options';
import { reasonOf } from './reasons';
import { schedule } from './scheduler';
import { makeHost, makeSpec, seededRng, uuidFor } from './test-fixtures';
import type { GroupPolicy, HostInstance, HostState } from './types';

// Fleets where every filter and pre-filter has something to reject: small hosts, down, disabled,
// deleted, other zones and hypervisors, group members, tagged aggregates.
const hostArb = (i: number) =>
  fc
    .record({
      memory_mb: fc.constantFrom(1024, 16384, 16384, 65536),
      // Per cent of capacity in use: mostly room for a few instances, some hosts full.
      usedRam: fc.integer({ min: 0, max: 110 }),
      vcpus_total: fc.constantFrom(0, 2, 16, 16),
      vcpus_used: fc.integer({ min: 0, max: 18 }),
      disk_gb: fc.constantFrom(10, 200, 200),
      usedDisk: fc.integer({ min: 0, max: 110 }),
      ram: fc.constantFrom(1, 1.5),
      state: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'down', 'disabled', 'deleted'),
      zone: fc.constantFrom('nova', 'nova', 'nova', 'az2'),
      xen: fc.integer({ min: 0, max: 5 }).map((x) => x === 0),
      ssd: fc.integer({ min: 0, max: 3 }).map((x) => x > 0),
      members: fc.integer({ min: 0, max: 2 }),
      num_io_ops: fc.integer({ min: 0, max: 9 }),
      num_instances: fc.integer({ min: 0, max: 51 }),
    })
    .map((r): HostState => {
      const instances = new Map<string, HostInstance>();
      for (let k = 0; k < r.members; k++) instances.set(uuidFor(1000 + i * 4 + k), { group: 'g1' });
      if (i % 5 === 0) instances.set(uuidFor(i), {});
      return makeHost({
        host: `H${i}`,
        memory_mb: r.memory_mb,
        free_ram_mb: Math.round((r.memory_mb * (100 - r.usedRam)) / 100),
        vcpus_total: r.vcpus_total,
        vcpus_used: r.vcpus_used,
        total_usable_disk_gb: r.disk_gb,
        free_disk_mb: Math.round((r.disk_gb * 1024 * (100 - r.usedDisk)) / 100),
        ram_allocation_ratio: r.ram,
        up: r.state !== 'down',
        report_age_s: r.state === 'down' ? 90 + i : 5,
        disabled: r.state === 'disabled',
        disabled_reason: r.state === 'disabled' ? `maintenance ${i}` : null,
        deleted: r.state === 'deleted',
        availability_zone: r.zone,
        hypervisor_type: r.xen ? 'Xen' : 'QEMU',
        metadata: r.ssd ? { ssd: 'true' } : {},
        num_io_ops: r.num_io_ops,
        num_instances: r.num_instances,
        instances,
      });
    });

/**
 * A filter outside the registry whose state learns of every pick and whose verdict and figures
 * read the pass: its rejections come out right only if each is explained with the state and pass
 * it was decided in (settled before a pick, the pass's own context).
 */
const PickCountingFilter = defineFilter<
  { picks: string[] },
  { picks: number; last: string; index: number; uuid: string }
>({
  name: 'PickCountingFilter',
  summary: 'were turned down by the pick count',
  reasons: { turn: { count: 'were turned down by the pick count', render: (f) => `PickCountingFilter: ${f.picks}` } },
  prepare: () => ({ picks: [] }),
  picked: (s, host) => {
    s.picks.push(host.host);
  },
  // Turns down one host in five, a different one each pass.
  passes: (host, _s, pass) => (Number(host.host.slice(1)) + pass.index) % 5 !== 3,
  explain: (_host, s, pass) => ({
    code: 'turn',
    figures: { picks: s.picks.length, last: s.picks.at(-1) ?? '', index: pass.index, uuid: pass.instanceUuid },
  }),
});

const fleetArb = fc
  .integer({ min: 0, max: 30 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => hostArb(i))));

const requestArb = fc.record({
  vcpus: fc.integer({ min: 0, max: 10 }),
  memory_mb: fc.constantFrom(0, 512, 2048, 8192),
  root_gb: fc.integer({ min: 0, max: 20 }),
  num_instances: fc.integer({ min: 0, max: 6 }),
  policy: fc.constantFrom<GroupPolicy | null>(null, 'anti-affinity', 'affinity'),
  zone: fc.constantFrom<string | null>(null, 'nova'),
  capability: fc.boolean(),
  image: fc.boolean(),
  aggregate: fc.boolean(),
  retried: fc.subarray([1, 3, 7]),
  differentHost: fc.boolean(),
  ignored: fc.subarray([0, 2, 4]),
  forced: fc.subarray([1, 2, 5, 6]),
  subset: fc.integer({ min: 1, max: 3 }),
  counting: fc.boolean(),
  seed: fc.integer(),
});

describe('rejections (property)', () => {
  it('read lazily are the same data as explained when found, over random fleets and requests', () => {
    fc.assert(
      fc.property(fleetArb, requestArb, (fleet, r) => {
        const spec = makeSpec({
          vcpus: r.vcpus,
          memory_mb: r.memory_mb,
          root_gb: r.root_gb,
          num_instances: r.num_instances,
          extra_specs: {
            ...(r.capability ? { 'capabilities:hypervisor_type': 'QEMU' } : {}),
            ...(r.aggregate ? { 'aggregate_instance_extra_specs:ssd': 'true' } : {}),
          },
          image: { properties: r.image ? { hypervisor_type: 'qemu' } : {} },
          instance_properties: r.zone === null ? {} : { availability_zone: r.zone },
          scheduler_hints: {
            same_host: [],
            different_host: r.differentHost ? [uuidFor(0), uuidFor(10)] : [],
            ...(r.policy === null ? {} : { group: 'g1', group_policy: r.policy }),
          },
          ...(r.retried.length > 0 ? { retry: { num_attempts: 1, hosts: r.retried.map((i) => `H${i}`) } } : {}),
          ignore_hosts: r.ignored.map((i) => `h${i}`),
          // Forcing hosts only some of the time: it skips most filters.
          force_hosts: r.seed % 4 === 0 ? r.forced.map((i) => `H${i}`) : [],
        });
        const base = resolveOptions({ host_subset_size: r.subset });
        const opts = r.counting
          ? { ...base, resolved: { ...base.resolved, filters: [...base.resolved.filters, PickCountingFilter] } }
          : base;
        const lazy = schedule(fleet, spec, opts, seededRng(r.seed));
        const eager = schedule(fleet, spec, opts, seededRng(r.seed), { eagerRejections: true });
        // Another call between the decision and its first read changes nothing.
        schedule(fleet, spec, opts, seededRng(r.seed + 1));

        expect(lazy.rejections).toEqual(eager.rejections);
        expect(JSON.parse(JSON.stringify(lazy))).toEqual(JSON.parse(JSON.stringify(eager)));
        expect(lazy.rejections.map(reasonOf)).toEqual(eager.rejections.map(reasonOf));
        // Each rejected host once; with the survivors of the last pass, the whole fleet.
        const hosts = lazy.rejections.map((x) => x.host);
        expect(new Set(hosts).size).toBe(hosts.length);
        const survivors = lazy.placed && r.num_instances > 0 ? (lazy.passes.at(-1)?.candidates ?? 0) : 0;
        const unpassed = r.num_instances > 0 ? 0 : fleet.length - hosts.length;
        expect(hosts.length + survivors + unpassed).toBe(fleet.length);
        // The memo: the same array on every read.
        expect(lazy.rejections).toBe(lazy.rejections);
      }),
      { numRuns: 1000 },
    );
  });
});
