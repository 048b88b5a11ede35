/**
 * The filter scheduler, after Nova's `filter_scheduler.py` (_schedule,
 * _get_sorted_hosts, _consume_selected_host) and `host_manager.py`
 * (get_filtered_hosts): for each instance, filter → weigh → pick among the
 * best `host_subset_size` → consume the pick in memory, so later instances of
 * the same request (and their anti-affinity) see it. Pure: the caller's host
 * states are never mutated, randomness comes from `rng`.
 *
 * Unlike Nova, the decision keeps, for every host, the first filter that
 * rejected it and why (as data: summary.ts, reasons.ts), and each survivor's
 * weigher breakdown. The parts: filter-chain.ts (filter), rank.ts (weigh),
 * select.ts (pick), consume.ts (consume, claim amounts), summary.ts (NoValidHost).
 */
import { cloneHost, consume } from './consume';
import { type FilterChain, firstReject, notePick, prepareChain } from './filter-chain';
import { ComputeFilter } from './filters/compute-filter';
import { PLACEMENT_FILTERS } from './filters/index';
import type { ResolvedOptions } from './options';
import { type RankedHost, topByWeight, type WeigherScale, Weights } from './rank';
import { PRE_FILTERS } from './reasons';
import { PRE_DELETED, PRE_IGNORED, PRE_NOT_FORCED, RejectionLog } from './rejections';
import { selectHost } from './select';
import { type HostRejection, noValidHostError, summarize } from './summary';
import type { HostState, PassContext, RequestSpec } from './types';

export { type ClaimAmounts, claimAmounts } from './consume';
export type { RankedHost, WeigherContribution } from './rank';
export { type HostRejection, noValidHostError } from './summary';

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
  /**
   * Each rejected host once, with its first rejection (filter, code, figures), in fleet order; hosts
   * absent survived. Built on first read (rejections.ts), memoized, and serialized by JSON.stringify
   * like any field; it reads the hosts as they were given, which the scheduler never mutates.
   */
  readonly rejections: HostRejection[];
  /** Filter → hosts it rejected (each host once). Sums with the survivors to hosts_considered. */
  filter_counts: Record<string, number>;
  /** The first instance's candidates, best first, each with its weigher breakdown. */
  ranking: RankedHost[];
  /** How that pass normalized each weigher (the ranking's `normalized` values follow from them); with a ranking only. */
  scales?: WeigherScale[];
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
  /**
   * Explain every rejection as soon as its pass ends instead of on first read (the same data; the
   * reference rejections.property.test.ts checks the lazy rejections against).
   */
  eagerRejections?: boolean;
}

/**
 * Nova's host manager steps before the filters, on host names
 * case-insensitively: ignore_hosts, then force_hosts. A deleted node is never
 * a candidate (ComputeFilter's, even when the filters are skipped).
 */
const preFilter = (ignore: ReadonlySet<string>, force: ReadonlySet<string>) => {
  // Empty name sets cost nothing per host. 0: passes; else the step of rejections.ts.
  return (h: HostState): number => {
    if (h.deleted) return PRE_DELETED;
    if (ignore.size > 0 && ignore.has(h.host.toLowerCase())) return PRE_IGNORED;
    if (force.size > 0 && !force.has(h.host.toLowerCase())) return PRE_NOT_FORCED;
    return 0;
  };
};

/**
 * Filter → hosts it rejected, largest count first, ties in the order the steps
 * ran: the pre-filters (ComputeFilter first when it only counts deleted
 * nodes), then the chain. ComputeFilter counts deleted nodes and its own rejections.
 */
const orderCounts = (chain: FilterChain, chainCounts: ArrayLike<number>, pre: ReadonlyMap<string, number>) => {
  const names = chain.filters.map((f) => f.name);
  const order = [
    ...(names.includes(ComputeFilter.name) ? [] : [ComputeFilter.name]),
    ...Object.keys(PRE_FILTERS),
    ...names,
  ];
  const counts = new Map(pre);
  names.forEach((name, f) => {
    if (chainCounts[f]) counts.set(name, (counts.get(name) ?? 0) + (chainCounts[f] as number));
  });
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || order.indexOf(a[0]) - order.indexOf(b[0]));
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
  const rankingLimit = options.rankingLimit ?? Number.POSITIVE_INFINITY;
  const ignore = new Set(spec.ignore_hosts.map((h) => h.toLowerCase()));
  const force = new Set(spec.force_hosts.map((h) => h.toLowerCase()));
  const pre = preFilter(ignore, force);
  // A forced host skips the filters (Nova) but not the resource check that Placement would still make.
  const chain = prepareChain(force.size > 0 ? PLACEMENT_FILTERS : opts.resolved.filters, {
    spec,
    hosts,
    defaultArch: opts.image_properties_default_architecture,
  });
  const nf = chain.filters.length;
  const weights = new Weights(opts.resolved.weighers, opts, n);
  const total = weights.total;

  // Each rejected host's first step to reject it, by fleet position; explained on first read.
  const eager = options.eagerRejections === true;
  const log = new RejectionLog(n, chain, eager || spec.num_instances > 1);
  const contexts: PassContext[] = [];

  // Hosts consumed from are copied on their first pick; the caller's stay as they are.
  const clones = new Map<number, HostState>();
  const hostAt = (i: number): HostState => clones.get(i) ?? (hosts[i] as HostState);
  // Survivors of this pass, as fleet positions: the next pass's candidates, filtered in place
  // (the c-th candidate is read before anything is written at s ≤ c).
  const survivors = new Int32Array(n);
  let m = 0;
  if (!(spec.num_instances > 0)) {
    // No pass to run: the pre-filters alone.
    for (let i = 0; i < n; i++) {
      const r = pre(hosts[i] as HostState);
      if (r !== 0) log.pre(i, r);
      else m++;
    }
  }

  const picks: SchedulePick[] = [];
  const passes: SchedulePass[] = [];
  const ranking: RankedHost[] = [];
  let scales: WeigherScale[] | undefined;
  let failed: Decision['failed'];

  for (let k = 0; k < spec.num_instances; k++) {
    const pass: PassContext = { index: k, instanceUuid: (spec.instance_uuids[k] ?? '').toLowerCase() };
    contexts.push(pass);
    log.startPass(k);
    // Filter. Consumption only ever shrinks what a host offers, so a host rejected for one
    // instance is never reconsidered for the next. A survivor is weighed as it passes.
    weights.startPass(k === 0 ? n : m);
    let s = 0;
    if (k === 0) {
      // Nothing is cloned yet: the caller's hosts, in one walk with the pre-filters
      // (one trip over the host objects, not two).
      for (let i = 0; i < n; i++) {
        const h = hosts[i] as HostState;
        const r = pre(h);
        if (r !== 0) {
          log.pre(i, r);
          continue;
        }
        const f = nf === 0 ? 0 : firstReject(h, chain, pass);
        if (f === nf) {
          weights.weigh(h, spec, s);
          survivors[s++] = i;
        } else log.reject(i, f, k);
      }
    } else {
      for (let c = 0; c < m; c++) {
        const i = survivors[c] as number;
        const h = hostAt(i);
        const f = nf === 0 ? 0 : firstReject(h, chain, pass);
        if (f === nf) {
          weights.weigh(h, spec, s);
          survivors[s++] = i;
        } else log.reject(i, f, k);
      }
    }
    passes.push({ instance_uuid: spec.instance_uuids[k] ?? '', candidates: s, host: null });
    // The pick below changes filter states (notePick) only when another pass follows; explain this
    // pass's rejections before it does. A one-instance request never settles: its rejections wait.
    const more = s > 0 && k + 1 < spec.num_instances;
    if (eager || more) log.settle(k, hostAt, pass);
    if (s === 0) {
      failed = { instance_index: k, instance_uuid: spec.instance_uuids[k] ?? '' };
      m = 0;
      break;
    }

    // Weigh.
    weights.sum(s);
    if (k === 0 && rankingLimit > 0) {
      const top = topByWeight(total, s, rankingLimit);
      scales = weights.scales();
      for (let r = 0; r < top.length; r++) {
        const j = top[r] as number;
        ranking.push({
          host: hostAt(survivors[j] as number).host,
          weight: (total[j] as number) + 0,
          weighers: weights.parts(j, scales),
        });
      }
    }

    // Select, then consume from a copy of the pick.
    const pickAt = selectHost(total, s, opts.host_subset_size, opts.shuffle_best_same_weighed_hosts, rng);
    const i = survivors[pickAt] as number;
    let picked = clones.get(i);
    if (picked === undefined) {
      picked = cloneHost(hosts[i] as HostState);
      clones.set(i, picked);
    }
    consume(picked, spec, pass.instanceUuid);
    // Only a next pass reads what notePick tells the filters (always in eager mode, so the lazy
    // rejections are tested against states a last pick did change).
    if (more || eager) notePick(chain, picked);
    picks.push({
      instance_uuid: spec.instance_uuids[k] ?? '',
      host: picked.host,
      weight: (total[pickAt] as number) + 0,
    });
    (passes[k] as SchedulePass).host = picked.host;

    m = s;
  }

  const ordered = orderCounts(chain, log.chainCounts, log.preCountsByName());
  const placed = failed === undefined;
  let rejections: HostRejection[] | undefined = eager ? log.list(hostAt, contexts) : undefined;
  return {
    placed,
    hosts_considered: n,
    picks,
    get rejections(): HostRejection[] {
      rejections ??= log.list(hostAt, contexts);
      return rejections;
    },
    filter_counts: Object.fromEntries(ordered),
    ranking,
    ...(scales && ranking.length > 0 ? { scales } : {}),
    passes,
    summary: summarize(placed ? m : 0, n, spec.num_instances, failed?.instance_index, ordered),
    ...(failed ? { failed } : {}),
  };
};

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
