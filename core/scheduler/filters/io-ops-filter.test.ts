import { describe, expect, it } from 'vitest';
import { check, makeHost, makeSpec } from '../test-fixtures';
import { IoOpsFilter } from './io-ops-filter';

// Scenarios from Nova's test_io_ops_filters.py; pass iff num_io_ops < max.
describe('IoOpsFilter', () => {
  const cases: { name: string; ops: number; max: number; pass: boolean }[] = [
    { name: 'passes 7 ops under a max of 8', ops: 7, max: 8, pass: true },
    { name: 'rejects 8 ops at a max of 8', ops: 8, max: 8, pass: false },
    { name: 'rejects 7 ops at a global max of 7', ops: 7, max: 7, pass: false },
    { name: 'passes 7 ops with a per-node max of 8', ops: 7, max: 8, pass: true },
  ];
  it.each(cases)('$name', ({ ops, max, pass }) => {
    const spec = makeSpec();
    const host = makeHost({ host: 'h', num_io_ops: ops, max_io_ops_per_host: max });
    expect(check(IoOpsFilter, host, spec).pass).toBe(pass);
  });

  it('gives the count and the limit', () => {
    const spec = makeSpec();
    expect(check(IoOpsFilter, makeHost({ host: 'h', num_io_ops: 9 }), spec)).toMatchObject({
      pass: false,
      reason: 'IoOpsFilter: 9 I/O operations in progress, max 8',
    });
  });
});
