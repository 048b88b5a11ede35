/**
 * The shapes the scheduler core works on, after Nova's filter scheduler
 * (`nova/scheduler/host_manager.py` HostState, `nova/objects/request_spec.py`
 * RequestSpec). Names follow Nova so that its filters read the same here.
 */
import type { VersionClause } from './version';

/** What the scheduler knows about one instance on a host: its server group, if any. */
export interface HostInstance {
  group?: string;
}

/** One `(architecture, hypervisor type, vm mode)` triple a host can run (Nova's `supported_instances`). */
export type SupportedInstance = readonly [arch: string, hvType: string, vmMode: string];

/** Oversubscription limits for the host: capacity × allocation ratio (Nova's `HostState.limits`). */
export interface HostLimits {
  memory_mb: number;
  vcpu: number;
  disk_gb: number;
}

/**
 * One compute node as the scheduler sees it: capacity, usage (already minus the
 * live claims), and the per-node settings resolved from its metadata.
 * Mutable figures change only on the scheduler's own copy while it consumes a pick.
 */
export interface HostState {
  host: string;
  nodename: string;
  vcpus_total: number;
  vcpus_used: number;
  /** Total RAM, Nova's `total_usable_ram_mb`. */
  memory_mb: number;
  /** May be negative (overcommitted host). */
  free_ram_mb: number;
  total_usable_disk_gb: number;
  /** min(free_disk_gb, disk_available_least) in MB, minus reserved and claims; may be negative. */
  free_disk_mb: number;
  disk_mb_used: number;
  num_instances: number;
  num_io_ops: number;
  hypervisor_type: string;
  /** Nova encoding: 6.2.0 → 6002000. */
  hypervisor_version: number;
  cpu_info: Readonly<Record<string, unknown>>;
  /** Canonical architecture of the host CPU, or the raw lower-cased name when Nova does not know it. */
  arch: string;
  supported_instances: readonly SupportedInstance[];
  availability_zone: string;
  up: boolean;
  disabled: boolean;
  disabled_reason: string | null;
  deleted: boolean;
  /** Seconds since the last report reached the server (drives `up`). */
  report_age_s: number;
  /** Operator metadata: Nova's host aggregate metadata. */
  metadata: Readonly<Record<string, string>>;
  cpu_allocation_ratio: number;
  ram_allocation_ratio: number;
  disk_allocation_ratio: number;
  max_io_ops_per_host: number;
  max_instances_per_host: number;
  /** Valid `<x>_weight_multiplier` metadata overrides (absent: the global option). */
  weight_multipliers: Readonly<Partial<Record<WeightMultiplierKey, number>>>;
  limits: HostLimits;
  /**
   * Instance uuid (lower case) → group membership; running instances and live
   * claims. The only record of group membership (see group-index.ts).
   */
  instances: Map<string, HostInstance>;
  /** instance-signature.ts: a bit per uuid in `instances`, kept in step with it (absent: not known). */
  instance_sig_lo?: number;
  instance_sig_hi?: number;
}

/** The flavor (Nova's `instance_type`). `swap` is in MB, as in Nova. */
export interface Flavor {
  name: string;
  vcpus: number;
  memory_mb: number;
  root_gb: number;
  ephemeral_gb: number;
  swap: number;
  extra_specs: Readonly<Record<string, string>>;
}

/** Server group policies the filters enforce. */
export type GroupPolicy = 'affinity' | 'anti-affinity';

/** Scheduler hints of the request (Nova's `filter_properties.scheduler_hints`). */
export interface SchedulerHints {
  same_host: readonly string[];
  different_host: readonly string[];
  group?: string;
  group_policy?: GroupPolicy;
}

/** Hosts already tried for this request (Nova's `filter_properties.retry`). */
export interface RetryInfo {
  num_attempts: number;
  hosts: readonly string[];
}

/** One scheduling request: Nova's request_spec and filter_properties, flattened. */
export interface RequestSpec {
  instance_type: Flavor;
  image: { properties: Readonly<Record<string, string>> };
  instance_properties: { availability_zone?: string };
  num_instances: number;
  /** One per instance, in request order. */
  instance_uuids: readonly string[];
  scheduler_hints: SchedulerHints;
  ignore_hosts: readonly string[];
  force_hosts: readonly string[];
  retry?: RetryInfo;
}

/** A filter's verdict on one host. A rejection says why, with numbers. */
export type FilterResult = { pass: true } | { pass: false; reason: string };

/** The one shared pass verdict: filters allocate nothing for a host that passes. */
export const PASS: FilterResult = Object.freeze({ pass: true }) as FilterResult;

/** Builds a rejection. */
export const reject = (reason: string): FilterResult => ({ pass: false, reason });

/** Image properties the ImagePropertiesFilter reads, canonicalized once per request. */
export interface PreparedImage {
  arch: string | null;
  hvType: string | null;
  vmMode: string | null;
  /** The raw `hypervisor_version_requires`, if any. */
  versionRequires: string | null;
  /** Its parsed clauses, or why it does not parse; null without a requirement. */
  version: { clauses: readonly VersionClause[] } | { error: string } | null;
  /** Memo of host version → satisfies, for this request (fleets run few distinct versions). */
  versionMemo: Map<number, boolean>;
  /** Memo of a (shared) supported_instances list → offers the image's properties, for this request. */
  supportMemo: Map<readonly SupportedInstance[], boolean>;
}

/** One extra spec the ComputeCapabilitiesFilter checks: the path into the host state and the requirement. */
export interface CapabilitySpec {
  key: string;
  path: readonly string[];
  req: string;
  /** `req` compiled once (Nova's extra-specs operators). */
  match: ExtraSpecMatcher;
  /** Reads `path[0]` off the host; null when no host has such an attribute. */
  attribute: ((h: HostState) => unknown) | null;
}

/** A compiled extra-spec requirement: whether the host's value (undefined: none) satisfies it. */
export interface ExtraSpecMatcher {
  (value: string | undefined): boolean;
  /** For numeric operators: the same test on a number, without printing and parsing it. */
  number?: (value: number) => boolean;
}

/** One extra spec the AggregateInstanceExtraSpecsFilter checks against node metadata. */
export interface AggregateSpec {
  key: string;
  metadataKey: string;
  req: string;
  /** `req` compiled once (Nova's extra-specs operators). */
  match: ExtraSpecMatcher;
}

/** Per-request values every filter would otherwise recompute per host. */
export interface PreparedRequest {
  vcpus: number;
  memory_mb: number;
  /** (root_gb + ephemeral_gb) × 1024 + swap MB: Nova's DiskFilter request. */
  disk_mb: number;
  availability_zone: string | null;
  image: PreparedImage;
  capabilitySpecs: readonly CapabilitySpec[];
  aggregateSpecs: readonly AggregateSpec[];
  /** Lower-cased uuids. */
  sameHost: readonly string[];
  differentHost: readonly string[];
  /** groupBit of `group` (−1 without a group). */
  groupBit: number;
  /** instanceBit of each, in the same order. */
  sameHostBits: readonly number[];
  differentHostBits: readonly number[];
  group: string | null;
  groupPolicy: GroupPolicy | null;
  /** Host names already tried (exact, as Nova compares them). */
  retryHosts: ReadonlySet<string>;
  numAttempts: number;
}

/** What a filter may read besides the host and the spec; built once per instance placed. */
export interface FilterContext {
  request: PreparedRequest;
  /** The instance being placed in this pass (lower case). */
  instanceUuid: string;
  /**
   * Hosts that run a member of the request's server group (instances or claims),
   * incl. this request's earlier picks. `schedule()` fills it for affinity groups
   * only; anti-affinity asks each host's `instances` (group-index.ts).
   */
  groupHosts: ReadonlySet<string>;
  /** 0-based index of the instance being placed. */
  index: number;
}

/** A host filter (Nova's `BaseHostFilter.host_passes`), pure. A throw is a bug, never a rejection. */
export interface Filter {
  name: string;
  /** Worded to follow a count of hosts: "7 had insufficient RAM". */
  summary: string;
  /** The verdict with its reason. */
  filter(host: HostState, spec: RequestSpec, ctx: FilterContext): FilterResult;
  /** The same verdict without building a reason: the scheduler's hot path. Must agree with `filter`. */
  passes?(host: HostState, spec: RequestSpec, ctx: FilterContext): boolean;
  /** True when this request gives the filter nothing to check (no hint, no spec…): every host passes. */
  passesAll?(request: PreparedRequest): boolean;
}

/** Option names of the weigher multipliers. */
export type WeightMultiplierKey =
  | 'ram_weight_multiplier'
  | 'cpu_weight_multiplier'
  | 'disk_weight_multiplier'
  | 'io_ops_weight_multiplier'
  | 'num_instances_weight_multiplier';

/** A host weigher (Nova's `BaseHostWeigher._weigh_object`), pure. */
export interface Weigher {
  name: string;
  multiplierKey: WeightMultiplierKey;
  /** Nova's default for `multiplierKey`. */
  defaultMultiplier: number;
  /** Nova's `minval`/`maxval`: raw values are clamped to them and normalization uses them; unset → from the hosts. */
  minval?: number;
  maxval?: number;
  weigh(host: HostState, spec: RequestSpec): number;
}
