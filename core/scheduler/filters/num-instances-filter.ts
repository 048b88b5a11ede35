import { defineFilter } from './define-filter';

/**
 * NumInstancesFilter: fewer instances than `max_instances_per_host`, or the
 * node's own `max_instances_per_host` metadata (Nova's `num_instances_filter.py`
 * NumInstancesFilter and AggregateNumInstancesFilter in one).
 *
 *   passes iff num_instances < max
 */
export const NumInstancesFilter = defineFilter<undefined, { num_instances: number; max: number }>({
  name: 'NumInstancesFilter',
  summary: 'had too many instances',
  reasons: {
    full: {
      count: 'had too many instances',
      render: (f) => `NumInstancesFilter: ${f.num_instances} instances, max ${f.max}`,
    },
  },
  passes: (host) => host.num_instances < host.max_instances_per_host,
  explain: (host) => ({
    code: 'full',
    figures: { num_instances: host.num_instances, max: host.max_instances_per_host },
  }),
});
