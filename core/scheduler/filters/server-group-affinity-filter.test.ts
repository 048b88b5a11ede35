import { describe, expect, it } from 'vitest';
import { check, makeHost, makeSpec, uuidFor } from '../test-fixtures';
import type { GroupPolicy } from '../types';
import { ServerGroupAffinityFilter } from './server-group-affinity-filter';

// Scenarios from Nova's TestGroupAffinityFilter (affinity part): group hosts = hosts running members.
describe('ServerGroupAffinityFilter', () => {
  const cases: { name: string; policy?: GroupPolicy; memberOn?: 'host1' | 'host2'; pass: boolean }[] = [
    { name: 'passes without a group', memberOn: 'host2', pass: true },
    { name: 'passes for an anti-affinity group', policy: 'anti-affinity', memberOn: 'host2', pass: true },
    { name: 'passes the host that runs members', policy: 'affinity', memberOn: 'host1', pass: true },
    { name: 'passes every host while the group has no members', policy: 'affinity', pass: true },
    { name: 'rejects a host when members run elsewhere', policy: 'affinity', memberOn: 'host2', pass: false },
  ];
  it.each(cases)('$name', ({ policy, memberOn, pass }) => {
    const spec = makeSpec({
      scheduler_hints: policy
        ? { same_host: [], different_host: [], group: 'g1', group_policy: policy }
        : { same_host: [], different_host: [] },
    });
    const member = new Map([[uuidFor(1), { group: 'g1' }]]);
    const h1 = makeHost({ host: 'host1', instances: memberOn === 'host1' ? member : new Map() });
    const h2 = makeHost({ host: 'host2', instances: memberOn === 'host2' ? member : new Map() });
    expect(check(ServerGroupAffinityFilter, h1, spec, [h1, h2]).pass).toBe(pass);
  });

  it('says where the members run', () => {
    const spec = makeSpec({
      scheduler_hints: { same_host: [], different_host: [], group: 'g1', group_policy: 'affinity' },
    });
    const h1 = makeHost({ host: 'host1' });
    const h2 = makeHost({ host: 'host2', instances: new Map([[uuidFor(1), { group: 'g1' }]]) });
    expect(check(ServerGroupAffinityFilter, h1, spec, [h1, h2])).toMatchObject({
      pass: false,
      reason: 'ServerGroupAffinityFilter: members of affinity group "g1" run on host2, not here',
    });
  });
});
