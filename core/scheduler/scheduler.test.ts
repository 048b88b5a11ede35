import { describe, expect, it } from 'vitest';
import { NoValidHostError } from './errors';
import { resolveOptions } from './options';
import { reasonOf } from './reasons';
import { claimAmounts, type Decision, noValidHostError, schedule, scheduleOrThrow } from './scheduler';
import { makeHost, makeSpec, seededRng, uuidFor } from './test-fixtures';
import type { HostState } from './types';

const opts = resolveOptions({});
/** The rejections keyed by host, for readable expectations. */
const byHost = (d: Decision) =>
  Object.fromEntries(
    d.rejections.map((r) => [r.host, { filter: r.filter, reason: reasonOf(r), instance_index: r.instance_index }]),
  );
const rng = seededRng(42);
const antiAffinity = { same_host: [], different_host: [], group: 'g1', group_policy: 'anti-affinity' as const };
const affinity = { same_host: [], different_host: [], group: 'g1', group_policy: 'affinity' as const };

describe('schedule', () => {
  it('picks the best-weighed host and explains every rejection', () => {
    const hosts = [
      makeHost({ host: 'small', memory_mb: 4096, free_ram_mb: 1024 }),
      makeHost({ host: 'big', memory_mb: 65536, free_ram_mb: 60000 }),
      makeHost({ host: 'mid', memory_mb: 16384, free_ram_mb: 8192 }),
      makeHost({ host: 'down', up: false, report_age_s: 120 }),
    ];
    const d = schedule(hosts, makeSpec({ memory_mb: 2048 }), opts, rng);
    expect(d.placed).toBe(true);
    expect(d.picks).toEqual([{ instance_uuid: uuidFor(0, 'aaaaaaaa'), host: 'big', weight: expect.any(Number) }]);
    expect(d.ranking.map((r) => r.host)).toEqual(['big', 'mid']);
    // small: used = 4096 − 1024 = 3072; usable = 4096 − 3072 = 1024 < 2048
    expect(byHost(d)).toEqual({
      small: {
        filter: 'RamFilter',
        reason: 'RamFilter: needs 2048 MB, 1024 MB usable of 4096 MB × 1',
        instance_index: 0,
      },
      down: { filter: 'ComputeFilter', reason: 'ComputeFilter: down, last report 120 s ago', instance_index: 0 },
    });
    expect(d.filter_counts).toEqual({ ComputeFilter: 1, RamFilter: 1 });
    expect(d.summary).toBe(
      '2/4 hosts available: 1 were down, disabled or deleted (ComputeFilter); 1 had insufficient RAM (RamFilter)',
    );
  });

  it('summarizes a NoValidHost by count, largest first, adding up to every host', () => {
    const hosts = [
      ...Array.from({ length: 7 }, (_, i) => makeHost({ host: `full${i}`, memory_mb: 4096, free_ram_mb: 1024 })),
      ...Array.from({ length: 5 }, (_, i) => makeHost({ host: `down${i}`, up: false, report_age_s: 300 })),
    ];
    const d = schedule(hosts, makeSpec({ memory_mb: 2048 }), opts, rng);
    expect(d.placed).toBe(false);
    expect(d.picks).toEqual([]);
    expect(d.summary).toBe(
      '0/12 hosts available: 7 had insufficient RAM (RamFilter); 5 were down, disabled or deleted (ComputeFilter)',
    );
    const err = noValidHostError(d, { decision_id: 'd-1' });
    expect(err).toBeInstanceOf(NoValidHostError);
    expect(err.status).toBe(409);
    expect(err.code).toBe('NoValidHost');
    expect(err.details.filter_counts).toEqual({ ComputeFilter: 5, RamFilter: 7 });
    expect(err.details.hosts.full0).toBe('RamFilter: needs 2048 MB, 1024 MB usable of 4096 MB × 1');
    expect(err.details.decision_id).toBe('d-1');
    expect(err.message).toBe(`No valid host was found. ${d.summary}`);
    expect(() => scheduleOrThrow(hosts, makeSpec({ memory_mb: 2048 }), opts, rng)).toThrow(NoValidHostError);
  });

  it('consumes each pick before the next so that later instances see it', () => {
    // each host fits exactly one 4096 MB instance: usable = 8192 − (8192 − 4096) = 4096
    const hosts = ['a', 'b'].map((host) => makeHost({ host, memory_mb: 8192, free_ram_mb: 4096 }));
    const two = schedule(hosts, makeSpec({ memory_mb: 4096, num_instances: 2 }), opts, rng);
    expect(two.placed).toBe(true);
    expect(new Set(two.picks.map((p) => p.host))).toEqual(new Set(['a', 'b']));

    const three = schedule(hosts, makeSpec({ memory_mb: 4096, num_instances: 3 }), opts, rng);
    expect(three.placed).toBe(false);
    expect(three.picks).toHaveLength(2);
    expect(three.failed).toEqual({ instance_index: 2, instance_uuid: uuidFor(2, 'aaaaaaaa') });
    expect(three.summary).toBe('0/2 hosts available for instance 3 of 3: 2 had insufficient RAM (RamFilter)');
    expect(byHost(three).a?.instance_index).toBeGreaterThan(0);
    expect(three.passes.map((p) => p.candidates)).toEqual([2, 1, 0]);
  });

  it('never mutates the host states it was given', () => {
    const hosts = [makeHost({ host: 'a' })];
    const before = structuredClone(hosts);
    schedule(hosts, makeSpec({ num_instances: 3, scheduler_hints: antiAffinity }), opts, rng);
    expect(hosts).toEqual(before);
  });

  it('consumes RAM, disk with swap, vCPUs, one instance and one I/O op per pick', () => {
    // 4 instances of 1 vCPU on a 4-vCPU host at ratio 1 fit; the 5th does not
    const host = makeHost({ host: 'a', vcpus_total: 4, cpu_allocation_ratio: 1 });
    expect(schedule([host], makeSpec({ num_instances: 4 }), opts, rng).placed).toBe(true);
    const d = schedule([host], makeSpec({ num_instances: 5 }), opts, rng);
    expect(byHost(d).a?.reason).toBe('CoreFilter: needs 1 vCPUs, 0 usable of 4 × 1 (4 used)');
    // 8 I/O ops allowed, each pick adds one: the 9th instance finds the host busy
    const roomy = makeHost({ host: 'b', vcpus_total: 64 });
    const io = schedule([roomy], makeSpec({ num_instances: 9 }), opts, rng);
    expect(byHost(io).b?.reason).toBe('IoOpsFilter: 8 I/O operations in progress, max 8');
    // disk: 10 GB total, 3 GB root + 1024 MB swap = 4096 MB each: two fit (8192), a third does not
    const disk = makeHost({ host: 'c', total_usable_disk_gb: 10 });
    const dd = schedule([disk], makeSpec({ root_gb: 3, swap: 1024, num_instances: 3 }), opts, rng);
    expect(byHost(dd).c?.reason).toBe('DiskFilter: needs 4096 MB, 2048 MB usable of 10240 MB × 1');
  });

  it('spreads an anti-affinity group over distinct hosts, and fails when hosts run out', () => {
    const hosts = ['a', 'b', 'c'].map((host) => makeHost({ host }));
    const d = schedule(hosts, makeSpec({ num_instances: 3, scheduler_hints: antiAffinity }), opts, rng);
    expect(new Set(d.picks.map((p) => p.host)).size).toBe(3);
    const four = schedule(hosts, makeSpec({ num_instances: 4, scheduler_hints: antiAffinity }), opts, rng);
    expect(four.placed).toBe(false);
    expect(four.summary).toBe(
      '0/3 hosts available for instance 4 of 4: 3 already ran a member of the anti-affinity group (ServerGroupAntiAffinityFilter)',
    );
  });

  it('avoids hosts where a claim of the anti-affinity group already sits', () => {
    const hosts = [
      makeHost({ host: 'a', instances: new Map([[uuidFor(9), { group: 'g1' }]]) }),
      makeHost({ host: 'b' }),
    ];
    const d = schedule(hosts, makeSpec({ scheduler_hints: antiAffinity }), opts, rng);
    expect(d.picks[0]?.host).toBe('b');
  });

  it('sees a member added by giving a host a new instances map (spread), as callers do', () => {
    const a = makeHost({ host: 'a' });
    const hosts = [a, makeHost({ host: 'b' })];
    schedule(hosts, makeSpec({ scheduler_hints: antiAffinity }), opts, rng); // memoizes a's (empty) groups
    const marked = { ...a, instances: new Map([...a.instances, ['group:g1', { group: 'g1' }]]) };
    const d = schedule([marked, hosts[1] as HostState], makeSpec({ scheduler_hints: antiAffinity }), opts, rng);
    expect(d.picks[0]?.host).toBe('b');
  });

  it('keeps an affinity group together after its first pick', () => {
    const hosts = ['a', 'b', 'c'].map((host) => makeHost({ host }));
    const d = schedule(hosts, makeSpec({ num_instances: 3, scheduler_hints: affinity }), opts, seededRng(7));
    expect(new Set(d.picks.map((p) => p.host)).size).toBe(1);
  });

  it('skips the filters for forced hosts, but not the resource check', () => {
    const hosts = [
      makeHost({ host: 'Forced', disabled: true }),
      makeHost({ host: 'forced-full', memory_mb: 1024, free_ram_mb: 0 }),
      makeHost({ host: 'other' }),
    ];
    const spec = makeSpec({ memory_mb: 512, force_hosts: ['forced', 'forced-full'] });
    const d = schedule(hosts, spec, opts, rng);
    expect(d.picks[0]?.host).toBe('Forced');
    expect(byHost(d)['forced-full']?.filter).toBe('RamFilter');
    expect(byHost(d).other).toEqual({
      filter: 'force_hosts',
      reason: 'force_hosts: host is not among the forced hosts',
      instance_index: 0,
    });
    expect(d.summary).toBe(
      '1/3 hosts available: 1 were not in force_hosts (force_hosts); 1 had insufficient RAM (RamFilter)',
    );
  });

  it('drops ignored hosts first', () => {
    const hosts = [makeHost({ host: 'a' }), makeHost({ host: 'b' })];
    const d = schedule(hosts, makeSpec({ ignore_hosts: ['A'] }), opts, rng);
    expect(d.picks[0]?.host).toBe('b');
    expect(byHost(d).a?.filter).toBe('ignore_hosts');
  });

  it('never schedules a deleted node, even without ComputeFilter or when forced', () => {
    const hosts = [makeHost({ host: 'gone', deleted: true })];
    const bare = resolveOptions({ enabled_filters: [] });
    expect(schedule(hosts, makeSpec(), bare, rng).placed).toBe(false);
    expect(schedule(hosts, makeSpec({ force_hosts: ['gone'] }), bare, rng).placed).toBe(false);
  });

  it('picks at random among the best host_subset_size hosts', () => {
    // free RAM 16384 > 8192 > 4096 > 2048: weights 1, 0.5, 0.25, 0.125 (plus equal CPU/disk parts)
    const hosts = [16384, 8192, 4096, 2048].map((free, i) =>
      makeHost({ host: `h${i}`, memory_mb: 16384, free_ram_mb: free }),
    );
    const two = resolveOptions({ host_subset_size: 2 });
    const seen = new Set<string>();
    for (let seed = 0; seed < 50; seed++)
      seen.add(schedule(hosts, makeSpec(), two, seededRng(seed)).picks[0]?.host ?? '');
    expect(seen).toEqual(new Set(['h0', 'h1']));
    expect(schedule(hosts, makeSpec(), two, () => 0.999).picks[0]?.host).toBe('h1');
    expect(schedule(hosts, makeSpec(), opts, () => 0.999).picks[0]?.host).toBe('h0');
  });

  it('shuffles hosts tied for the best weight, unless told not to', () => {
    const hosts = Array.from({ length: 8 }, (_, i) => makeHost({ host: `h${i}` }));
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++)
      seen.add(schedule(hosts, makeSpec(), opts, seededRng(seed)).picks[0]?.host ?? '');
    expect(seen.size).toBeGreaterThan(4);
    const stable = resolveOptions({ shuffle_best_same_weighed_hosts: false });
    expect(schedule(hosts, makeSpec(), stable, seededRng(3)).picks[0]?.host).toBe('h0');
  });

  it('limits the ranking when asked', () => {
    const hosts = Array.from({ length: 10 }, (_, i) => makeHost({ host: `h${i}`, free_ram_mb: 1000 * (i + 1) }));
    const d = schedule(hosts, makeSpec(), opts, rng, { rankingLimit: 3 });
    expect(d.ranking.map((r) => r.host)).toEqual(['h9', 'h8', 'h7']);
    expect(schedule(hosts, makeSpec(), opts, rng, { rankingLimit: 0 }).ranking).toEqual([]);
  });

  it('ranks the best few exactly as the full ranking does', () => {
    const rnd = seededRng(9);
    const hosts = Array.from({ length: 300 }, (_, i) =>
      makeHost({ host: `h${i}`, free_ram_mb: Math.floor(rnd() * 8) * 1024, num_io_ops: Math.floor(rnd() * 3) }),
    );
    const full = schedule(hosts, makeSpec(), opts, seededRng(1)).ranking;
    for (const limit of [1, 7, 64, 65, 299]) {
      expect(schedule(hosts, makeSpec(), opts, seededRng(1), { rankingLimit: limit }).ranking).toEqual(
        full.slice(0, limit),
      );
    }
  });

  it('keeps its own rejections when the scheduler runs again before they are read', () => {
    const first = schedule([makeHost({ host: 'a', up: false, report_age_s: 70 })], makeSpec(), opts, rng);
    schedule([makeHost({ host: 'b', disabled: true })], makeSpec(), opts, rng);
    expect(first.rejections).toEqual([
      { host: 'a', filter: 'ComputeFilter', code: 'down', figures: { report_age_s: 70 }, instance_index: 0 },
    ]);
    expect(byHost(first).a?.reason).toBe('ComputeFilter: down, last report 70 s ago');
  });

  it('serializes with its rejections', () => {
    const d = schedule([makeHost({ host: 'a', disabled: true }), makeHost({ host: 'b' })], makeSpec(), opts, rng);
    const json = JSON.parse(JSON.stringify(d));
    expect(json.rejections).toEqual([
      { host: 'a', filter: 'ComputeFilter', code: 'disabled', figures: { disabled_reason: null }, instance_index: 0 },
    ]);
    // The sentence renders from the data as it comes back from JSON.
    expect(reasonOf(json.rejections[0])).toBe('ComputeFilter: disabled');
    expect(json.picks[0].host).toBe('b');
  });

  it('leaves out filters the request gives nothing to check, without changing the verdicts', () => {
    const hosts = [makeHost({ host: 'a', availability_zone: 'az2' }), makeHost({ host: 'b' })];
    const noZone = schedule(hosts, makeSpec(), opts, rng);
    expect(noZone.placed).toBe(true);
    expect(noZone.rejections).toEqual([]);
    const zone = schedule(hosts, makeSpec({ instance_properties: { availability_zone: 'nova' } }), opts, rng);
    expect(byHost(zone).a?.filter).toBe('AvailabilityZoneFilter');
  });

  it('treats an empty fleet as no valid host', () => {
    const d = schedule([], makeSpec(), opts, rng);
    expect(d.placed).toBe(false);
    expect(d.summary).toBe('0/0 hosts available');
  });

  it('reads host names as data, even "__proto__"', () => {
    const d = schedule([makeHost({ host: '__proto__', up: false })], makeSpec(), opts, rng);
    expect(d.rejections.map((r) => r.host)).toEqual(['__proto__']);
    const err = noValidHostError(d);
    expect(Object.keys(err.details.hosts)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(err.details.hosts)).toBe(Object.prototype);
  });
});

describe('claimAmounts', () => {
  it('claims root + ephemeral + swap rounded up to whole GB, with the host limits', () => {
    const host: HostState = makeHost({ host: 'a', ram_allocation_ratio: 1.5 });
    const spec = makeSpec({
      vcpus: 2,
      memory_mb: 2048,
      root_gb: 20,
      ephemeral_gb: 5,
      swap: 1536,
      scheduler_hints: antiAffinity,
    });
    // disk = 20 + 5 + ceil(1536 / 1024) = 27
    expect(claimAmounts(host, spec, uuidFor(1))).toEqual({
      host: 'a',
      instance_uuid: uuidFor(1),
      vcpus: 2,
      memory_mb: 2048,
      disk_gb: 27,
      group: 'g1',
      limits: { memory_mb: 16384 * 1.5, vcpu: 8, disk_gb: 100 },
    });
  });
});
