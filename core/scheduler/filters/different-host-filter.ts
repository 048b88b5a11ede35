import { mayRun } from '../instance-signature';
import { defineFilter } from './define-filter';

/**
 * DifferentHostFilter: with a `different_host` hint, only hosts running none of
 * the listed instances (Nova's `affinity_filter.py` DifferentHostFilter).
 */
export const DifferentHostFilter = defineFilter({
  name: 'DifferentHostFilter',
  summary: 'ran an instance in different_host',
  passesAll: (request) => request.differentHost.length === 0,
  passes(host, _spec, ctx) {
    const avoid = ctx.request.differentHost;
    const bits = ctx.request.differentHostBits;
    if (avoid.length === 0) return true;
    for (let i = 0; i < avoid.length; i++) {
      if (mayRun(host, bits[i] as number) && host.instances.has(avoid[i] as string)) return false;
    }
    return true;
  },
  explain(host, _spec, ctx) {
    const uuid = ctx.request.differentHost.find((u) => host.instances.has(u));
    return `DifferentHostFilter: host runs instance ${uuid} from different_host`;
  },
});
