import { type Filter, PASS, reject } from '../types';

/**
 * ComputeFilter: only live compute nodes — not deleted, not disabled by the
 * operator, and reporting within `service_down_time` (Nova's
 * `compute_filter.py`, which checks the service's disabled flag, then
 * servicegroup liveness; a deleted node never reaches Nova's filters at all).
 */
export const ComputeFilter: Filter = {
  name: 'ComputeFilter',
  summary: 'were down, disabled or deleted',
  filter(host) {
    if (host.deleted) return reject('ComputeFilter: node is deleted');
    if (host.disabled) {
      return reject(`ComputeFilter: disabled${host.disabled_reason ? ` (${host.disabled_reason})` : ''}`);
    }
    if (!host.up) return reject(`ComputeFilter: down, last report ${Math.round(host.report_age_s)} s ago`);
    return PASS;
  },
};
