import { type Filter, PASS, reject } from '../types';

/**
 * NumInstancesFilter: fewer instances than `max_instances_per_host`, or the
 * node's own `max_instances_per_host` metadata (Nova's `num_instances_filter.py`
 * NumInstancesFilter and AggregateNumInstancesFilter in one).
 *
 *   passes iff num_instances < max
 */
export const NumInstancesFilter: Filter = {
  name: 'NumInstancesFilter',
  summary: 'had too many instances',
  filter(host) {
    if (host.num_instances < host.max_instances_per_host) return PASS;
    return reject(`NumInstancesFilter: ${host.num_instances} instances, max ${host.max_instances_per_host}`);
  },
};
