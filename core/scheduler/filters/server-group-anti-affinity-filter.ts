import { type Filter, PASS, reject } from '../types';

/**
 * ServerGroupAntiAffinityFilter: for a group with the `anti-affinity` policy,
 * only hosts that run no member of the group — members being the instances and
 * live claims recorded with that group, plus this request's earlier picks
 * (Nova's `affinity_filter.py` _GroupAntiAffinityFilter, max_server_per_host 1).
 * As in Nova, a host that already runs the very instance being placed passes.
 */
export const ServerGroupAntiAffinityFilter: Filter = {
  name: 'ServerGroupAntiAffinityFilter',
  summary: 'already ran a member of the anti-affinity group',
  filter(host, _spec, ctx) {
    const { group, groupPolicy } = ctx.request;
    if (groupPolicy !== 'anti-affinity' || !ctx.groupHosts.has(host.host)) return PASS;
    if (host.instances.has(ctx.instanceUuid)) return PASS;
    return reject(`ServerGroupAntiAffinityFilter: host already runs a member of anti-affinity group "${group}"`);
  },
};
