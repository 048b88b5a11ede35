import { describe, expect, it } from 'vitest';
import { check, makeHost, makeSpec } from '../test-fixtures';
import { DiskFilter } from './disk-filter';

// Scenarios from Nova's test_disk_filters.py.
// req = (root + ephemeral) × 1024 + swap; total = disk_gb × 1024; usable = total × ratio − (total − free).
describe('DiskFilter', () => {
  const cases: {
    name: string;
    root: number;
    eph: number;
    swap: number;
    totalGb: number;
    freeMb: number;
    ratio: number;
    pass: boolean;
    reason?: string;
  }[] = [
    // req = 2 × 1024 + 512 = 2560; total = 13312; used = 13312 − 11264 = 2048; usable = 11264 ≥ 2560
    {
      name: 'passes when the flavor fits',
      root: 1,
      eph: 1,
      swap: 512,
      totalGb: 13,
      freeMb: 11 * 1024,
      ratio: 1,
      pass: true,
    },
    // req = 11 × 1024 + 1024 = 12288; usable = 11264 < 12288
    {
      name: 'rejects when root + ephemeral + swap exceed what is usable',
      root: 10,
      eph: 1,
      swap: 1024,
      totalGb: 13,
      freeMb: 11 * 1024,
      ratio: 1,
      pass: false,
      reason: 'DiskFilter: needs 12288 MB, 11264 MB usable of 13312 MB × 1',
    },
    // req = 7168; total = 12288; used = 11264; usable = 122880 − 11264 = 111616 ≥ 7168
    {
      name: 'passes an oversubscribed disk within ratio 10',
      root: 3,
      eph: 3,
      swap: 1024,
      totalGb: 12,
      freeMb: 1024,
      ratio: 10,
      pass: true,
    },
    // req = 13312 > total 12288
    {
      name: 'rejects an instance larger than the whole disk whatever the ratio',
      root: 10,
      eph: 2,
      swap: 1024,
      totalGb: 12,
      freeMb: 11 * 1024,
      ratio: 10,
      pass: false,
      reason: "DiskFilter: needs 13312 MB, more than the host's 12288 MB before overcommit",
    },
    // req = 119 × 1024 + 1024 = 122880; used = 1024; usable = 122880 − 1024 = 121856 < 122880
    {
      name: 'rejects past the oversubscription limit',
      root: 100,
      eph: 19,
      swap: 1024,
      totalGb: 12,
      freeMb: 11 * 1024,
      ratio: 10,
      pass: false,
    },
    // AggregateDiskFilter default_value: req = 3 × 1024 + 1024 = 4096; total 4096; used 1024; usable 3072 < 4096
    {
      name: 'rejects at ratio 1 (global)',
      root: 2,
      eph: 1,
      swap: 1024,
      totalGb: 4,
      freeMb: 3 * 1024,
      ratio: 1,
      pass: false,
    },
    // … and with the per-node ratio 2: usable = 8192 − 1024 = 7168 ≥ 4096
    {
      name: 'passes with a per-node ratio of 2',
      root: 2,
      eph: 1,
      swap: 1024,
      totalGb: 4,
      freeMb: 3 * 1024,
      ratio: 2,
      pass: true,
    },
    // disk_available_least negative → free_disk_mb negative: used = 10240 + 2048; usable = 10240 − 12288 < 1024
    {
      name: 'rejects a host whose disks are already overcommitted',
      root: 1,
      eph: 0,
      swap: 0,
      totalGb: 10,
      freeMb: -2048,
      ratio: 1,
      pass: false,
    },
  ];
  it.each(cases)('$name', ({ root, eph, swap, totalGb, freeMb, ratio, pass, reason }) => {
    const host = makeHost({
      host: 'host1',
      total_usable_disk_gb: totalGb,
      free_disk_mb: freeMb,
      disk_allocation_ratio: ratio,
    });
    const spec = makeSpec({ root_gb: root, ephemeral_gb: eph, swap });
    const r = check(DiskFilter, host, spec);
    expect(r.pass).toBe(pass);
    if (reason) expect(r).toMatchObject({ pass: false, reason });
  });
});
