import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../options';
import { schedule } from '../scheduler';
import { makeHost, makeSpec, seededRng } from '../test-fixtures';
import type { HostState } from '../types';
import { CPUWeigher } from './cpu-weigher';
import { DiskWeigher } from './disk-weigher';
import { weightMultiplier } from './index';
import { IoOpsWeigher } from './io-ops-weigher';
import { NumInstancesWeigher } from './num-instances-weigher';
import { RAMWeigher } from './ram-weigher';

/** Weighs `hosts` with one weigher, as Nova's HostWeightHandler does; returns host → weight, best first. */
const weigh = (weigher: string, hosts: HostState[], multipliers: Record<string, number> = {}) => {
  const opts = resolveOptions({ enabled_filters: [], weighers: [weigher], ...multipliers });
  const d = schedule(hosts, makeSpec(), opts, seededRng(1));
  return d.ranking.map((r) => [r.host, r.weight] as const);
};

// Scenarios from Nova's test_weights_ram.py: free RAM 512, 1024, 3072, 8192 (minval 0 → v / 8192).
describe('RAMWeigher', () => {
  const hosts = () =>
    [512, 1024, 3072, 8192].map((free, i) => makeHost({ host: `host${i + 1}`, memory_mb: 8192, free_ram_mb: free }));

  it('spreads by default: the host with most free RAM wins with weight 1', () => {
    expect(weigh('RAMWeigher', hosts())[0]).toEqual(['host4', 1]);
  });
  it('gives every host 0 with multiplier 0', () => {
    expect(weigh('RAMWeigher', hosts(), { ram_weight_multiplier: 0 }).map(([, w]) => w)).toEqual([0, 0, 0, 0]);
  });
  it('scales the winner with multiplier 2', () => {
    expect(weigh('RAMWeigher', hosts(), { ram_weight_multiplier: 2 })[0]).toEqual(['host4', 2]);
  });
  it('normalizes against minval 0: host1 = 512 / 8192 = 0.0625', () => {
    expect(weigh('RAMWeigher', hosts())).toContainEqual(['host1', 0.0625]);
  });
  it('puts a host with negative free RAM last, at 0', () => {
    const all = [...hosts(), makeHost({ host: 'negative', memory_mb: 8192, free_ram_mb: -512 })];
    const ranked = weigh('RAMWeigher', all);
    expect(ranked[0]).toEqual(['host4', 1]);
    expect(ranked.at(-1)).toEqual(['negative', 0]);
  });
  it('reads a per-node multiplier from metadata, the minimum of several, else the global one', () => {
    const withMetadata = (metadata: Record<string, string>) => makeHost({ host: 'h', metadata });
    expect(weightMultiplier(withMetadata({}), RAMWeigher, -1)).toBe(-1);
    expect(weightMultiplier(withMetadata({ ram_weight_multiplier: '2' }), RAMWeigher, -1)).toBe(2);
    expect(weightMultiplier(withMetadata({ ram_weight_multiplier: '2,1.5' }), RAMWeigher, -1)).toBe(1.5);
    expect(weightMultiplier(withMetadata({ ram_weight_multiplier: 'XXX' }), RAMWeigher, -1)).toBe(-1);
    expect(weightMultiplier(withMetadata({ cpu_weight_multiplier: '3' }), RAMWeigher, -1)).toBe(-1);
  });
  it('uses the per-node multiplier in the weight (1.5 overrides −1.0)', () => {
    const all = [512, 1024, 3072, 8192].map((free, i) =>
      makeHost({
        host: `host${i + 1}`,
        memory_mb: 8192,
        free_ram_mb: free,
        metadata: { ram_weight_multiplier: '1.5' },
      }),
    );
    expect(weigh('RAMWeigher', all, { ram_weight_multiplier: -1 })[0]).toEqual(['host4', 1.5]);
  });
});

// Scenarios from Nova's test_weights_cpu.py: free vCPUs = total × ratio − used = 0, 2, 6, 16.
describe('CPUWeigher', () => {
  const hosts = () => [
    makeHost({ host: 'host1', vcpus_total: 8, vcpus_used: 8, cpu_allocation_ratio: 1 }), // 0 free
    makeHost({ host: 'host2', vcpus_total: 4, vcpus_used: 2, cpu_allocation_ratio: 1 }), // 2 free
    makeHost({ host: 'host3', vcpus_total: 6, vcpus_used: 0, cpu_allocation_ratio: 1 }), // 6 free
    makeHost({ host: 'host4', vcpus_total: 8, vcpus_used: 0, cpu_allocation_ratio: 2 }), // 16 free
  ];
  it('computes total × ratio − used', () => {
    expect(CPUWeigher.weigh(hosts()[3] as HostState, makeSpec())).toBe(16);
  });
  it('spreads by default', () => {
    expect(weigh('CPUWeigher', hosts())[0]).toEqual(['host4', 1]);
  });
  it('gives every host 0 with multiplier 0', () => {
    expect(weigh('CPUWeigher', hosts(), { cpu_weight_multiplier: 0 })[0]?.[1]).toBe(0);
  });
  it('scales the winner with multiplier 2', () => {
    expect(weigh('CPUWeigher', hosts(), { cpu_weight_multiplier: 2 })[0]).toEqual(['host4', 2]);
  });
  it('stacks with a negative multiplier: the fullest host wins', () => {
    expect(weigh('CPUWeigher', hosts(), { cpu_weight_multiplier: -1 })[0]?.[0]).toBe('host1');
  });
  it('puts an overcommitted host (−2 free) last at 0', () => {
    const all = [...hosts(), makeHost({ host: 'negative', vcpus_total: 4, vcpus_used: 6, cpu_allocation_ratio: 1 })];
    const ranked = weigh('CPUWeigher', all);
    expect(ranked[0]).toEqual(['host4', 1]);
    expect(ranked.at(-1)).toEqual(['negative', 0]);
  });
});

// Scenarios from Nova's test_weights_disk.py: free disk 512, 1024, 3072, 8192 MB.
describe('DiskWeigher', () => {
  const hosts = () => [512, 1024, 3072, 8192].map((free, i) => makeHost({ host: `host${i + 1}`, free_disk_mb: free }));
  it('spreads by default', () => {
    expect(weigh('DiskWeigher', hosts())[0]).toEqual(['host4', 1]);
  });
  it('scales with multiplier 2', () => {
    expect(weigh('DiskWeigher', hosts(), { disk_weight_multiplier: 2 })[0]).toEqual(['host4', 2]);
  });
  it('puts a host with negative free disk last at 0', () => {
    const ranked = weigh('DiskWeigher', [...hosts(), makeHost({ host: 'negative', free_disk_mb: -512 })]);
    expect(ranked.at(-1)).toEqual(['negative', 0]);
  });
  it('reads free_disk_mb', () => {
    expect(DiskWeigher.weigh(makeHost({ host: 'h', free_disk_mb: 77 }), makeSpec())).toBe(77);
  });
});

// Scenarios from Nova's test_weights_ioopsweight.py: io ops 1, 2, 0, 4.
describe('IoOpsWeigher', () => {
  const hosts = () => [1, 2, 0, 4].map((ops, i) => makeHost({ host: `host${i + 1}`, num_io_ops: ops }));
  it('prefers the quietest host by default (−1.0): host3 with weight 0', () => {
    // host3: −1 × 0/4 = 0; everyone else is negative
    expect(weigh('IoOpsWeigher', hosts())[0]).toEqual(['host3', 0]);
  });
  it('gives every host 0 with multiplier 0', () => {
    expect(weigh('IoOpsWeigher', hosts(), { io_ops_weight_multiplier: 0 })[0]?.[1]).toBe(0);
  });
  it('prefers the busiest host with multiplier 2', () => {
    expect(weigh('IoOpsWeigher', hosts(), { io_ops_weight_multiplier: 2 })[0]).toEqual(['host4', 2]);
  });
  it('has Nova’s default multiplier', () => {
    expect(IoOpsWeigher.defaultMultiplier).toBe(-1);
  });
});

// Scenarios from Nova's test_weights_num_instances.py: instances 2, 5, 4, 10 (no minval: (v − 2) / 8).
describe('NumInstancesWeigher', () => {
  const hosts = () => [2, 5, 4, 10].map((n, i) => makeHost({ host: `host${i + 1}`, num_instances: n }));
  it('has no effect by default (multiplier 0): the first host stays first', () => {
    expect(weigh('NumInstancesWeigher', hosts())[0]).toEqual(['host1', 0]);
  });
  it('packs with a positive multiplier: host4 wins with 2.0', () => {
    expect(weigh('NumInstancesWeigher', hosts(), { num_instances_weight_multiplier: 2 })[0]).toEqual(['host4', 2]);
  });
  it('spreads with a negative multiplier: host1 wins with 0', () => {
    expect(weigh('NumInstancesWeigher', hosts(), { num_instances_weight_multiplier: -2 })[0]).toEqual(['host1', 0]);
  });
  it('normalizes between the fewest and the most instances: host2 = (5 − 2) / 8', () => {
    expect(weigh('NumInstancesWeigher', hosts(), { num_instances_weight_multiplier: 1 })).toContainEqual([
      'host2',
      0.375,
    ]);
  });
  it('has no minval', () => {
    expect(NumInstancesWeigher.minval).toBeUndefined();
  });
});

describe('all weighers together', () => {
  it('sum multiplier × normalized per weigher, and show each part', () => {
    const a = makeHost({ host: 'a', free_ram_mb: 8192, memory_mb: 8192, free_disk_mb: 0, num_io_ops: 4 });
    const b = makeHost({ host: 'b', free_ram_mb: 4096, memory_mb: 8192, free_disk_mb: 10240, num_io_ops: 0 });
    const opts = resolveOptions({ enabled_filters: [] });
    const d = schedule([a, b], makeSpec(), opts, seededRng(1));
    // CPU: both have 8 × 1 − 0 = 8 free; with Nova's minval 0 that is 8/8 = 1 each, not 0
    // a: RAM 8192/8192 = 1 + CPU 1 + disk 0/10240 = 0 − io 4/4 = 1 + instances 0 = 1
    // b: RAM 4096/8192 = 0.5 + CPU 1 + disk 1 − io 0 + 0 = 2.5
    expect(d.ranking.map((r) => [r.host, r.weight])).toEqual([
      ['b', 2.5],
      ['a', 1],
    ]);
    expect(d.ranking[0]?.weighers).toEqual([
      { weigher: 'RAMWeigher', raw: 4096, normalized: 0.5, multiplier: 1, contribution: 0.5 },
      { weigher: 'CPUWeigher', raw: 8, normalized: 1, multiplier: 1, contribution: 1 },
      { weigher: 'DiskWeigher', raw: 10240, normalized: 1, multiplier: 1, contribution: 1 },
      { weigher: 'IoOpsWeigher', raw: 0, normalized: 0, multiplier: -1, contribution: 0 },
      { weigher: 'NumInstancesWeigher', raw: 0, normalized: 0, multiplier: 0, contribution: 0 },
    ]);
  });

  it('does not weigh a lone candidate: its weight is 0, as in Nova', () => {
    const d = schedule([makeHost({ host: 'only' })], makeSpec(), resolveOptions({}), seededRng(1));
    expect(d.picks).toEqual([expect.objectContaining({ host: 'only', weight: 0 })]);
  });
});
