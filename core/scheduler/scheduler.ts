/**
 * The filter scheduler, after Nova's `filter_scheduler.py` (_schedule,
 * _get_sorted_hosts, _consume_selected_host) and `host_manager.py`
 * (get_filtered_hosts): for each instance, filter → weigh → pick among the
 * best `host_subset_size` → consume the pick in memory, so later instances of
 * the same request (and their anti-affinity) see it. Pure: the caller's host
 * states are never mutated, randomness comes from `rng`.
 *
 * Unlike Nova, the decision keeps, for every host, the first filter that
 * rejected it and why, and each survivor's weigher breakdown.
 */
import { groupHostsOf, prepareRequest } from './context';
import { NoValidHostError } from './errors';
import { ComputeFilter } from './filters/compute-filter';
import { FILTERS, RESOURCE_FILTERS } from './filters/index';
import type { ResolvedOptions } from './options';
import type { Filter, FilterContext, HostLimits, HostState, RequestSpec } from './types';
import { weightMultiplier } from './weighers/index';
import { normalizeInPlace } from './weighers/normalize';

/** One weigher's part in a host's weight. */
export interface WeigherContribution {
  weigher: string;
  raw: number;
  /** In [0, 1] against the candidates' range (0 when all are equal or only one host is left). */
  normalized: number;
  multiplier: number;
  /** multiplier × normalized. */
  contribution: number;
}

/** A surviving host with its weight, best first. */
export interface RankedHost {
  host: string;
  weight: number;
  weighers: WeigherContribution[];
}

/** Why a host dropped out: the first filter that rejected it, for the instance being placed then. */
export interface HostRejection {
  host: string;
  filter: string;
  reason: string;
  /** 0-based index of the instance whose pass rejected the host. */
  instance_index: number;
}

/** One placement. */
export interface SchedulePick {
  instance_uuid: string;
  host: string;
  weight: number;
}

/** One pass of filter → weigh → pick, per instance. */
export interface SchedulePass {
  instance_uuid: string;
  /** Hosts that passed every filter for this instance. */
  candidates: number;
  host: string | null;
}

/** Everything the scheduler decided and why. */
export interface Decision {
  /** True when every instance was placed. */
  placed: boolean;
  hosts_considered: number;
  /** In request order; shorter than num_instances when not placed. */
  picks: SchedulePick[];
  /** Each rejected host once, with its first rejection, in fleet order. Hosts absent survived every pass. */
  rejections: HostRejection[];
  /** Filter → hosts it rejected (each host once). Sums with the survivors to hosts_considered. */
  filter_counts: Record<string, number>;
  /** The first instance's candidates, best first, each with its weigher breakdown. */
  ranking: RankedHost[];
  passes: SchedulePass[];
  /** "0/12 hosts available: 7 had insufficient RAM (RamFilter); 5 were down, disabled or deleted (ComputeFilter)". */
  summary: string;
  /** The instance that found no host, when not placed. */
  failed?: { instance_index: number; instance_uuid: string };
}

/** Knobs of one call. */
export interface ScheduleOptions {
  /** How many of the first instance's candidates get a weigher breakdown in `ranking` (default: all). */
  rankingLimit?: number;
}

/** Pseudo-filters applied before the filters, as Nova's host manager does. */
const IGNORE_HOSTS = 'ignore_hosts';
const FORCE_HOSTS = 'force_hosts';
const PRE_SUMMARIES: Readonly<Record<string, string>> = {
  [IGNORE_HOSTS]: 'were in ignore_hosts',
  [FORCE_HOSTS]: 'were not in force_hosts',
};

const summaryOf = (filter: string): string =>
  PRE_SUMMARIES[filter] ?? (Object.hasOwn(FILTERS, filter) ? FILTERS[filter]?.summary : undefined) ?? 'were rejected';

/**
 * Filter → count, largest count first, ties in the order the filters ran
 * (`ranks`: the pre-filters, then the configured chain).
 */
const orderCounts = (counts: Map<string, number>, ranks: ReadonlyMap<string, number>): [string, number][] =>
  [...counts.entries()].sort((a, b) => b[1] - a[1] || (ranks.get(a[0]) ?? 99) - (ranks.get(b[0]) ?? 99));

/** "7 had insufficient RAM (RamFilter); 5 were down, disabled or deleted (ComputeFilter)". */
const describeCounts = (ordered: [string, number][]): string =>
  ordered.map(([filter, count]) => `${count} ${summaryOf(filter)} (${filter})`).join('; ');

/** Copy of a host that the scheduler may consume from without touching the caller's. */
const cloneHost = (h: HostState): HostState => ({ ...h, instances: new Map(h.instances), groups: new Set(h.groups) });

/**
 * Nova's consume_from_request: the pick's resources go down, one more instance
 * and one more I/O operation, and the instance joins the host (with its group).
 * Disk includes swap, as the DiskFilter request and the claim do (Nova's
 * consume_from_request leaves swap out).
 */
const consume = (h: HostState, spec: RequestSpec, diskMb: number, uuid: string, group: string | null): void => {
  h.free_ram_mb -= spec.instance_type.memory_mb;
  h.free_disk_mb -= diskMb;
  h.disk_mb_used += diskMb;
  h.vcpus_used += spec.instance_type.vcpus;
  h.num_instances += 1;
  h.num_io_ops += 1;
  h.instances.set(uuid, group === null ? {} : { group });
  if (group !== null) (h.groups as Set<string>).add(group);
};

/** Fisher–Yates over `a[0..n)` with `rng`. */
const shuffle = (a: Int32Array | number[], n: number, rng: () => number): void => {
  for (let i = n - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(rng() * (i + 1)));
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
};

/**
 * Places `spec.num_instances` instances on `hosts`. Never throws for a request
 * that fits nowhere: the decision says `placed: false` and why (see
 * `noValidHostError`).
 */
export const schedule = (
  hosts: readonly HostState[],
  spec: RequestSpec,
  opts: ResolvedOptions,
  rng: () => number,
  options: ScheduleOptions = {},
): Decision => {
  const n = hosts.length;
  const request = prepareRequest(spec, opts);
  const weighers = opts.resolved.weighers;
  const rankingLimit = options.rankingLimit ?? Number.POSITIVE_INFINITY;
  const state: HostState[] = hosts.slice();
  const cloned = new Uint8Array(n);
  const group = request.group;
  const groupHosts = groupHostsOf(hosts, group);

  // First rejection per host, in parallel arrays: no object per host until the decision is built.
  const rejectedBy = new Array<string | undefined>(n).fill(undefined);
  const reasons = new Array<string>(n).fill('');
  const rejectedAt = new Int32Array(n);
  const counts = new Map<string, number>();
  const rejectHost = (i: number, filter: string, reason: string, index: number): void => {
    rejectedBy[i] = filter;
    reasons[i] = reason;
    rejectedAt[i] = index;
    counts.set(filter, (counts.get(filter) ?? 0) + 1);
  };

  // Nova's host manager: ignore_hosts first, then force_hosts; both by host name, case-insensitively.
  // A forced host skips the filters (Nova) but not the resource check that Placement
  // would still make, and a deleted node is never a candidate.
  const ignore = new Set(spec.ignore_hosts.map((h) => h.toLowerCase()));
  const force = new Set(spec.force_hosts.map((h) => h.toLowerCase()));
  const chain: readonly Filter[] = force.size > 0 ? RESOURCE_FILTERS : opts.resolved.filters;
  let candidates = new Int32Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const h = hosts[i] as HostState;
    if (h.deleted) rejectHost(i, ComputeFilter.name, 'ComputeFilter: node is deleted', 0);
    else if (ignore.size > 0 && ignore.has(h.host.toLowerCase())) {
      rejectHost(i, IGNORE_HOSTS, 'ignore_hosts: host is listed in ignore_hosts', 0);
    } else if (force.size > 0 && !force.has(h.host.toLowerCase())) {
      rejectHost(i, FORCE_HOSTS, 'force_hosts: host is not among the forced hosts', 0);
    } else candidates[m++] = i;
  }

  const total = new Float64Array(n);
  const work = new Float64Array(n);
  const survivors = new Int32Array(n);
  const picks: SchedulePick[] = [];
  const passes: SchedulePass[] = [];
  let ranking: RankedHost[] = [];
  let failed: Decision['failed'];

  for (let k = 0; k < spec.num_instances; k++) {
    const uuid = (spec.instance_uuids[k] ?? '').toLowerCase();
    const ctx: FilterContext = { request, instanceUuid: uuid, groupHosts, index: k };

    // Filter. Consumption only ever shrinks what a host offers, so a host
    // rejected for one instance is never reconsidered for the next.
    let s = 0;
    for (let c = 0; c < m; c++) {
      const i = candidates[c] as number;
      const h = state[i] as HostState;
      let passed = true;
      for (const f of chain) {
        const r = f.filter(h, spec, ctx);
        if (!r.pass) {
          rejectHost(i, f.name, r.reason, k);
          passed = false;
          break;
        }
      }
      if (passed) survivors[s++] = i;
    }
    passes.push({ instance_uuid: spec.instance_uuids[k] ?? '', candidates: s, host: null });
    if (s === 0) {
      failed = { instance_index: k, instance_uuid: spec.instance_uuids[k] ?? '' };
      m = 0;
      break;
    }

    // Weigh (Nova's get_weighed_objects: a lone host is not weighed, its weight is 0).
    total.fill(0, 0, s);
    const detail = k === 0 && rankingLimit > 0;
    const nw = weighers.length;
    // Pass 0 keeps every weigher's raw, normalized and multiplier per host for the ranking.
    const raws = detail ? new Float64Array(nw * s) : undefined;
    const norms = detail ? new Float64Array(nw * s) : undefined;
    const mults = detail ? new Float64Array(nw * s) : undefined;
    for (let wi = 0; wi < nw; wi++) {
      const w = weighers[wi] as (typeof weighers)[number];
      for (let j = 0; j < s; j++) work[j] = w.weigh(state[survivors[j] as number] as HostState, spec);
      if (raws) raws.set(work.subarray(0, s), wi * s);
      if (s > 1) normalizeInPlace(work, s, w.minval, w.maxval);
      else work[0] = 0;
      if (norms) norms.set(work.subarray(0, s), wi * s);
      const global = opts[w.multiplierKey];
      for (let j = 0; j < s; j++) {
        const mult = weightMultiplier(state[survivors[j] as number] as HostState, w, global);
        if (mults) mults[wi * s + j] = mult;
        total[j] = (total[j] as number) + mult * (work[j] as number);
      }
    }
    if (raws && norms && mults) {
      ranking = rankSurvivors(s, total, rankingLimit, (j, weight) => ({
        host: (state[survivors[j] as number] as HostState).host,
        weight,
        weighers: weighers.map((w, wi) => {
          const normalized = norms[wi * s + j] as number;
          const multiplier = mults[wi * s + j] as number;
          return {
            weigher: w.name,
            raw: raws[wi * s + j] as number,
            normalized,
            multiplier,
            // `+ 0` turns −0 (a negative multiplier times 0) into 0.
            contribution: multiplier * normalized + 0,
          };
        }),
      }));
    }

    // Select: shuffle the hosts tied for best, then pick at random among the top host_subset_size.
    const pickAt = selectHost(total, s, opts.host_subset_size, opts.shuffle_best_same_weighed_hosts, rng);
    const i = survivors[pickAt] as number;
    if (!cloned[i]) {
      state[i] = cloneHost(state[i] as HostState);
      cloned[i] = 1;
    }
    const picked = state[i] as HostState;
    consume(picked, spec, request.disk_mb, uuid, group);
    if (group !== null) groupHosts.add(picked.host);
    picks.push({
      instance_uuid: spec.instance_uuids[k] ?? '',
      host: picked.host,
      weight: (total[pickAt] as number) + 0,
    });
    (passes[k] as SchedulePass).host = picked.host;

    const next = candidates;
    next.set(survivors.subarray(0, s));
    candidates = next;
    m = s;
  }

  const rejections: HostRejection[] = [];
  for (let i = 0; i < n; i++) {
    const filter = rejectedBy[i];
    if (filter !== undefined) {
      rejections.push({
        host: (hosts[i] as HostState).host,
        filter,
        reason: reasons[i] as string,
        instance_index: rejectedAt[i] as number,
      });
    }
  }
  const placed = failed === undefined;
  const available = placed ? m : 0;
  const scope =
    spec.num_instances <= 1
      ? ''
      : placed
        ? ` after placing ${spec.num_instances} instances`
        : ` for instance ${(failed?.instance_index ?? 0) + 1} of ${spec.num_instances}`;
  const ranks = new Map<string, number>([IGNORE_HOSTS, FORCE_HOSTS, ...chain.map((f) => f.name)].map((f, r) => [f, r]));
  if (!ranks.has(ComputeFilter.name)) ranks.set(ComputeFilter.name, -1);
  const ordered = orderCounts(counts, ranks);
  const parts = describeCounts(ordered);
  return {
    placed,
    hosts_considered: n,
    picks,
    rejections,
    filter_counts: Object.fromEntries(ordered),
    ranking,
    passes,
    summary: `${available}/${n} hosts available${scope}${parts ? `: ${parts}` : ''}`,
    ...(failed ? { failed } : {}),
  };
};

/**
 * The first `limit` survivors by weight (desc; ties keep fleet order, as
 * Python's stable sort). A short ranking is kept by insertion instead of
 * sorting every survivor.
 */
const rankSurvivors = (
  s: number,
  total: Float64Array,
  limit: number,
  make: (j: number, weight: number) => RankedHost,
): RankedHost[] => {
  const before = (a: number, b: number): boolean =>
    (total[a] as number) > (total[b] as number) || (total[a] === total[b] && a < b);
  let order: number[];
  if (limit >= s || limit > 64) {
    order = Array.from({ length: s }, (_, j) => j);
    order.sort((a, b) => (before(a, b) ? -1 : 1));
  } else {
    order = [];
    for (let j = 0; j < s; j++) {
      if (order.length === limit && !before(j, order[limit - 1] as number)) continue;
      let at = order.length < limit ? order.length : limit - 1;
      while (at > 0 && before(j, order[at - 1] as number)) {
        order[at] = order[at - 1] as number;
        at--;
      }
      order[at] = j;
    }
  }
  const out: RankedHost[] = [];
  for (let r = 0; r < Math.min(limit, s); r++) {
    const j = order[r] as number;
    out.push(make(j, (total[j] as number) + 0));
  }
  return out;
};

/**
 * Nova's _get_sorted_hosts selection without sorting everyone: the hosts tied
 * for the best weight (shuffled when asked), then the next best, up to
 * `subsetSize`; one of those at random. Returns the survivor's position.
 */
const selectHost = (
  total: Float64Array,
  s: number,
  subsetSize: number,
  shuffleBest: boolean,
  rng: () => number,
): number => {
  let best = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < s; j++) if ((total[j] as number) > best) best = total[j] as number;
  const top: number[] = [];
  for (let j = 0; j < s; j++) if (total[j] === best) top.push(j);
  // Only NaN weights (a broken weigher input): treat everyone as tied rather than fail.
  if (top.length === 0) for (let j = 0; j < s; j++) top.push(j);
  if (shuffleBest) shuffle(top, top.length, rng);
  if (top.length < subsetSize) {
    const rest: number[] = [];
    for (let j = 0; j < s; j++) if (total[j] !== best) rest.push(j);
    rest.sort((a, b) => (total[b] as number) - (total[a] as number) || a - b);
    for (const j of rest) {
      if (top.length >= subsetSize) break;
      top.push(j);
    }
  }
  const subset = Math.min(subsetSize, top.length);
  return top[Math.min(subset - 1, Math.floor(rng() * subset))] as number;
};

/** What the atomic claim for one pick reserves, and the limits it must respect. */
export interface ClaimAmounts {
  host: string;
  instance_uuid: string;
  vcpus: number;
  memory_mb: number;
  /** root_gb + ephemeral_gb + ceil(swap MB / 1024). */
  disk_gb: number;
  group?: string;
  /** capacity × allocation ratio of the host. */
  limits: HostLimits;
}

/** The claim for placing `instanceUuid` of `spec` on `host`. */
export const claimAmounts = (host: HostState, spec: RequestSpec, instanceUuid: string): ClaimAmounts => {
  const f = spec.instance_type;
  const group = spec.scheduler_hints.group;
  return {
    host: host.host,
    instance_uuid: instanceUuid,
    vcpus: f.vcpus,
    memory_mb: f.memory_mb,
    disk_gb: f.root_gb + f.ephemeral_gb + Math.ceil(f.swap / 1024),
    ...(group === undefined ? {} : { group }),
    limits: { ...host.limits },
  };
};

/** The 409 for a decision that did not place every instance. */
export const noValidHostError = (decision: Decision, extra: Record<string, unknown> = {}): NoValidHostError =>
  new NoValidHostError({
    ...extra,
    filter_counts: decision.filter_counts,
    hosts: Object.fromEntries(decision.rejections.map((r) => [r.host, r.reason])),
    summary: decision.summary,
  });

/** `schedule`, throwing NoValidHostError (carrying the summary and reasons) when an instance fits nowhere. */
export const scheduleOrThrow = (
  hosts: readonly HostState[],
  spec: RequestSpec,
  opts: ResolvedOptions,
  rng: () => number,
  options?: ScheduleOptions,
): Decision => {
  const d = schedule(hosts, spec, opts, rng, options);
  if (!d.placed) throw noValidHostError(d);
  return d;
};
