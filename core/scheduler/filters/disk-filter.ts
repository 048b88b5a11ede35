import { defineFilter } from './define-filter';
import { fmt } from './format';

/**
 * DiskFilter: enough local disk under the host's `disk_allocation_ratio`
 * (Nova ≤ Stein `disk_filter.py`, per-node ratio as Train's AggregateDiskFilter).
 *
 *   requested = (root_gb + ephemeral_gb) × 1024 + swap MB
 *   total     = total_usable_disk_gb × 1024
 *   used      = total − free_disk_mb
 *   usable    = total × ratio − used
 *   passes iff total ≥ requested and usable ≥ requested
 *
 * `free_disk_mb` comes from min(free_disk_gb, disk_available_least), as in
 * Nova's HostState: with sparse (qcow2) images the hypervisor's own estimate of
 * what is left after every disk grows to full size is the stricter figure.
 */
export const DiskFilter = defineFilter({
  name: 'DiskFilter',
  summary: 'had insufficient disk',
  passes(host, _spec, ctx) {
    const requested = ctx.request.disk_mb;
    const total = host.total_usable_disk_gb * 1024;
    return total >= requested && total * host.disk_allocation_ratio - (total - host.free_disk_mb) >= requested;
  },
  explain(host, _spec, ctx) {
    const requested = ctx.request.disk_mb;
    const total = host.total_usable_disk_gb * 1024;
    if (total < requested)
      return `DiskFilter: needs ${requested} MB, more than the host's ${total} MB before overcommit`;
    const ratio = host.disk_allocation_ratio;
    const usable = total * ratio - (total - host.free_disk_mb);
    return `DiskFilter: needs ${requested} MB, ${fmt(usable)} MB usable of ${total} MB × ${ratio}`;
  },
});
