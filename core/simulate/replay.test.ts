import { describe, expect, it } from 'vitest';
import { type FleetHost, parseConfig, parseTrace } from './inputs';
import { replay } from './replay';

const fleetOf = (n: number, h: Partial<FleetHost> = {}): FleetHost[] =>
  Array.from({ length: n }, (_, i) => ({
    host: `h${String(i + 1).padStart(2, '0')}`,
    vcpus: 16,
    memory_mb: 32768,
    local_gb: 400,
    metadata: {},
    ...h,
  }));

type Line = Record<string, unknown>;
const creates = (n: number, flavor: Line, extra: Line = {}): Line[] =>
  Array.from({ length: n }, (_, i) => ({ t: i, op: 'create', id: `vm${i + 1}`, flavor, ...extra }));
const traceOf = (lines: Line[]) => parseTrace(lines.map((l) => JSON.stringify(l)).join('\n'));
const config = (name: string, o: Line) => parseConfig(name, JSON.stringify(o));
const hostsOf = (placements: Array<[string, string | null]>) =>
  new Set(placements.flatMap(([, h]) => (h === null ? [] : [h])));

// Exact figures: no reserved RAM, no CPU overcommit.
const exact = { reserved_host_memory_mb: 0, cpu_allocation_ratio: 1.0 };
const STACK = { ...exact, ram_weight_multiplier: -1, cpu_weight_multiplier: -1, disk_weight_multiplier: -1 };
const SPREAD = { ...exact };
// 2 vCPU, 2 GB, 20 GB: a 16-vCPU / 32 GB / 400 GB host takes min(16/2, 32768/2048, 400/20) = min(8, 16, 20) = 8.
const SMALL = { vcpus: 2, memory_mb: 2048, root_gb: 20 };

describe('replay', () => {
  it('stacks 100 identical instances on the fewest hosts that fit them: ceil(100 / 8) = 13', () => {
    const r = replay(fleetOf(20), traceOf(creates(100, SMALL)), config('stack', STACK), { seed: 1 });
    expect(r.result.placed).toBe(100);
    expect(r.result.hosts_used_end).toBe(13);
    expect(r.result.hosts_used_peak).toBe(13);
    // 12 full hosts of 8 and one of 4.
    const per = new Map<string, number>();
    for (const [, h] of r.placements) per.set(h as string, (per.get(h as string) ?? 0) + 1);
    expect([...per.values()].sort((a, b) => b - a)).toEqual([...Array(12).fill(8), 4]);
  });

  it('spreads the same 100 instances over all 20 hosts, 5 each', () => {
    const r = replay(fleetOf(20), traceOf(creates(100, SMALL)), config('spread', SPREAD), { seed: 1 });
    expect(r.result.placed).toBe(100);
    expect(r.result.hosts_used_end).toBe(20);
    const per = new Map<string, number>();
    for (const [, h] of r.placements) per.set(h as string, (per.get(h as string) ?? 0) + 1);
    expect([...per.values()]).toEqual(Array(20).fill(5));
    // 100 × 2048 MB of 20 × 32768 MB; 100 × 2 of 20 × 16 vCPUs; 100 × 20 of 20 × 400 GB.
    expect(r.result.utilization).toEqual({ memory_mb: 0.3125, vcpus: 0.625, disk_gb: 0.25 });
  });

  it('rejects exactly the excess, by RamFilter', () => {
    // 4 GB instances on 16 GB hosts: 4 a host, 20 hosts take 80 of 100.
    const fleet = fleetOf(20, { memory_mb: 16384 });
    const r = replay(fleet, traceOf(creates(100, { vcpus: 1, memory_mb: 4096, root_gb: 10 })), config('x', exact), {
      seed: 1,
    });
    expect(r.result.placed).toBe(80);
    expect(r.result.rejected).toBe(20);
    expect(r.result.rejected_by).toEqual({ RamFilter: 20 });
    expect(r.result.acceptance_rate).toBe(0.8);
    // Every host in use is full: no free RAM at all.
    expect(r.result.utilization.memory_mb).toBe(1);
    expect(r.result.fragmentation).toBe(0);
  });

  it('gives the same placements for the same seed, and other ones for another seed', () => {
    // host_subset_size 5: the pick is random among the best five, so the seed decides.
    const cfg = config('random', { ...SPREAD, host_subset_size: 5 });
    const trace = traceOf(creates(100, SMALL));
    const a = replay(fleetOf(20), trace, cfg, { seed: 7 });
    const b = replay(fleetOf(20), trace, cfg, { seed: 7 });
    const c = replay(fleetOf(20), trace, cfg, { seed: 8 });
    expect(b.placements).toEqual(a.placements);
    expect(c.placements).not.toEqual(a.placements);
  });

  it('releases on delete, and counts and skips a delete of an instance never placed', () => {
    // One host of 4 × 4 GB: vm1..vm4 fill it, vm5 is refused, vm1 leaves, vm6 takes its place.
    const flavor = { vcpus: 1, memory_mb: 4096, root_gb: 10 };
    const lines: Line[] = [
      { t: 0, op: 'delete', id: 'ghost' },
      ...creates(5, flavor),
      { t: 10, op: 'delete', id: 'vm5' },
      { t: 11, op: 'delete', id: 'vm1' },
      { t: 12, op: 'create', id: 'vm6', flavor },
    ];
    const r = replay(fleetOf(1, { memory_mb: 16384 }), traceOf(lines), config('x', exact), { seed: 1 });
    expect(r.result.placed).toBe(5);
    expect(r.result.rejected).toBe(1);
    expect(r.result.deletes_skipped).toBe(2);
    expect(r.placements.at(-1)).toEqual(['vm6', 'h01']);
  });

  it('places a multi-instance create all or nothing, with anti-affinity across hosts', () => {
    const flavor = { vcpus: 1, memory_mb: 1024, root_gb: 1 };
    const group = { group: 'g', group_policy: 'anti-affinity' };
    const r = replay(
      fleetOf(3),
      traceOf([
        { t: 0, op: 'create', id: 'web', flavor, num_instances: 3, ...group },
        { t: 1, op: 'create', id: 'more', flavor, ...group },
      ]),
      config('x', exact),
      { seed: 1 },
    );
    expect(r.placements.slice(0, 3).map(([id]) => id)).toEqual(['web-1', 'web-2', 'web-3']);
    expect(hostsOf(r.placements.slice(0, 3)).size).toBe(3);
    // A fourth member finds every host holding one.
    expect(r.result.rejected_by).toEqual({ ServerGroupAntiAffinityFilter: 1 });
  });

  it('keeps an affinity group on one host and refuses a request naming the other policy', () => {
    const flavor = { vcpus: 1, memory_mb: 1024, root_gb: 1 };
    const r = replay(
      fleetOf(5),
      traceOf([
        ...creates(4, flavor, { group: 'db', group_policy: 'affinity' }),
        { t: 9, op: 'create', id: 'odd', flavor, group: 'db', group_policy: 'anti-affinity' },
      ]),
      config('x', exact),
      { seed: 3 },
    );
    expect(hostsOf(r.placements.slice(0, 4)).size).toBe(1);
    expect(r.result.rejected_by).toEqual({ ServerGroupPolicyConflict: 1 });
  });

  it('honours availability zones and extra specs against host metadata', () => {
    const fleet = [
      ...fleetOf(2).map((h) => ({ ...h, availability_zone: 'az1' })),
      ...fleetOf(2).map((h, i) => ({ ...h, host: `z${i}`, availability_zone: 'az2', metadata: { ssd: 'true' } })),
    ];
    const flavor = { vcpus: 1, memory_mb: 1024, root_gb: 1 };
    const r = replay(
      fleet,
      traceOf([
        ...creates(6, flavor, { availability_zone: 'az1' }),
        { t: 9, op: 'create', id: 'fast', flavor: { ...flavor, extra_specs: { ssd: 'true' } } },
        { t: 9, op: 'create', id: 'nowhere', flavor, availability_zone: 'az3' },
      ]),
      config('x', exact),
      { seed: 1 },
    );
    expect(hostsOf(r.placements.slice(0, 6))).toEqual(new Set(['h01', 'h02']));
    expect(r.placements[6]?.[1]).toMatch(/^z/);
    expect(r.result.rejected_by).toEqual({ AvailabilityZoneFilter: 1 });
  });

  it('measures fragmentation as the free RAM on hosts in use that cannot take one more common instance', () => {
    // Stacking 3 × 3 GB on two 8 GB hosts: 6 GB on one (2 GB free, too little), 3 GB on the other (5 GB free).
    // fragmentation = 2048 / (2048 + 5120) = 0.2857; RAM utilization = 9216 / 16384 = 0.5625.
    const r = replay(
      fleetOf(2, { memory_mb: 8192 }),
      traceOf(creates(3, { vcpus: 1, memory_mb: 3072, root_gb: 1 })),
      config('stack', STACK),
      { seed: 1 },
    );
    expect(r.result.hosts_used_end).toBe(2);
    expect(r.result.fragmentation).toBe(0.2857);
    expect(r.result.utilization.memory_mb).toBe(0.5625);
  });

  it('moves an instance created again (rule 6) instead of counting it twice', () => {
    const flavor = { vcpus: 1, memory_mb: 4096, root_gb: 1 };
    const r = replay(
      fleetOf(1, { memory_mb: 8192 }),
      traceOf([...creates(2, flavor), { t: 5, op: 'create', id: 'vm1', flavor }]),
      config('x', exact),
      { seed: 1 },
    );
    // The host holds 2 × 4 GB: vm1's second create fits only because its first placement moves.
    expect(r.result.rejected).toBe(0);
    expect(r.result.utilization.memory_mb).toBe(1);
  });
});
