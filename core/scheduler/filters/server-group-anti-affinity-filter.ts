import { defineFilter } from './define-filter';
import { type GroupState, groupState, runsMember } from './server-group';

/**
 * ServerGroupAntiAffinityFilter: for a group with the `anti-affinity` policy,
 * only hosts that run no member of the group — members being the instances and
 * live claims recorded with that group, plus this request's earlier picks
 * (Nova's `affinity_filter.py` _GroupAntiAffinityFilter, max_server_per_host 1).
 * As in Nova, a host that already runs the very instance being placed passes.
 * Each host is asked on its own (group-index.ts), so picks need no bookkeeping here.
 */
export const ServerGroupAntiAffinityFilter = defineFilter<GroupState, { group: string }>({
  name: 'ServerGroupAntiAffinityFilter',
  summary: 'already ran a member of the anti-affinity group',
  reasons: {
    runs_member: {
      count: 'already ran a member of the anti-affinity group',
      render: (f) => `ServerGroupAntiAffinityFilter: host already runs a member of anti-affinity group "${f.group}"`,
    },
  },
  prepare: ({ spec }) => groupState(spec, 'anti-affinity'),
  idle: (s) => s.group === null,
  passes: (host, s, pass) => !runsMember(host, s) || host.instances.has(pass.instanceUuid),
  explain: (_host, s) => ({ code: 'runs_member', figures: { group: s.group ?? '' } }),
});
