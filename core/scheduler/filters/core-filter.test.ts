import { describe, expect, it } from 'vitest';
import { check, makeHost, makeSpec } from '../test-fixtures';
import { CoreFilter } from './core-filter';

// Scenarios from Nova's test_core_filters.py.
// limit = vcpus_total × ratio; pass iff total = 0 or (req ≤ total and limit − used ≥ req).
describe('CoreFilter', () => {
  const cases: {
    name: string;
    req: number;
    total: number;
    used: number;
    ratio: number;
    pass: boolean;
    reason?: string;
  }[] = [
    // limit = 4 × 2 = 8; free = 8 − 7 = 1 ≥ 1
    { name: 'passes a host with one vCPU left under its ratio', req: 1, total: 4, used: 7, ratio: 2, pass: true },
    // vcpus_total 0: Nova assumes CPU collection is broken and passes
    { name: 'passes a host that reports no vCPUs (fail-safe)', req: 1, total: 0, used: 0, ratio: 2, pass: true },
    // free = 8 − 8 = 0 < 1
    {
      name: 'rejects a host with no vCPU left',
      req: 1,
      total: 4,
      used: 8,
      ratio: 2,
      pass: false,
      reason: 'CoreFilter: needs 1 vCPUs, 0 usable of 4 × 2 (8 used)',
    },
    // req 2 > total 1: no overcommit against itself
    {
      name: 'rejects an instance with more vCPUs than the host has',
      req: 2,
      total: 1,
      used: 0,
      ratio: 2,
      pass: false,
      reason: "CoreFilter: needs 2 vCPUs, more than the host's 1 before overcommit",
    },
    // per-node ratio 3 (AggregateCoreFilter default_value): limit = 12; free = 12 − 8 = 4 ≥ 1
    { name: 'passes with a per-node ratio of 3', req: 1, total: 4, used: 8, ratio: 3, pass: true },
    // default ratio 4.0: limit = 32; free = 32 − 30 = 2 < 4
    { name: 'rejects at the default ratio 4.0', req: 4, total: 8, used: 30, ratio: 4, pass: false },
  ];
  it.each(cases)('$name', ({ req, total, used, ratio, pass, reason }) => {
    const host = makeHost({ host: 'host1', vcpus_total: total, vcpus_used: used, cpu_allocation_ratio: ratio });
    const spec = makeSpec({ vcpus: req });
    const r = check(CoreFilter, host, spec);
    expect(r.pass).toBe(pass);
    if (reason) expect(r).toMatchObject({ pass: false, reason });
  });
});
