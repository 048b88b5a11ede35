import { type Filter, PASS, reject } from '../types';

/**
 * DifferentHostFilter: with a `different_host` hint, only hosts running none of
 * the listed instances (Nova's `affinity_filter.py` DifferentHostFilter).
 */
export const DifferentHostFilter: Filter = {
  name: 'DifferentHostFilter',
  summary: 'ran an instance in different_host',
  filter(host, _spec, ctx) {
    for (const uuid of ctx.request.differentHost) {
      if (host.instances.has(uuid))
        return reject(`DifferentHostFilter: host runs instance ${uuid} from different_host`);
    }
    return PASS;
  },
};
