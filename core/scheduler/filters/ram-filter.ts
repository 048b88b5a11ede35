import { defineFilter } from './define-filter';
import { fmt } from './format';

/**
 * RamFilter: enough RAM under the host's `ram_allocation_ratio` (Nova ≤ Stein
 * `ram_filter.py` RamFilter, with the per-node ratio of Train's
 * AggregateRamFilter already resolved into `host.ram_allocation_ratio`).
 *
 *   used   = total − free            (free already net of reserved and claims)
 *   usable = total × ratio − used
 *   passes iff total ≥ requested (no instance overcommits against itself)
 *          and usable ≥ requested
 */
export const RamFilter = defineFilter({
  name: 'RamFilter',
  summary: 'had insufficient RAM',
  passes(host, _spec, ctx) {
    const requested = ctx.request.memory_mb;
    const total = host.memory_mb;
    return total >= requested && total * host.ram_allocation_ratio - (total - host.free_ram_mb) >= requested;
  },
  explain(host, _spec, ctx) {
    const requested = ctx.request.memory_mb;
    const total = host.memory_mb;
    if (total < requested)
      return `RamFilter: needs ${requested} MB, more than the host's ${total} MB before overcommit`;
    const ratio = host.ram_allocation_ratio;
    const usable = total * ratio - (total - host.free_ram_mb);
    return `RamFilter: needs ${requested} MB, ${fmt(usable)} MB usable of ${total} MB × ${ratio}`;
  },
});
