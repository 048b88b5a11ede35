import { mayRun } from '../instance-signature';
import { defineFilter } from './define-filter';

/**
 * SameHostFilter: with a `same_host` hint, only hosts running at least one of
 * the listed instances (Nova's `affinity_filter.py` SameHostFilter).
 */
export const SameHostFilter = defineFilter({
  name: 'SameHostFilter',
  summary: 'ran none of the instances in same_host',
  passesAll: (request) => request.sameHost.length === 0,
  passes(host, _spec, ctx) {
    const wanted = ctx.request.sameHost;
    if (wanted.length === 0) return true;
    const bits = ctx.request.sameHostBits;
    for (let i = 0; i < wanted.length; i++) {
      if (mayRun(host, bits[i] as number) && host.instances.has(wanted[i] as string)) return true;
    }
    return false;
  },
  explain: (_host, _spec, ctx) =>
    `SameHostFilter: host runs none of the ${ctx.request.sameHost.length} instance(s) in same_host`,
});
