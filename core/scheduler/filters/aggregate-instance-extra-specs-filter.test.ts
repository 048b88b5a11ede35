import { describe, expect, it } from 'vitest';
import { check, makeHost, makeSpec } from '../test-fixtures';
import { AggregateInstanceExtraSpecsFilter } from './aggregate-instance-extra-specs-filter';

// Scenarios from Nova's test_aggregate_instance_extra_specs_filters.py; node metadata plays the aggregates.
describe('AggregateInstanceExtraSpecsFilter', () => {
  const cases: { name: string; metadata: Record<string, string>; specs: Record<string, string>; pass: boolean }[] = [
    { name: 'passes without extra specs', metadata: { opt1: '1' }, specs: {}, pass: true },
    {
      name: 'passes unscoped and scoped specs that match',
      metadata: { opt1: '1', opt2: '2' },
      specs: { opt1: '1', 'aggregate_instance_extra_specs:opt2': '2' },
      pass: true,
    },
    {
      name: 'passes when one of several comma-separated values matches',
      metadata: { opt1: '1,3', opt2: '2' },
      specs: { opt1: '1', 'aggregate_instance_extra_specs:opt1': '3' },
      pass: true,
    },
    {
      name: 'does not blow up on a key equal to the scope',
      metadata: { aggregate_instance_extra_specs: '1' },
      specs: { aggregate_instance_extra_specs: '1' },
      pass: true,
    },
    {
      name: 'rejects a value that does not match',
      metadata: { opt1: '1', opt2: '2' },
      specs: { opt1: '1', opt2: '222' },
      pass: false,
    },
    { name: 'rejects a key absent from the metadata', metadata: {}, specs: { ssd: 'true' }, pass: false },
    {
      name: 'ignores keys of other scopes',
      metadata: {},
      specs: { 'capabilities:cpu_info:arch': 'x86_64', 'hw:cpu_policy': 'x' },
      pass: true,
    },
    {
      name: "does not read inherited properties as metadata ('constructor')",
      metadata: {},
      specs: { constructor: 'x' },
      pass: false,
    },
    {
      name: 'applies the operators',
      metadata: { gpus: '4' },
      specs: { 'aggregate_instance_extra_specs:gpus': '>= 2' },
      pass: true,
    },
  ];
  it.each(cases)('$name', ({ metadata, specs, pass }) => {
    const spec = makeSpec({ extra_specs: specs });
    expect(check(AggregateInstanceExtraSpecsFilter, makeHost({ host: 'h', metadata }), spec).pass).toBe(pass);
  });

  it('names the missing key and the mismatching value', () => {
    const spec = makeSpec({ extra_specs: { ssd: 'true' } });
    expect(check(AggregateInstanceExtraSpecsFilter, makeHost({ host: 'h' }), spec)).toMatchObject({
      pass: false,
      reason: 'AggregateInstanceExtraSpecsFilter: ssd wants "true", node metadata has no ssd',
    });
    expect(
      check(AggregateInstanceExtraSpecsFilter, makeHost({ host: 'h', metadata: { ssd: 'false' } }), spec),
    ).toMatchObject({
      pass: false,
      reason: 'AggregateInstanceExtraSpecsFilter: ssd wants "true", node metadata ssd="false"',
    });
  });
});
