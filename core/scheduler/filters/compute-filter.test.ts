import { describe, expect, it } from 'vitest';
import { check, makeHost, makeSpec } from '../test-fixtures';
import type { HostState } from '../types';
import { ComputeFilter } from './compute-filter';

// Scenarios from Nova's test_compute_filters.py: disabled, down, up.
describe('ComputeFilter', () => {
  const cases: { name: string; host: Partial<HostState>; reason?: string }[] = [
    { name: 'passes a live, enabled node', host: {} },
    {
      name: 'rejects a node the operator disabled, with the reason given',
      host: { disabled: true, disabled_reason: 'maintenance' },
      reason: 'ComputeFilter: disabled (maintenance)',
    },
    { name: 'rejects a disabled node without a reason', host: { disabled: true }, reason: 'ComputeFilter: disabled' },
    // report 312 s ago > service_down_time 60 s
    {
      name: 'rejects a node not heard from',
      host: { up: false, report_age_s: 312 },
      reason: 'ComputeFilter: down, last report 312 s ago',
    },
    { name: 'rejects a deleted node', host: { deleted: true }, reason: 'ComputeFilter: node is deleted' },
  ];
  it.each(cases)('$name', ({ host, reason }) => {
    const spec = makeSpec();
    const r = check(ComputeFilter, makeHost({ host: 'host1', ...host }), spec);
    expect(r).toMatchObject(reason ? { pass: false, reason } : { pass: true });
  });
});
