import { describe, expect, it } from 'vitest';
import { check, makeHost, makeSpec } from '../test-fixtures';
import { NumInstancesFilter } from './num-instances-filter';

// Scenarios from Nova's test_num_instances_filters.py; pass iff num_instances < max.
describe('NumInstancesFilter', () => {
  const cases: { name: string; count: number; max: number; pass: boolean }[] = [
    { name: 'passes 4 instances under a max of 5', count: 4, max: 5, pass: true },
    { name: 'rejects 5 instances at a max of 5', count: 5, max: 5, pass: false },
    { name: 'rejects 5 instances over a global max of 4', count: 5, max: 4, pass: false },
    { name: 'passes 5 instances with a per-node max of 6', count: 5, max: 6, pass: true },
  ];
  it.each(cases)('$name', ({ count, max, pass }) => {
    const spec = makeSpec();
    const host = makeHost({ host: 'h', num_instances: count, max_instances_per_host: max });
    expect(check(NumInstancesFilter, host, spec).pass).toBe(pass);
  });

  it('gives the count and the limit', () => {
    const spec = makeSpec();
    expect(check(NumInstancesFilter, makeHost({ host: 'h', num_instances: 50 }), spec)).toMatchObject({
      pass: false,
      reason: 'NumInstancesFilter: 50 instances, max 50',
    });
  });
});
