import { type Filter, PASS, reject } from '../types';

/**
 * AvailabilityZoneFilter: a request that names a zone only lands on hosts in
 * it; a request without a zone passes everywhere (Nova's
 * `availability_zone_filter.py`). The host's zone is already resolved:
 * operator's setting, else the agent's report, else `default_availability_zone`
 * ("nova") — Nova's aggregate `availability_zone` metadata, else the default.
 */
export const AvailabilityZoneFilter: Filter = {
  name: 'AvailabilityZoneFilter',
  summary: 'were in another availability zone',
  filter(host, _spec, ctx) {
    const wanted = ctx.request.availability_zone;
    if (wanted === null || host.availability_zone === wanted) return PASS;
    return reject(`AvailabilityZoneFilter: host is in zone "${host.availability_zone}", the request wants "${wanted}"`);
  },
};
