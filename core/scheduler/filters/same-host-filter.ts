import { type Filter, PASS, reject } from '../types';

/**
 * SameHostFilter: with a `same_host` hint, only hosts running at least one of
 * the listed instances (Nova's `affinity_filter.py` SameHostFilter).
 */
export const SameHostFilter: Filter = {
  name: 'SameHostFilter',
  summary: 'ran none of the instances in same_host',
  filter(host, _spec, ctx) {
    const wanted = ctx.request.sameHost;
    if (wanted.length === 0) return PASS;
    for (const uuid of wanted) if (host.instances.has(uuid)) return PASS;
    return reject(`SameHostFilter: host runs none of the ${wanted.length} instance(s) in same_host`);
  },
};
