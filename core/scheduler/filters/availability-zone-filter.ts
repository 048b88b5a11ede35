import { defineFilter } from './define-filter';

/**
 * AvailabilityZoneFilter: a request that names a zone only lands on hosts in
 * it; a request without a zone passes everywhere (Nova's
 * `availability_zone_filter.py`). The host's zone is already resolved:
 * operator's setting, else the agent's report, else `default_availability_zone`
 * ("nova") — Nova's aggregate `availability_zone` metadata, else the default.
 */
export const AvailabilityZoneFilter = defineFilter<string | null, { host_zone: string; wanted: string }>({
  name: 'AvailabilityZoneFilter',
  summary: 'were in another availability zone',
  reasons: {
    other_zone: {
      count: 'were in another availability zone',
      render: (f) => `AvailabilityZoneFilter: host is in zone "${f.host_zone}", the request wants "${f.wanted}"`,
    },
  },
  prepare: ({ spec }) => spec.instance_properties.availability_zone || null,
  idle: (zone) => zone === null,
  passes: (host, zone) => zone === null || host.availability_zone === zone,
  explain: (host, zone) => ({ code: 'other_zone', figures: { host_zone: host.availability_zone, wanted: zone ?? '' } }),
});
