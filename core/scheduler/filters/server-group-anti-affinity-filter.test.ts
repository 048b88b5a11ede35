import { describe, expect, it } from 'vitest';
import { check, makeHost, makeSpec, uuidFor } from '../test-fixtures';
import type { GroupPolicy, HostInstance, HostState } from '../types';
import { ServerGroupAntiAffinityFilter } from './server-group-anti-affinity-filter';

const MEMBER = uuidFor(1);

const hostWith = (name: string, instances: [string, HostInstance][]): HostState =>
  makeHost({ host: name, instances: new Map(instances) });

// Scenarios from Nova's TestGroupAffinityFilter (anti-affinity part).
describe('ServerGroupAntiAffinityFilter', () => {
  const cases: {
    name: string;
    policy?: GroupPolicy;
    host1: [string, HostInstance][];
    others?: [string, HostInstance][];
    pass: boolean;
  }[] = [
    { name: 'passes without a group', host1: [[MEMBER, { group: 'g1' }]], pass: true },
    { name: 'passes for an affinity group', policy: 'affinity', host1: [[MEMBER, { group: 'g1' }]], pass: true },
    { name: 'passes when the group has no members', policy: 'anti-affinity', host1: [], pass: true },
    {
      name: 'passes when members run only elsewhere',
      policy: 'anti-affinity',
      host1: [],
      others: [[MEMBER, { group: 'g1' }]],
      pass: true,
    },
    {
      name: 'rejects a host that runs a member',
      policy: 'anti-affinity',
      host1: [[MEMBER, { group: 'g1' }]],
      pass: false,
    },
    { name: "ignores other groups' members", policy: 'anti-affinity', host1: [[MEMBER, { group: 'g2' }]], pass: true },
    {
      name: 'passes a host running the very instance being placed (a move)',
      policy: 'anti-affinity',
      host1: [
        [MEMBER, { group: 'g1' }],
        ['aaaaaaaa-0000-4000-8000-000000000000', { group: 'g1' }],
      ],
      pass: true,
    },
  ];
  it.each(cases)('$name', ({ policy, host1, others, pass }) => {
    const spec = makeSpec({
      scheduler_hints: policy
        ? { same_host: [], different_host: [], group: 'g1', group_policy: policy }
        : { same_host: [], different_host: [] },
    });
    const h1 = hostWith('host1', host1);
    const fleet = [h1, hostWith('host2', others ?? [])];
    expect(check(ServerGroupAntiAffinityFilter, h1, spec, fleet).pass).toBe(pass);
  });
});
