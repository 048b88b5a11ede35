import { type Filter, PASS, reject } from '../types';

/**
 * RetryFilter: skip hosts already tried for this request (`retry.hosts`), so a
 * reschedule after a failed build goes elsewhere (Nova's `retry_filter.py`).
 * Host names compare case-insensitively.
 */
export const RetryFilter: Filter = {
  name: 'RetryFilter',
  summary: 'were already tried',
  filter(host, _spec, ctx) {
    const tried = ctx.request.retryHosts;
    if (tried.size === 0 || !tried.has(host.host.toLowerCase())) return PASS;
    return reject(`RetryFilter: host was already tried (attempt ${ctx.request.numAttempts})`);
  },
};
