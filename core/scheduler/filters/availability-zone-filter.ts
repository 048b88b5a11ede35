import { defineFilter } from './define-filter';

/**
 * AvailabilityZoneFilter: a request that names a zone only lands on hosts in
 * it; a request without a zone passes everywhere (Nova's
 * `availability_zone_filter.py`). The host's zone is already resolved:
 * operator's setting, else the agent's report, else `default_availability_zone`
 * ("nova") — Nova's aggregate `availability_zone` metadata, else the default.
 */
export const AvailabilityZoneFilter = defineFilter({
  name: 'AvailabilityZoneFilter',
  summary: 'were in another availability zone',
  passesAll: (request) => request.availability_zone === null,
  passes: (host, _spec, ctx) =>
    ctx.request.availability_zone === null || host.availability_zone === ctx.request.availability_zone,
  explain: (host, _spec, ctx) =>
    `AvailabilityZoneFilter: host is in zone "${host.availability_zone}", the request wants "${ctx.request.availability_zone}"`,
});
