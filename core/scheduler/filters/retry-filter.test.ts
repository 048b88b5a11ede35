import { describe, expect, it } from 'vitest';
import { check, makeHost, makeSpec } from '../test-fixtures';
import { RetryFilter } from './retry-filter';

// Scenarios from Nova's test_retry_filters.py.
describe('RetryFilter', () => {
  const cases: { name: string; host: string; tried?: string[]; pass: boolean }[] = [
    { name: 'passes every host without retry information', host: 'host1', pass: true },
    { name: 'passes a host not tried before', host: 'host3', tried: ['host1', 'host2'], pass: true },
    { name: 'rejects a host already tried', host: 'host1', tried: ['host1'], pass: false },
    { name: 'compares host names exactly, as Nova does', host: 'Host1', tried: ['host1'], pass: true },
  ];
  it.each(cases)('$name', ({ host, tried, pass }) => {
    const spec = makeSpec(tried ? { retry: { num_attempts: 2, hosts: tried } } : {});
    expect(check(RetryFilter, makeHost({ host }), spec).pass).toBe(pass);
  });
});
