import { defineFilter } from './define-filter';
import { firstRunning, type ListedInstances, listInstances } from './listed-instances';

/**
 * SameHostFilter: with a `same_host` hint, only hosts running at least one of
 * the listed instances (Nova's `affinity_filter.py` SameHostFilter).
 */
export const SameHostFilter = defineFilter<ListedInstances, { listed: number }>({
  name: 'SameHostFilter',
  summary: 'ran none of the instances in same_host',
  reasons: {
    none_listed: {
      count: 'ran none of the instances in same_host',
      render: (f) => `SameHostFilter: host runs none of the ${f.listed} instance(s) in same_host`,
    },
  },
  prepare: ({ spec }) => listInstances(spec.scheduler_hints.same_host),
  idle: (s) => s.uuids.length === 0,
  passes: (host, s) => s.uuids.length === 0 || firstRunning(host, s) >= 0,
  explain: (_host, s) => ({ code: 'none_listed', figures: { listed: s.uuids.length } }),
});
