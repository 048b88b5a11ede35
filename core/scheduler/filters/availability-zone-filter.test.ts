import { describe, expect, it } from 'vitest';
import { check, makeHost, makeSpec } from '../test-fixtures';
import { AvailabilityZoneFilter } from './availability-zone-filter';

// Scenarios from Nova's test_availability_zone_filters.py.
describe('AvailabilityZoneFilter', () => {
  const cases: { name: string; hostAz: string; wanted?: string; pass: boolean }[] = [
    { name: 'passes a host in the requested zone', hostAz: 'nova', wanted: 'nova', pass: true },
    { name: 'rejects a host in another zone', hostAz: 'nova', wanted: 'bad', pass: false },
    { name: 'passes every host when the request names no zone', hostAz: 'az2', pass: true },
    { name: 'compares zone names exactly', hostAz: 'AZ1', wanted: 'az1', pass: false },
  ];
  it.each(cases)('$name', ({ hostAz, wanted, pass }) => {
    const spec = makeSpec({ instance_properties: wanted ? { availability_zone: wanted } : {} });
    const r = check(AvailabilityZoneFilter, makeHost({ host: 'h', availability_zone: hostAz }), spec);
    expect(r.pass).toBe(pass);
  });

  it('says which zone the host is in and which one was asked for', () => {
    const spec = makeSpec({ instance_properties: { availability_zone: 'az1' } });
    expect(check(AvailabilityZoneFilter, makeHost({ host: 'h', availability_zone: 'az2' }), spec)).toMatchObject({
      pass: false,
      reason: 'AvailabilityZoneFilter: host is in zone "az2", the request wants "az1"',
    });
  });
});
