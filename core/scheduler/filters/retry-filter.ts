import { defineFilter } from './define-filter';

/**
 * RetryFilter: skip hosts already tried for this request (`retry.hosts`), so a
 * reschedule after a failed build goes elsewhere (Nova's `retry_filter.py`,
 * which compares host names exactly).
 */
export const RetryFilter = defineFilter<{ tried: ReadonlySet<string>; attempts: number }, { num_attempts: number }>({
  name: 'RetryFilter',
  summary: 'were already tried',
  reasons: {
    tried: {
      count: 'were already tried',
      render: (f) => `RetryFilter: host was already tried (attempt ${f.num_attempts})`,
    },
  },
  prepare: ({ spec }) => ({ tried: new Set(spec.retry?.hosts ?? []), attempts: spec.retry?.num_attempts ?? 0 }),
  idle: (s) => s.tried.size === 0,
  passes: (host, s) => s.tried.size === 0 || !s.tried.has(host.host),
  explain: (_host, s) => ({ code: 'tried', figures: { num_attempts: s.attempts } }),
});
