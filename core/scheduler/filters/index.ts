/**
 * Every filter by its Nova name: `enabled_filters` resolves against this
 * registry, and its order is the default chain.
 *
 * ## How to add a filter
 *
 * 1. `filters/<name>-filter.ts`: `export const XFilter = defineFilter<State, Figures>({…})` with
 *    - `name` (Nova's class name) and `summary`, worded to follow a count ("7 had insufficient RAM");
 *    - `reasons`: each rejection code with its `count` phrase and `render(figures)`, the sentence
 *      ("XFilter: needs …, … usable"): the only place that sentence is written;
 *    - `prepare({ spec, hosts, defaultArch })`: what the filter needs from the request, once per
 *      request (Kubernetes' PreFilter state); `idle(state)`: true when that gives it nothing to
 *      check, so the scheduler leaves it out; `picked(state, host)` if its state must learn of the
 *      request's own picks (as the affinity filter's group hosts do);
 *    - `passes(host, state, pass)`: the verdict, allocating nothing (it runs for every host);
 *    - `explain(host, state, pass)`: for a host `passes` rejected, `{ code, figures }`.
 *    A resource filter (its verdict a capacity × ratio check) measures in `resources.ts` and is
 *    built with `defineResourceFilter`, so the claim's bound reads the same measure.
 * 2. `filters/<name>-filter.test.ts`: a table of hosts with the arithmetic in comments, through
 *    `check()` (test-fixtures.ts); filters.property.test.ts covers it by itself via this registry.
 * 3. One line in `REGISTRY` below, where it should run in the default chain. That is all: the
 *    default `enabled_filters`, the name lookup, the NoValidHost counts and sentences
 *    (reasons.ts) and the hot loop's own call site (filter-chain.ts) all follow from it.
 *
 * ## How to add a weigher
 *
 * 1. `weighers/<name>-weigher.ts`: `{ name, multiplierKey, defaultMultiplier, weigh(host, spec) }`
 *    (Nova's `_weigh_object`; optional `minval`/`maxval` for normalization).
 * 2. Its multiplier option: the key in `WeightMultiplierKey` (types.ts) and in
 *    `SchedulerOptionsSchema` (options.ts) with Nova's default, so a bad value fails at cold start.
 * 3. One line in `WEIGHER_REGISTRY` (weighers/index.ts), and the name in `DEFAULT_WEIGHERS` if it is
 *    on by default; a case in weighers.test.ts.
 */
import type { AnyFilter } from '../types';
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

/** Every filter, in the order of Nova's `enabled_filters` default for this project. */
export const REGISTRY: readonly AnyFilter[] = [
  RetryFilter,
  AvailabilityZoneFilter,
  ComputeFilter,
  RamFilter,
  CoreFilter,
  DiskFilter,
  ComputeCapabilitiesFilter,
  ImagePropertiesFilter,
  AggregateInstanceExtraSpecsFilter,
  IoOpsFilter,
  NumInstancesFilter,
  SameHostFilter,
  DifferentHostFilter,
  ServerGroupAntiAffinityFilter,
  ServerGroupAffinityFilter,
];

/** Filter name → filter. */
export const FILTERS: Readonly<Record<string, AnyFilter>> = Object.freeze(
  Object.fromEntries(REGISTRY.map((f) => [f.name, f])),
);

/** The filters that stand in for Placement's resource check; they still run on forced hosts. */
export const PLACEMENT_FILTERS: readonly AnyFilter[] = REGISTRY.filter((f) => f.placement);
