import { describe, expect, it } from 'vitest';
import { check, makeHost, makeSpec } from '../test-fixtures';
import { RamFilter } from './ram-filter';

// Scenarios from Nova's test_ram_filters.py (TestRamFilter, TestAggregateRamFilter).
// used = total − free; usable = total × ratio − used; pass iff total ≥ req and usable ≥ req.
describe('RamFilter', () => {
  const cases: {
    name: string;
    req: number;
    total: number;
    free: number;
    ratio: number;
    pass: boolean;
    reason?: string;
  }[] = [
    // used = 1024 − 1023 = 1; usable = 1024 × 1 − 1 = 1023 < 1024
    {
      name: 'rejects a host whose usable RAM is one MB short',
      req: 1024,
      total: 1024,
      free: 1023,
      ratio: 1,
      pass: false,
      reason: 'RamFilter: needs 1024 MB, 1023 MB usable of 1024 MB × 1',
    },
    // used = 0; usable = 1024 ≥ 1024
    { name: 'passes a host with exactly the RAM requested', req: 1024, total: 1024, free: 1024, ratio: 1, pass: true },
    // used = 2048 − (−1024) = 3072; usable = 2048 × 2 − 3072 = 1024 ≥ 1024
    {
      name: 'passes an oversubscribed host within its ratio',
      req: 1024,
      total: 2048,
      free: -1024,
      ratio: 2,
      pass: true,
    },
    // total 512 < 1024: one instance may not overcommit against itself, whatever the ratio
    {
      name: 'rejects an instance larger than the whole host even with a ratio',
      req: 1024,
      total: 512,
      free: 512,
      ratio: 2,
      pass: false,
      reason: "RamFilter: needs 1024 MB, more than the host's 512 MB before overcommit",
    },
    // per-node ratio 2.0 (AggregateRamFilter default_value): used = 1; usable = 2048 − 1 = 2047 ≥ 1024
    {
      name: 'passes with a per-node ratio above the global one',
      req: 1024,
      total: 1024,
      free: 1023,
      ratio: 2,
      pass: true,
    },
    // per-node min of 1.5 and 2.0 → 1.5: usable = 1536 − 1 = 1535 ≥ 1024
    {
      name: 'passes with the smaller of two per-node ratios',
      req: 1024,
      total: 1024,
      free: 1023,
      ratio: 1.5,
      pass: true,
    },
    // used = 4096 − 0 = 4096; usable = 4096 × 1.5 − 4096 = 2048 ≥ 2048
    { name: 'passes a full host whose ratio leaves room', req: 2048, total: 4096, free: 0, ratio: 1.5, pass: true },
    // used = 4096 − (−1024) = 5120; usable = 6144 − 5120 = 1024 < 2048
    {
      name: 'rejects with the numbers of the shortfall',
      req: 2048,
      total: 4096,
      free: -1024,
      ratio: 1.5,
      pass: false,
      reason: 'RamFilter: needs 2048 MB, 1024 MB usable of 4096 MB × 1.5',
    },
  ];
  it.each(cases)('$name', ({ req, total, free, ratio, pass, reason }) => {
    const host = makeHost({ host: 'host1', memory_mb: total, free_ram_mb: free, ram_allocation_ratio: ratio });
    const spec = makeSpec({ memory_mb: req });
    const r = check(RamFilter, host, spec);
    expect(r.pass).toBe(pass);
    if (reason) expect(r).toMatchObject({ pass: false, reason });
  });
});
