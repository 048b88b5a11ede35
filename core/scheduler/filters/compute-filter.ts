import { defineFilter } from './define-filter';

/**
 * ComputeFilter: only live compute nodes — not deleted, not disabled by the
 * operator, and reporting within `service_down_time` (Nova's
 * `compute_filter.py`, which checks the service's disabled flag, then
 * servicegroup liveness; a deleted node never reaches Nova's filters at all).
 */
export const ComputeFilter = defineFilter<undefined, { disabled_reason?: string | null; report_age_s?: number }>({
  name: 'ComputeFilter',
  summary: 'were down, disabled or deleted',
  reasons: {
    deleted: { count: 'were deleted', render: () => 'ComputeFilter: node is deleted' },
    disabled: {
      count: 'were disabled',
      render: (f) => `ComputeFilter: disabled${f.disabled_reason ? ` (${f.disabled_reason})` : ''}`,
    },
    down: {
      count: 'were down',
      render: (f) => `ComputeFilter: down, last report ${Math.round(f.report_age_s ?? 0)} s ago`,
    },
  },
  passes: (host) => !host.deleted && !host.disabled && host.up,
  explain(host) {
    if (host.deleted) return { code: 'deleted', figures: {} };
    if (host.disabled) return { code: 'disabled', figures: { disabled_reason: host.disabled_reason } };
    return { code: 'down', figures: { report_age_s: host.report_age_s } };
  },
});
