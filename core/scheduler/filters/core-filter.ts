import { defineFilter } from './define-filter';
import { fmt } from './format';

/**
 * CoreFilter: enough vCPUs under the host's `cpu_allocation_ratio` (Nova ≤ Stein
 * `core_filter.py`, per-node ratio as Train's AggregateCoreFilter).
 *
 *   limit  = vcpus_total × ratio
 *   passes iff vcpus_total = 0 (Nova's fail-safe: "CPU collection broken")
 *          or (requested ≤ vcpus_total and limit − vcpus_used ≥ requested)
 */
export const CoreFilter = defineFilter({
  name: 'CoreFilter',
  summary: 'had insufficient vCPUs',
  passes(host, _spec, ctx) {
    const total = host.vcpus_total;
    if (!total) return true;
    const requested = ctx.request.vcpus;
    const limit = total * host.cpu_allocation_ratio;
    if (limit > 0 && requested > total) return false;
    return limit - host.vcpus_used >= requested;
  },
  explain(host, _spec, ctx) {
    const total = host.vcpus_total;
    const requested = ctx.request.vcpus;
    const ratio = host.cpu_allocation_ratio;
    const limit = total * ratio;
    if (limit > 0 && requested > total) {
      return `CoreFilter: needs ${requested} vCPUs, more than the host's ${total} before overcommit`;
    }
    return `CoreFilter: needs ${requested} vCPUs, ${fmt(limit - host.vcpus_used)} usable of ${total} × ${ratio} (${host.vcpus_used} used)`;
  },
});
