import { fitVcpus, measureVcpus } from '../resources';
import { fmt } from './format';
import { defineResourceFilter } from './resource-filter';

/**
 * CoreFilter: enough vCPUs under the host's `cpu_allocation_ratio` (Nova ≤ Stein
 * `core_filter.py`, per-node ratio as Train's AggregateCoreFilter). The
 * arithmetic, with Nova's fail-safe for a host reporting no vCPUs, is
 * `measureVcpus`'s (resources.ts).
 */
export const CoreFilter = defineResourceFilter({
  name: 'CoreFilter',
  summary: 'had insufficient vCPUs',
  requested: (spec) => spec.instance_type.vcpus,
  fit: fitVcpus,
  measure: measureVcpus,
  reasons: {
    larger_than_host: {
      count: 'asked for more vCPUs than the host has',
      render: (m) => `CoreFilter: needs ${m.requested} vCPUs, more than the host's ${m.capacity} before overcommit`,
    },
    insufficient: {
      count: 'had insufficient free vCPUs',
      render: (m) =>
        `CoreFilter: needs ${m.requested} vCPUs, ${fmt(m.usable)} usable of ${m.capacity} × ${m.ratio} (${m.used} used)`,
    },
  },
});
