import { describe, expect, it } from 'vitest';
import { CoreFilter } from './filters/core-filter';
import { DiskFilter } from './filters/disk-filter';
import { RamFilter } from './filters/ram-filter';
import { claimRoom, measureDisk, measureRam, measureVcpus } from './resources';
import { check, makeHost, makeSpec } from './test-fixtures';
import type { AnyFilter, HostState } from './types';

// The filter's verdict, its reason's figures and the claim's room all come from one measure:
// pass iff fit = 'fits'; the rejection's figures are the measure; the room is its usable,
// so a request the filter passes (and not larger than the host) is one the claim's bound admits.
describe('one measure per resource: verdict, reason and claim room agree', () => {
  const rows: {
    name: string;
    host: Partial<HostState>;
    vcpus: number;
    memory_mb: number;
    root_gb: number;
    swap?: number;
    // expected: [RAM, vCPUs, disk] fits, and the room per resource (claim units)
    fits: [boolean, boolean, boolean];
    room: { memory_mb: number; vcpus: number; disk_gb: number };
  }[] = [
    {
      // RAM: used = 4096 − (−1024) = 5120; usable = 4096 × 1.5 − 5120 = 1024 < 2048
      // vCPUs: usable = 8 × 1 − 6 = 2 ≥ 2; disk: usable = 102400 − 0 = 102400 MB ≥ 10240 → 100 GB
      name: 'overcommitted RAM',
      host: { memory_mb: 4096, free_ram_mb: -1024, ram_allocation_ratio: 1.5, vcpus_used: 6 },
      vcpus: 2,
      memory_mb: 2048,
      root_gb: 10,
      fits: [false, true, true],
      room: { memory_mb: 1024, vcpus: 2, disk_gb: 100 },
    },
    {
      // RAM: usable = 16384 − 0 = 16384; vCPUs: usable = 8 × 4 − 30 = 2 < 3
      // disk: total 20480 MB, used = 20480 − 1536 = 18944, usable = 20480 × 1 − 18944 = 1536 MB
      //       < 1024 + 1024 = 2048 → room ⌊1536 / 1024⌋ = 1 GB
      name: 'vCPUs and disk short',
      host: { vcpus_used: 30, cpu_allocation_ratio: 4, total_usable_disk_gb: 20, free_disk_mb: 1536 },
      vcpus: 3,
      memory_mb: 512,
      root_gb: 1,
      swap: 1024,
      fits: [true, false, false],
      room: { memory_mb: 16384, vcpus: 2, disk_gb: 1 },
    },
    {
      // vCPUs: a host reporting 0 vCPUs passes CoreFilter (Nova's fail-safe, no vCPU limit),
      // so its claims have no vCPU bound either: usable = ∞
      name: 'a host reporting no vCPUs',
      host: { vcpus_total: 0, vcpus_used: 3 },
      vcpus: 4,
      memory_mb: 512,
      root_gb: 1,
      fits: [true, true, true],
      room: { memory_mb: 16384, vcpus: Number.POSITIVE_INFINITY, disk_gb: 100 },
    },
    {
      // RAM: 32768 > the host's 16384: larger than the host whatever the ratio (usable 32768 at ratio 2)
      // vCPUs: 16 > the host's 8 at ratio 4 (usable 32); disk: 200 GB > 100 GB
      name: 'larger than the host',
      host: { ram_allocation_ratio: 2, cpu_allocation_ratio: 4 },
      vcpus: 16,
      memory_mb: 32768,
      root_gb: 200,
      fits: [false, false, false],
      room: { memory_mb: 32768, vcpus: 32, disk_gb: 100 },
    },
  ];
  const resources: [AnyFilter, typeof measureRam, 'memory_mb' | 'vcpus' | 'disk_gb'][] = [
    [RamFilter, measureRam, 'memory_mb'],
    [CoreFilter, measureVcpus, 'vcpus'],
    [DiskFilter, measureDisk, 'disk_gb'],
  ];

  it.each(rows)('$name', ({ host: o, vcpus, memory_mb, root_gb, swap, fits, room }) => {
    const host = makeHost({ host: 'h', ...o });
    const spec = makeSpec({ vcpus, memory_mb, root_gb, swap: swap ?? 0 });
    expect(claimRoom(host)).toEqual(room);
    resources.forEach(([filter, measure, key], r) => {
      const requested = [memory_mb, vcpus, root_gb * 1024 + (swap ?? 0)][r] as number;
      const m = measure(host, requested);
      const v = check(filter, host, spec);
      expect(v.pass).toBe(fits[r]);
      expect(m.fit === 'fits').toBe(fits[r]);
      if (!v.pass) expect(v.rejection).toEqual({ filter: filter.name, code: m.fit, figures: m });
      // The claim's room is the measure's usable (disk in whole GB, as claims count it) …
      expect(room[key]).toBe(key === 'disk_gb' ? Math.floor(m.usable / 1024) : m.usable);
      // … so unless the instance is larger than the host, the filter passes iff the room holds it.
      if (m.fit !== 'larger_than_host') expect(m.usable >= requested).toBe(fits[r]);
    });
  });
});
