import { fitRam, measureRam } from '../resources';
import { fmt } from './format';
import { defineResourceFilter } from './resource-filter';

/**
 * RamFilter: enough RAM under the host's `ram_allocation_ratio` (Nova ≤ Stein
 * `ram_filter.py` RamFilter, with the per-node ratio of Train's
 * AggregateRamFilter already resolved into `host.ram_allocation_ratio`).
 * The arithmetic is `measureRam`'s (resources.ts).
 */
export const RamFilter = defineResourceFilter({
  name: 'RamFilter',
  summary: 'had insufficient RAM',
  requested: (spec) => spec.instance_type.memory_mb,
  fit: fitRam,
  measure: measureRam,
  reasons: {
    larger_than_host: {
      count: 'asked for more RAM than the host has',
      render: (m) => `RamFilter: needs ${m.requested} MB, more than the host's ${m.capacity} MB before overcommit`,
    },
    insufficient: {
      count: 'had insufficient free RAM',
      render: (m) => `RamFilter: needs ${m.requested} MB, ${fmt(m.usable)} MB usable of ${m.capacity} MB × ${m.ratio}`,
    },
  },
});
