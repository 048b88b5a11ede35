import { defineFilter } from './define-filter';
import { firstRunning, type ListedInstances, listInstances } from './listed-instances';

/**
 * DifferentHostFilter: with a `different_host` hint, only hosts running none of
 * the listed instances (Nova's `affinity_filter.py` DifferentHostFilter).
 */
export const DifferentHostFilter = defineFilter<ListedInstances, { instance_uuid: string }>({
  name: 'DifferentHostFilter',
  summary: 'ran an instance in different_host',
  reasons: {
    runs_listed: {
      count: 'ran an instance in different_host',
      render: (f) => `DifferentHostFilter: host runs instance ${f.instance_uuid} from different_host`,
    },
  },
  prepare: ({ spec }) => listInstances(spec.scheduler_hints.different_host),
  idle: (s) => s.uuids.length === 0,
  passes: (host, s) => s.uuids.length === 0 || firstRunning(host, s) < 0,
  explain: (host, s) => ({
    code: 'runs_listed',
    figures: { instance_uuid: s.uuids[firstRunning(host, s)] ?? '' },
  }),
});
