import { defineFilter } from './define-filter';

/**
 * RetryFilter: skip hosts already tried for this request (`retry.hosts`), so a
 * reschedule after a failed build goes elsewhere (Nova's `retry_filter.py`,
 * which compares host names exactly).
 */
export const RetryFilter = defineFilter({
  name: 'RetryFilter',
  summary: 'were already tried',
  passesAll: (request) => request.retryHosts.size === 0,
  passes: (host, _spec, ctx) => ctx.request.retryHosts.size === 0 || !ctx.request.retryHosts.has(host.host),
  explain: (_host, _spec, ctx) => `RetryFilter: host was already tried (attempt ${ctx.request.numAttempts})`,
});
