import { groupsOf } from '../group-index';
import { mayRun } from '../instance-signature';
import { defineFilter } from './define-filter';

/**
 * ServerGroupAffinityFilter: for a group with the `affinity` policy, once any
 * member runs somewhere (or an earlier instance of this request was placed),
 * only the hosts running members pass; before that, every host does (Nova's
 * `affinity_filter.py` _GroupAffinityFilter over `instance_group.hosts`).
 */
export const ServerGroupAffinityFilter = defineFilter({
  name: 'ServerGroupAffinityFilter',
  summary: "did not run the affinity group's members",
  passesAll: (request) => request.groupPolicy !== 'affinity',
  passes: (host, _spec, ctx) =>
    ctx.request.groupPolicy !== 'affinity' ||
    ctx.groupHosts.size === 0 ||
    (mayRun(host, ctx.request.groupBit) && groupsOf(host.instances).has(ctx.request.group as string)),
  explain(_host, _spec, ctx) {
    const hosts = [...ctx.groupHosts];
    const some = hosts.slice(0, 3).join(', ');
    return `ServerGroupAffinityFilter: members of affinity group "${ctx.request.group}" run on ${some}${hosts.length > 3 ? ', …' : ''}, not here`;
  },
});
