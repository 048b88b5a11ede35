import { type Filter, PASS, reject } from '../types';
import { fmt } from './format';

/**
 * CoreFilter: enough vCPUs under the host's `cpu_allocation_ratio` (Nova ≤ Stein
 * `core_filter.py`, per-node ratio as Train's AggregateCoreFilter).
 *
 *   limit  = vcpus_total × ratio
 *   passes iff vcpus_total = 0 (Nova's fail-safe: "CPU collection broken")
 *          or (requested ≤ vcpus_total and limit − vcpus_used ≥ requested)
 */
export const CoreFilter: Filter = {
  name: 'CoreFilter',
  summary: 'had insufficient vCPUs',
  filter(host, _spec, ctx) {
    const total = host.vcpus_total;
    if (!total) return PASS;
    const requested = ctx.request.vcpus;
    const ratio = host.cpu_allocation_ratio;
    const limit = total * ratio;
    if (limit > 0 && requested > total) {
      return reject(`CoreFilter: needs ${requested} vCPUs, more than the host's ${total} before overcommit`);
    }
    const free = limit - host.vcpus_used;
    if (free < requested) {
      return reject(
        `CoreFilter: needs ${requested} vCPUs, ${fmt(free)} usable of ${total} × ${ratio} (${host.vcpus_used} used)`,
      );
    }
    return PASS;
  },
};
