/**
 * The scheduler's inner loops over hosts, with the built-in filters and
 * weighers called from call sites of their own.
 *
 * Calling `checks[f](host, …)` from one site makes that site megamorphic: V8
 * cannot inline any of the 15 predicates and pays a full call for each filter
 * of each host. Here each built-in predicate has its own (monomorphic) site in
 * a switch, so the small ones inline. The predicates are the filters' own
 * `passes` / `weigh`: the verdicts cannot drift from the registry. Filters and
 * weighers outside the registry still go through the generic call.
 */
import { AggregateInstanceExtraSpecsFilter } from './filters/aggregate-instance-extra-specs-filter';
import { AvailabilityZoneFilter } from './filters/availability-zone-filter';
import { ComputeCapabilitiesFilter } from './filters/compute-capabilities-filter';
import { ComputeFilter } from './filters/compute-filter';
import { CoreFilter } from './filters/core-filter';
import { DifferentHostFilter } from './filters/different-host-filter';
import { DiskFilter } from './filters/disk-filter';
import { ImagePropertiesFilter } from './filters/image-properties-filter';
import { IoOpsFilter } from './filters/io-ops-filter';
import { NumInstancesFilter } from './filters/num-instances-filter';
import { RamFilter } from './filters/ram-filter';
import { RetryFilter } from './filters/retry-filter';
import { SameHostFilter } from './filters/same-host-filter';
import { ServerGroupAffinityFilter } from './filters/server-group-affinity-filter';
import { ServerGroupAntiAffinityFilter } from './filters/server-group-anti-affinity-filter';
import { NO_OVERRIDES } from './node-overrides';
import type { Filter, FilterContext, HostState, RequestSpec, Weigher, WeightMultiplierKey } from './types';
import { CPUWeigher } from './weighers/cpu-weigher';
import { DiskWeigher } from './weighers/disk-weigher';
import { IoOpsWeigher } from './weighers/io-ops-weigher';
import { NumInstancesWeigher } from './weighers/num-instances-weigher';
import { RAMWeigher } from './weighers/ram-weigher';

/** A filter's verdict without its reason. */
export type Check = (host: HostState, spec: RequestSpec, ctx: FilterContext) => boolean;

const checkOf = (f: Filter): Check =>
  f.passes ?? ((h: HostState, r: RequestSpec, c: FilterContext) => f.filter(h, r, c).pass);

// Module constants: each `case` below always calls the same function.
const retry = checkOf(RetryFilter);
const zone = checkOf(AvailabilityZoneFilter);
const compute = checkOf(ComputeFilter);
const ram = checkOf(RamFilter);
const core = checkOf(CoreFilter);
const disk = checkOf(DiskFilter);
const capabilities = checkOf(ComputeCapabilitiesFilter);
const image = checkOf(ImagePropertiesFilter);
const aggregate = checkOf(AggregateInstanceExtraSpecsFilter);
const ioOps = checkOf(IoOpsFilter);
const numInstances = checkOf(NumInstancesFilter);
const sameHost = checkOf(SameHostFilter);
const differentHost = checkOf(DifferentHostFilter);
const antiAffinity = checkOf(ServerGroupAntiAffinityFilter);
const affinity = checkOf(ServerGroupAffinityFilter);

/** Filter → its case below; 0 is "not built in". */
const FILTER_KINDS = new Map<Filter, number>(
  [
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
  ].map((f, i) => [f, i + 1]),
);

/** A filter chain ready for `firstReject`. */
export interface CompiledChain {
  kinds: Uint8Array;
  checks: readonly Check[];
}

export const compileChain = (chain: readonly Filter[]): CompiledChain => ({
  kinds: Uint8Array.from(chain, (f) => FILTER_KINDS.get(f) ?? 0),
  checks: chain.map(checkOf),
});

/** Index of the first filter of `chain` that rejects `h`, or the chain's length when none does. */
export const firstReject = (h: HostState, spec: RequestSpec, ctx: FilterContext, chain: CompiledChain): number => {
  const { kinds, checks } = chain;
  const nf = kinds.length;
  for (let f = 0; f < nf; f++) {
    let ok: boolean;
    switch (kinds[f]) {
      case 1:
        ok = retry(h, spec, ctx);
        break;
      case 2:
        ok = zone(h, spec, ctx);
        break;
      case 3:
        ok = compute(h, spec, ctx);
        break;
      case 4:
        ok = ram(h, spec, ctx);
        break;
      case 5:
        ok = core(h, spec, ctx);
        break;
      case 6:
        ok = disk(h, spec, ctx);
        break;
      case 7:
        ok = capabilities(h, spec, ctx);
        break;
      case 8:
        ok = image(h, spec, ctx);
        break;
      case 9:
        ok = aggregate(h, spec, ctx);
        break;
      case 10:
        ok = ioOps(h, spec, ctx);
        break;
      case 11:
        ok = numInstances(h, spec, ctx);
        break;
      case 12:
        ok = sameHost(h, spec, ctx);
        break;
      case 13:
        ok = differentHost(h, spec, ctx);
        break;
      case 14:
        ok = antiAffinity(h, spec, ctx);
        break;
      case 15:
        ok = affinity(h, spec, ctx);
        break;
      default:
        ok = (checks[f] as Check)(h, spec, ctx);
    }
    if (!ok) return f;
  }
  return nf;
};

const ramWeigh = RAMWeigher.weigh;
const cpuWeigh = CPUWeigher.weigh;
const diskWeigh = DiskWeigher.weigh;
const ioOpsWeigh = IoOpsWeigher.weigh;
const numInstancesWeigh = NumInstancesWeigher.weigh;
const WEIGHER_KINDS = new Map<Weigher, number>(
  [RAMWeigher, CPUWeigher, DiskWeigher, IoOpsWeigher, NumInstancesWeigher].map((w, i) => [w, i + 1]),
);

/** The weighers of a call, ready for `weighHost`. */
export interface CompiledWeighers {
  weighers: readonly Weigher[];
  kinds: Uint8Array;
  keys: readonly WeightMultiplierKey[];
  /** The global multiplier of each weigher (the option, as given). */
  globals: readonly number[];
}

export const compileWeighers = (
  weighers: readonly Weigher[],
  opts: Readonly<Record<WeightMultiplierKey, number>>,
): CompiledWeighers => ({
  weighers,
  kinds: Uint8Array.from(weighers, (w) => WEIGHER_KINDS.get(w) ?? 0),
  keys: weighers.map((w) => w.multiplierKey),
  globals: weighers.map((w) => opts[w.multiplierKey]),
});

/**
 * Every weigher's raw value and multiplier for host `h`, written at `j` of each
 * weigher's column (weigher `wi`'s column starts at `wi × stride` in `raws` and
 * `mults`). The scheduler calls it as soon as a host passes the filters, while
 * the host is still in cache: at 100k hosts, walking them again per weigher is a
 * trip to main memory each time. The multiplier is `weightMultiplier`'s: the
 * node's override, else the global option.
 */
export const weighHost = (
  h: HostState,
  spec: RequestSpec,
  cw: CompiledWeighers,
  raws: Float64Array,
  mults: Float64Array,
  j: number,
  stride: number,
): void => {
  const { weighers, kinds, keys, globals } = cw;
  const nw = kinds.length;
  const overrides = h.weight_multipliers;
  for (let wi = 0; wi < nw; wi++) {
    let raw: number;
    switch (kinds[wi]) {
      case 1:
        raw = ramWeigh(h, spec);
        break;
      case 2:
        raw = cpuWeigh(h, spec);
        break;
      case 3:
        raw = diskWeigh(h, spec);
        break;
      case 4:
        raw = ioOpsWeigh(h, spec);
        break;
      case 5:
        raw = numInstancesWeigh(h, spec);
        break;
      default:
        raw = (weighers[wi] as Weigher).weigh(h, spec);
    }
    const at = wi * stride + j;
    raws[at] = raw;
    const global = globals[wi] as number;
    mults[at] = overrides === NO_OVERRIDES ? global : (overrides[keys[wi] as WeightMultiplierKey] ?? global);
  }
};
