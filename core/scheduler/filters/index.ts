/** Every filter by its Nova name: `enabled_filters` resolves against this registry. */
import type { Filter } from '../types';
import { AggregateInstanceExtraSpecsFilter } from './aggregate-instance-extra-specs-filter';
import { AvailabilityZoneFilter } from './availability-zone-filter';
import { ComputeCapabilitiesFilter } from './compute-capabilities-filter';
import { ComputeFilter } from './compute-filter';
import { CoreFilter } from './core-filter';
import { DifferentHostFilter } from './different-host-filter';
import { DiskFilter } from './disk-filter';
import { ImagePropertiesFilter } from './image-properties-filter';
import { IoOpsFilter } from './io-ops-filter';
import { NumInstancesFilter } from './num-instances-filter';
import { RamFilter } from './ram-filter';
import { RetryFilter } from './retry-filter';
import { SameHostFilter } from './same-host-filter';
import { ServerGroupAffinityFilter } from './server-group-affinity-filter';
import { ServerGroupAntiAffinityFilter } from './server-group-anti-affinity-filter';

/** Filter name → filter. */
export const FILTERS: Readonly<Record<string, Filter>> = Object.freeze(
  Object.fromEntries(
    [
      AggregateInstanceExtraSpecsFilter,
      AvailabilityZoneFilter,
      ComputeCapabilitiesFilter,
      ComputeFilter,
      CoreFilter,
      DifferentHostFilter,
      DiskFilter,
      ImagePropertiesFilter,
      IoOpsFilter,
      NumInstancesFilter,
      RamFilter,
      RetryFilter,
      SameHostFilter,
      ServerGroupAffinityFilter,
      ServerGroupAntiAffinityFilter,
    ].map((f) => [f.name, f]),
  ),
);

/** The filters that stand in for Placement's resource check; they still run on forced hosts. */
export const RESOURCE_FILTERS: readonly Filter[] = [RamFilter, CoreFilter, DiskFilter];
