/**
 * The shapes the scheduler core works on, after Nova's filter scheduler
 * (`nova/scheduler/host_manager.py` HostState, `nova/objects/request_spec.py`
 * RequestSpec). Names follow Nova so that its filters read the same here.
 */

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

/** One figure a rejection was decided on: a number, a name, a list of names… */
export type Figure = string | number | boolean | null | readonly Figure[];

/** The figures of one rejection, by name (e.g. requested, usable, capacity, ratio). */
export type Figures = Readonly<Record<string, Figure>>;

/**
 * Why a filter turned a host down, as data (after Kubernetes'
 * `InsufficientResource{Requested, Used, Capacity}`): the filter, a code of
 * that filter's `reasons`, and the figures it decided on. Its sentence is
 * rendered by `reasonOf` (reasons.ts) and nowhere else.
 */
export interface Rejection<F extends Figures = Figures> extends Reason<F> {
  filter: string;
}

/** A filter's answer for a host it rejected: one of its codes, and the figures. */
export interface Reason<F extends Figures = Figures> {
  code: string;
  figures: F;
}

/** One code of a filter: how hosts rejected for it add up, and its sentence. */
export interface ReasonTemplate<F extends Figures = Figures> {
  /** Worded to follow a count of hosts: "3 had insufficient free RAM". */
  count: string;
  /** The whole sentence, "RamFilter: needs 2048 MB, 1024 MB usable of 4096 MB × 1.5". */
  render(figures: F): string;
}

/** What a filter may read when it prepares for a request: the request, the fleet, the options. */
export interface FilterRequest {
  spec: RequestSpec;
  hosts: readonly HostState[];
  /** Architecture assumed for images that name none (the option of that name). */
  defaultArch: string | null;
}

/** The pass a host is filtered in: which instance of the request is being placed. */
export interface PassContext {
  /** 0-based index of the instance being placed. */
  index: number;
  /** Its uuid, lower case. */
  instanceUuid: string;
}

/**
 * A host filter (Nova's `BaseHostFilter.host_passes`), pure; build one with
 * `defineFilter`. Like a Kubernetes plugin with its PreFilter state, it
 * prepares its own per-request state `S` once, then judges each host with it.
 * A throw is a bug, never a rejection.
 */
export interface Filter<S = unknown, F extends Figures = Figures> {
  readonly name: string;
  /** Worded to follow a count of hosts: "7 had insufficient RAM". */
  readonly summary: string;
  /** Stands in for Placement's resource check: still runs on forced hosts. */
  readonly placement: boolean;
  /** Its rejection codes. */
  readonly reasons: Readonly<Record<string, ReasonTemplate<F>>>;
  /** Once per request (Kubernetes' PreFilter): what the filter needs from the request. */
  prepare(req: FilterRequest): S;
  /** True when the request gives the filter nothing to check (no hint, no spec…): every host passes. */
  idle(state: S): boolean;
  /** After each pick (Kubernetes' PreFilterExtensions.AddPod): the state learns of it. */
  picked(state: S, host: HostState): void;
  /** The verdict; the scheduler's hot path, so it builds nothing. */
  passes(host: HostState, state: S, pass: PassContext): boolean;
  /** Why `passes` said no; only called for such a host, with the same state. */
  explain(host: HostState, state: S, pass: PassContext): Reason<F>;
}

/** A filter of any state, as the registry and the scheduler hold them. */
// biome-ignore lint/suspicious/noExplicitAny: each filter's state is its own; the scheduler only passes it back.
export type AnyFilter = Filter<any, any>;

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
