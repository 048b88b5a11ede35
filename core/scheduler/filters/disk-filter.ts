import { fitDisk, measureDisk, requestedDiskMb } from '../resources';
import { fmt } from './format';
import { defineResourceFilter } from './resource-filter';

/**
 * DiskFilter: enough local disk under the host's `disk_allocation_ratio`
 * (Nova ≤ Stein `disk_filter.py`, per-node ratio as Train's AggregateDiskFilter).
 *
 *   requested = (root_gb + ephemeral_gb) × 1024 + swap MB
 *
 * The arithmetic is `measureDisk`'s (resources.ts). `free_disk_mb` comes from
 * min(free_disk_gb, disk_available_least), as in Nova's HostState: with sparse
 * (qcow2) images the hypervisor's own estimate of what is left after every disk
 * grows to full size is the stricter figure.
 */
export const DiskFilter = defineResourceFilter({
  name: 'DiskFilter',
  summary: 'had insufficient disk',
  requested: (spec) => requestedDiskMb(spec.instance_type),
  fit: fitDisk,
  measure: measureDisk,
  reasons: {
    larger_than_host: {
      count: 'asked for more disk than the host has',
      render: (m) => `DiskFilter: needs ${m.requested} MB, more than the host's ${m.capacity} MB before overcommit`,
    },
    insufficient: {
      count: 'had insufficient free disk',
      render: (m) => `DiskFilter: needs ${m.requested} MB, ${fmt(m.usable)} MB usable of ${m.capacity} MB × ${m.ratio}`,
    },
  },
});
