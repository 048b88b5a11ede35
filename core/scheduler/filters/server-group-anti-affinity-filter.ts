import { groupsOf } from '../group-index';
import { mayRun } from '../instance-signature';
import { defineFilter } from './define-filter';

/**
 * ServerGroupAntiAffinityFilter: for a group with the `anti-affinity` policy,
 * only hosts that run no member of the group — members being the instances and
 * live claims recorded with that group, plus this request's earlier picks
 * (Nova's `affinity_filter.py` _GroupAntiAffinityFilter, max_server_per_host 1).
 * As in Nova, a host that already runs the very instance being placed passes.
 */
export const ServerGroupAntiAffinityFilter = defineFilter({
  name: 'ServerGroupAntiAffinityFilter',
  summary: 'already ran a member of the anti-affinity group',
  passesAll: (request) => request.groupPolicy !== 'anti-affinity',
  passes: (host, _spec, ctx) =>
    ctx.request.groupPolicy !== 'anti-affinity' ||
    !mayRun(host, ctx.request.groupBit) ||
    host.instances.size === 0 ||
    !groupsOf(host.instances).has(ctx.request.group as string) ||
    host.instances.has(ctx.instanceUuid),
  explain: (_host, _spec, ctx) =>
    `ServerGroupAntiAffinityFilter: host already runs a member of anti-affinity group "${ctx.request.group}"`,
});
