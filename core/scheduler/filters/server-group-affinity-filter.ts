import type { HostState } from '../types';
import { defineFilter } from './define-filter';
import { type GroupState, groupState, runsMember } from './server-group';

/** The affinity group, and the hosts its members run on (Nova's `instance_group.hosts`), picks included. */
interface AffinityState extends GroupState {
  hosts: Set<string>;
}

/**
 * ServerGroupAffinityFilter: for a group with the `affinity` policy, once any
 * member runs somewhere (or an earlier instance of this request was placed),
 * only the hosts running members pass; before that, every host does (Nova's
 * `affinity_filter.py` _GroupAffinityFilter over `instance_group.hosts`).
 */
export const ServerGroupAffinityFilter = defineFilter<
  AffinityState,
  { group: string; member_hosts: readonly string[]; member_host_count: number }
>({
  name: 'ServerGroupAffinityFilter',
  summary: "did not run the affinity group's members",
  reasons: {
    not_with_members: {
      count: "did not run the affinity group's members",
      render: (f) =>
        `ServerGroupAffinityFilter: members of affinity group "${f.group}" run on ${f.member_hosts.join(', ')}${f.member_host_count > 3 ? ', …' : ''}, not here`,
    },
  },
  // The group's hosts across the fleet ("is there any member anywhere?"): once per request.
  prepare({ spec, hosts }) {
    const s: AffinityState = { ...groupState(spec, 'affinity'), hosts: new Set() };
    if (s.group === null) return s;
    for (let i = 0; i < hosts.length; i++)
      if (runsMember(hosts[i] as HostState, s)) s.hosts.add((hosts[i] as HostState).host);
    return s;
  },
  idle: (s) => s.group === null,
  picked: (s, host) => {
    if (s.group !== null) s.hosts.add(host.host);
  },
  passes: (host, s) => s.group === null || s.hosts.size === 0 || runsMember(host, s),
  explain: (_host, s) => ({
    code: 'not_with_members',
    figures: { group: s.group ?? '', member_hosts: [...s.hosts].slice(0, 3), member_host_count: s.hosts.size },
  }),
});
