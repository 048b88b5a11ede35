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
import { compileChain, compileWeighers, firstReject, weighHost } from './dispatch';
import { NoValidHostError } from './errors';
import { ComputeFilter } from './filters/compute-filter';
import { FILTERS, RESOURCE_FILTERS } from './filters/index';
import { forgetGroups } from './group-index';
import { addToSignature, groupBit, type InstanceSignature, instanceBit } from './instance-signature';
import type { ResolvedOptions } from './options';
import type { Filter, FilterContext, HostLimits, HostState, RequestSpec } from './types';
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
  /**
   * Each rejected host once, with its first rejection, in fleet order; hosts
   * absent survived every pass. Written on first read (a getter, memoized, and
   * serialized by JSON.stringify like any field).
   */
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
const cloneHost = (h: HostState): HostState => ({ ...h, instances: new Map(h.instances) });

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
  if (h.instance_sig_lo !== undefined && h.instance_sig_hi !== undefined) {
    addToSignature(h as InstanceSignature, instanceBit(uuid));
    if (group !== null) addToSignature(h as InstanceSignature, groupBit(group));
  }
  forgetGroups(h.instances);
};

/** Fisher–Yates for the first `k` places of `a`: a uniform random k-subset, in random order. */
const partialShuffle = (a: number[], k: number, rng: () => number): void => {
  for (let i = 0; i < k; i++) {
    const j = Math.min(a.length - 1, i + Math.floor(rng() * (a.length - i)));
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
};

/**
 * Working memory reused across calls: allocating typed arrays costs more than
 * filtering thousands of hosts. `schedule` is synchronous and never re-entered,
 * and nothing it returns points into these buffers.
 */
interface Scratch {
  cap: number;
  candidates: Int32Array;
  survivors: Int32Array;
  total: Float64Array;
  cloned: Uint8Array;
  detail: Float64Array;
}
let scratch: Scratch | undefined;

/** Buffers for `n` hosts and `nw` weighers, zeroed where the algorithm relies on it. */
const scratchFor = (n: number, nw: number): Scratch => {
  if (!scratch || scratch.cap < n || scratch.detail.length < 3 * nw * n) {
    const cap = Math.max(n, 1024, scratch?.cap ?? 0);
    scratch = {
      cap,
      candidates: new Int32Array(cap),
      survivors: new Int32Array(cap),
      total: new Float64Array(cap),
      cloned: new Uint8Array(cap),
      detail: new Float64Array(3 * Math.max(nw, 5) * cap),
    };
  }
  scratch.cloned.fill(0, 0, n);
  return scratch;
};

/** Verdict codes before the filter chain; chain filter `f` is code `CHAIN + f`. */
const DELETED = 1;
const IGNORED = 2;
const NOT_FORCED = 3;
const CHAIN = 4;
/** `verdicts` packs code + pass × VERDICT_PASS; CHAIN + 15 filters < 32. */
const VERDICT_PASS = 32;
const PRE_REASONS = [
  '',
  'ComputeFilter: node is deleted',
  'ignore_hosts: host is listed in ignore_hosts',
  'force_hosts: host is not among the forced hosts',
];

/**
 * Places `spec.num_instances` instances on `hosts`. Never throws for a request
 * that fits nowhere: the decision says `placed: false` and why (see
 * `noValidHostError`).
 *
 * The hot loop only asks each filter whether a host passes; the sentence
 * saying why a host was rejected is written when `decision.rejections` is
 * first read, by asking the same pure filter again with the same host state
 * and context.
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
  const buf = scratchFor(n, weighers.length);
  const { cloned, survivors, total, detail } = buf;
  // Per host: 0, or its first rejection as `code + pass × 32` (codes stay below 32). A fresh
  // (zeroed) array, as the decision keeps it: cheaper than clearing scratch and copying it out,
  // and as narrow as the number of passes allows (fewer fresh pages to fault in at 100k hosts).
  const lastPass = Math.ceil(spec.num_instances);
  const verdicts: Uint8Array | Uint16Array | Int32Array =
    lastPass <= 256 / VERDICT_PASS
      ? new Uint8Array(n)
      : lastPass <= 65536 / VERDICT_PASS
        ? new Uint16Array(n)
        : new Int32Array(n);
  const group = request.group;
  // Hosts consumed from are copied on first pick; `clones` holds the copies, `cloned` marks them.
  const clones = new Map<number, HostState>();
  const hostAt = (i: number): HostState => (cloned[i] ? clones.get(i) : hosts[i]) as HostState;
  // Only affinity needs the group's hosts across the fleet ("is there any member anywhere?");
  // anti-affinity asks each host it reaches (group-index.ts).
  const groupHosts = request.groupPolicy === 'affinity' ? groupHostsOf(hosts, group) : new Set<string>();

  // Nova's host manager: ignore_hosts first, then force_hosts; both by host name, case-insensitively.
  // A forced host skips the filters (Nova) but not the resource check that Placement
  // would still make, and a deleted node is never a candidate.
  const ignore = new Set(spec.ignore_hosts.map((h) => h.toLowerCase()));
  const force = new Set(spec.force_hosts.map((h) => h.toLowerCase()));
  // Filters this request gives nothing to check (no hint, no extra spec…) pass every host: left out.
  const chain: readonly Filter[] = (force.size > 0 ? RESOURCE_FILTERS : opts.resolved.filters).filter(
    (f) => !f.passesAll?.(request),
  );
  const labels = ['', ComputeFilter.name, IGNORE_HOSTS, FORCE_HOSTS, ...chain.map((f) => f.name)];
  if (labels.length > VERDICT_PASS)
    throw new Error(`schedule: at most ${VERDICT_PASS - CHAIN} filters fit a verdict code`);

  // First rejection per host: its code and the pass it happened in, packed in `verdicts`.
  const codeCounts = new Array<number>(labels.length).fill(0);

  const candidates = buf.candidates;
  const compiled = compileChain(chain);
  const nf = chain.length;
  // Nova's host manager steps before the filters (empty name sets cost nothing per host).
  const preVerdict = (h: HostState): number => {
    if (h.deleted) return DELETED;
    if (ignore.size > 0 && ignore.has(h.host.toLowerCase())) return IGNORED;
    if (force.size > 0 && !force.has(h.host.toLowerCase())) return NOT_FORCED;
    return 0;
  };
  // Candidates of the next pass. Pass 0 walks the whole fleet and applies the pre-filters in the
  // same walk (one trip over the host objects, not two); without any pass they run alone.
  let m = 0;
  if (!(spec.num_instances > 0)) {
    for (let i = 0; i < n; i++) {
      const code = preVerdict(hosts[i] as HostState);
      if (code === 0) m++;
      else {
        verdicts[i] = code;
        codeCounts[code] = (codeCounts[code] as number) + 1;
      }
    }
  }

  const picks: SchedulePick[] = [];
  const passes: SchedulePass[] = [];
  const contexts: FilterContext[] = [];
  let ranking: RankedHost[] = [];
  let failed: Decision['failed'];
  const cw = compileWeighers(weighers, opts);
  const nw = weighers.length;

  for (let k = 0; k < spec.num_instances; k++) {
    const uuid = (spec.instance_uuids[k] ?? '').toLowerCase();
    // Each pass sees the group hosts as they were then (later picks add to them).
    const ctx: FilterContext = {
      request,
      instanceUuid: uuid,
      groupHosts: request.groupPolicy === 'affinity' ? new Set(groupHosts) : groupHosts,
      index: k,
    };
    contexts.push(ctx);

    // Filter. Consumption only ever shrinks what a host offers, so a host
    // rejected for one instance is never reconsidered for the next.
    // Weigher columns of `detail` (raw values, normalized, multipliers), each `stride` long:
    // a column holds at most this pass's candidates.
    const stride = k === 0 ? n : m;
    const raws = detail.subarray(0, nw * stride);
    const norms = detail.subarray(nw * stride, 2 * nw * stride);
    const mults = detail.subarray(2 * nw * stride, 3 * nw * stride);
    let s = 0;
    if (k === 0) {
      // Nothing is cloned yet: the caller's hosts, in one walk with the pre-filters.
      for (let i = 0; i < n; i++) {
        const h = hosts[i] as HostState;
        const code = preVerdict(h);
        if (code !== 0) {
          verdicts[i] = code;
          codeCounts[code] = (codeCounts[code] as number) + 1;
          continue;
        }
        const f = nf === 0 ? 0 : firstReject(h, spec, ctx, compiled);
        if (f === nf) {
          weighHost(h, spec, cw, raws, mults, s, stride);
          survivors[s++] = i;
        } else {
          verdicts[i] = CHAIN + f;
          codeCounts[CHAIN + f] = (codeCounts[CHAIN + f] as number) + 1;
        }
      }
    } else {
      for (let c = 0; c < m; c++) {
        const i = candidates[c] as number;
        const h = (cloned[i] ? clones.get(i) : hosts[i]) as HostState;
        const f = nf === 0 ? 0 : firstReject(h, spec, ctx, compiled);
        if (f === nf) {
          weighHost(h, spec, cw, raws, mults, s, stride);
          survivors[s++] = i;
        } else {
          verdicts[i] = CHAIN + f + k * VERDICT_PASS;
          codeCounts[CHAIN + f] = (codeCounts[CHAIN + f] as number) + 1;
        }
      }
    }
    passes.push({ instance_uuid: spec.instance_uuids[k] ?? '', candidates: s, host: null });
    if (s === 0) {
      failed = { instance_index: k, instance_uuid: spec.instance_uuids[k] ?? '' };
      m = 0;
      break;
    }

    // Weigh (Nova's get_weighed_objects: a lone host is not weighed, its weight is 0); the raw
    // values and multipliers were taken as the survivors passed.
    total.fill(0, 0, s);
    for (let wi = 0; wi < nw; wi++) {
      const w = weighers[wi] as (typeof weighers)[number];
      const col = wi * stride;
      const norm = norms.subarray(col, col + s);
      norm.set(raws.subarray(col, col + s));
      if (s > 1) normalizeInPlace(norm, s, w.minval, w.maxval);
      else norm[0] = 0;
      for (let j = 0; j < s; j++) {
        total[j] = (total[j] as number) + (mults[col + j] as number) * (norm[j] as number);
      }
    }
    if (k === 0 && rankingLimit > 0) {
      ranking = rankSurvivors(s, total, rankingLimit, (j, weight) => {
        const parts: WeigherContribution[] = new Array(nw);
        for (let wi = 0; wi < nw; wi++) {
          const normalized = norms[wi * stride + j] as number;
          const multiplier = mults[wi * stride + j] as number;
          parts[wi] = {
            weigher: (weighers[wi] as (typeof weighers)[number]).name,
            raw: raws[wi * stride + j] as number,
            normalized,
            multiplier,
            // `+ 0` turns −0 (a negative multiplier times 0) into 0.
            contribution: multiplier * normalized + 0,
          };
        }
        return { host: hostAt(survivors[j] as number).host, weight, weighers: parts };
      });
    }

    // Select: the hosts tied for best (shuffled), then the next best, up to host_subset_size; one at random.
    const pickAt = selectHost(total, s, opts.host_subset_size, opts.shuffle_best_same_weighed_hosts, rng);
    const i = survivors[pickAt] as number;
    if (!cloned[i]) {
      clones.set(i, cloneHost(hosts[i] as HostState));
      cloned[i] = 1;
    }
    const picked = hostAt(i);
    consume(picked, spec, request.disk_mb, uuid, group);
    if (request.groupPolicy === 'affinity') groupHosts.add(picked.host);
    picks.push({
      instance_uuid: spec.instance_uuids[k] ?? '',
      host: picked.host,
      weight: (total[pickAt] as number) + 0,
    });
    (passes[k] as SchedulePass).host = picked.host;

    candidates.set(survivors.subarray(0, s));
    m = s;
  }

  // `verdicts` is this call's own array (not scratch): the decision keeps it for `rejections`.
  const kept = verdicts;

  // Counts by filter name (ComputeFilter may count deleted nodes and chain rejections).
  const counts = new Map<string, number>();
  for (let code = 1; code < labels.length; code++) {
    const c = codeCounts[code] as number;
    if (c > 0) counts.set(labels[code] as string, (counts.get(labels[code] as string) ?? 0) + c);
  }
  const placed = failed === undefined;
  const available = placed ? m : 0;
  const scope =
    spec.num_instances <= 1
      ? ''
      : placed
        ? ` after placing ${spec.num_instances} instances`
        : ` for instance ${(failed?.instance_index ?? 0) + 1} of ${spec.num_instances}`;
  const ranks = new Map<string, number>(labels.slice(2).map((f, r) => [f, r]));
  if (!ranks.has(ComputeFilter.name)) ranks.set(ComputeFilter.name, -1);
  const ordered = orderCounts(counts, ranks);
  const parts = describeCounts(ordered);

  // The reasons, written on first read: host state and context are those of the pass that rejected it.
  const render = (): HostRejection[] => {
    const out: HostRejection[] = [];
    for (let i = 0; i < n; i++) {
      const code = (kept[i] as number) % VERDICT_PASS;
      if (code === 0) continue;
      const pass = Math.floor((kept[i] as number) / VERDICT_PASS);
      const filter = labels[code] as string;
      let reason = PRE_REASONS[code] ?? '';
      if (code >= CHAIN) {
        const host = clones.get(i) ?? (hosts[i] as HostState);
        const v = (chain[code - CHAIN] as Filter).filter(host, spec, contexts[pass] as FilterContext);
        reason = v.pass ? `${filter}: rejected` : v.reason;
      }
      out.push({ host: (hosts[i] as HostState).host, filter, reason, instance_index: pass });
    }
    return out;
  };
  let rendered: HostRejection[] | undefined;

  return {
    placed,
    hosts_considered: n,
    picks,
    get rejections(): HostRejection[] {
      rendered ??= render();
      return rendered;
    },
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
  let order: ArrayLike<number>;
  if (limit >= s || limit > 64) {
    const all = new Int32Array(s);
    for (let j = 0; j < s; j++) all[j] = j;
    all.sort((a, b) => (total[b] as number) - (total[a] as number) || a - b);
    order = all;
  } else {
    const top: number[] = [];
    for (let j = 0; j < s; j++) {
      if (top.length === limit && (total[j] as number) < (total[top[limit - 1] as number] as number)) continue;
      if (top.length === limit && !before(j, top[limit - 1] as number)) continue;
      let at = top.length < limit ? top.length : limit - 1;
      while (at > 0 && before(j, top[at - 1] as number)) {
        top[at] = top[at - 1] as number;
        at--;
      }
      top[at] = j;
    }
    order = top;
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
  // Shuffling only the first `subsetSize` places draws the same uniform subset as Nova's full shuffle.
  if (shuffleBest) partialShuffle(top, Math.min(subsetSize, top.length), rng);
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
