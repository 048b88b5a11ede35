import { defineFilter } from './define-filter';

/**
 * NumInstancesFilter: fewer instances than `max_instances_per_host`, or the
 * node's own `max_instances_per_host` metadata (Nova's `num_instances_filter.py`
 * NumInstancesFilter and AggregateNumInstancesFilter in one).
 *
 *   passes iff num_instances < max
 */
export const NumInstancesFilter = defineFilter({
  name: 'NumInstancesFilter',
  summary: 'had too many instances',
  passes: (host) => host.num_instances < host.max_instances_per_host,
  explain: (host) => `NumInstancesFilter: ${host.num_instances} instances, max ${host.max_instances_per_host}`,
});
