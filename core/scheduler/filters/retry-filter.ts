import { sameHostName } from '../host-names';
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
    if (tried.size === 0) return PASS;
    for (const name of tried) {
      if (sameHostName(host.host, name))
        return reject(`RetryFilter: host was already tried (attempt ${ctx.request.numAttempts})`);
    }
    return PASS;
  },
};
