import { defineFilter } from './define-filter';

/**
 * ComputeFilter: only live compute nodes — not deleted, not disabled by the
 * operator, and reporting within `service_down_time` (Nova's
 * `compute_filter.py`, which checks the service's disabled flag, then
 * servicegroup liveness; a deleted node never reaches Nova's filters at all).
 */
export const ComputeFilter = defineFilter({
  name: 'ComputeFilter',
  summary: 'were down, disabled or deleted',
  passes: (host) => !host.deleted && !host.disabled && host.up,
  explain(host) {
    if (host.deleted) return 'ComputeFilter: node is deleted';
    if (host.disabled) return `ComputeFilter: disabled${host.disabled_reason ? ` (${host.disabled_reason})` : ''}`;
    return `ComputeFilter: down, last report ${Math.round(host.report_age_s)} s ago`;
  },
});
