import { type Filter, PASS, reject } from '../types';

/**
 * ServerGroupAffinityFilter: for a group with the `affinity` policy, once any
 * member runs somewhere (or an earlier instance of this request was placed),
 * only the hosts running members pass; before that, every host does (Nova's
 * `affinity_filter.py` _GroupAffinityFilter over `instance_group.hosts`).
 */
export const ServerGroupAffinityFilter: Filter = {
  name: 'ServerGroupAffinityFilter',
  summary: "did not run the affinity group's members",
  filter(host, _spec, ctx) {
    const { group, groupPolicy } = ctx.request;
    const hosts = ctx.groupHosts;
    if (groupPolicy !== 'affinity' || hosts.size === 0 || hosts.has(host.host)) return PASS;
    const some = [...hosts].slice(0, 3).join(', ');
    return reject(
      `ServerGroupAffinityFilter: members of affinity group "${group}" run on ${some}${hosts.size > 3 ? ', …' : ''}, not here`,
    );
  },
};
