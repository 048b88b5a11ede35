/**
 * Over 350 lines (353) on purpose: the replay loop and the assumptions it makes, listed here
 * beside the code they shape.
 *
 * Replays a trace against a fleet with one configuration, through the
 * scheduler core the schedule function runs: each host is a node record as
 * the store would hold it, turned into a HostState by `hostStateFromNode`; each
 * create is one `schedule()` call; each pick becomes a confirmed claim of
 * `claimAmounts` on its node, each delete removes it, and only the hosts that
 * changed are rebuilt (copying 10,000 host states per decision would cost
 * more than deciding).
 *
 * What the replay assumes, where a live deployment has more going on:
 * - builds finish at once: a placement is a confirmed claim (create.end seen),
 *   so `current_workload` (IoOpsFilter, IoOpsWeigher) stays 0;
 * - every host is up, enabled and reports nothing of its own: its usage is the
 *   sum of what the replay placed on it (plus the reserved amounts);
 * - a server group keeps its first policy; a request naming another one is
 *   refused (ServerGroupPolicyConflict), as is one that would take the group
 *   past MAX_GROUP_MEMBERS (ServerGroupFull), as the schedule function does;
 * - a create of an instance that is placed already moves it (contract rule 6):
 *   the request is judged without its old placement, which comes back if the
 *   request fails.
 */
import type { Claim, NodeRecord } from '../nodes';
import { MAX_GROUP_MEMBERS } from '../schedule-service';
import { hostStateFromNode } from '../scheduler/host-state';
import { claimAmounts, schedule } from '../scheduler/scheduler';
import type { HostState, RequestSpec } from '../scheduler/types';
import type { FleetHost, SimConfig, Trace } from './inputs';
import { seededRandom } from './rng';

/** The replay's clock for host states: fixed, so no host ever goes down and no claim expires. */
const NOW_MS = 946_684_800_000;
const STAMP = new Date(NOW_MS).toISOString();
/** A uuid no trace instance gets (inputs.ts numbers them from 1): the fragmentation probe. */
const PROBE_UUID = '00000000-0000-4000-8000-000000000000';

/** Pseudo-filters for requests refused before the filters run, as the schedule function refuses them. */
export const GROUP_POLICY_CONFLICT = 'ServerGroupPolicyConflict';
export const GROUP_FULL = 'ServerGroupFull';

/** The `--json` figures of one configuration (CONTRACT.md "Simulation"), plus the deletes skipped. */
export interface ConfigResult {
  name: string;
  /** Instances placed / refused. */
  placed: number;
  rejected: number;
  /** placed / (placed + rejected); 1 for a trace with no create. */
  acceptance_rate: number;
  /** Refused instances by the filter that rejected the most hosts in their decision. */
  rejected_by: Record<string, number>;
  /** Hosts holding at least one instance: the most at any time, and at the end. */
  hosts_used_peak: number;
  hosts_used_end: number;
  /** Σ used ÷ Σ capacity over the hosts in use at the end (capacity before allocation ratios). */
  utilization: { vcpus: number; memory_mb: number; disk_gb: number };
  /**
   * Share of the usable free RAM on hosts in use that sits on hosts which cannot
   * take one more instance of the trace's most common flavor.
   */
  fragmentation: number;
  /** Milliseconds per `schedule()` call (nearest-rank percentiles). */
  decision_ms: { p50: number; p99: number };
  /** Deletes of instances that were never placed (refused, or unknown): counted and skipped. */
  deletes_skipped: number;
}

/** The replay over time, one entry per event, for the chart. */
export interface Series {
  t: Float64Array;
  hostsUsed: Int32Array;
  /** Instances placed / refused so far. */
  placed: Int32Array;
  rejected: Int32Array;
}

/** Everything a replay found. */
export interface ReplayResult {
  result: ConfigResult;
  series: Series;
  /** Per instance asked for, in trace order: its host, or null when refused. */
  placements: Array<[id: string, host: string | null]>;
}

/** Knobs of one replay. */
export interface ReplayOptions {
  seed: number;
  /** A millisecond clock for decision times (the CLI passes performance.now). */
  clock?: () => number;
  /** Called every `progressEvery` events and at the end. */
  onProgress?: (done: number, total: number) => void;
  progressEvery?: number;
}

/** An instance the replay has placed. */
interface Live {
  host: number;
  uuid: string;
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
  group?: string;
}

/** The node record an empty fleet host would have after its first report. */
export const fleetNodeRecord = (h: FleetHost, index: number): NodeRecord => ({
  host: h.host,
  id: index + 1,
  service_id: index + 1,
  created_at: STAMP,
  updated_at: STAMP,
  deleted_at: null,
  deleted: 0,
  vcpus: h.vcpus,
  memory_mb: h.memory_mb,
  local_gb: h.local_gb,
  vcpus_used: 0,
  memory_mb_used: 0,
  local_gb_used: 0,
  hypervisor_type: 'QEMU',
  hypervisor_version: 6002000,
  cpu_info: {
    arch: 'x86_64',
    vendor: 'Intel',
    model: 'simulated',
    features: [],
    topology: { sockets: 1, cores: Math.max(1, h.vcpus), threads: 1 },
  },
  disk_available_least: h.local_gb,
  current_workload: 0,
  running_vms: 0,
  hypervisor_hostname: h.host,
  instances: [],
  reported_availability_zone: h.availability_zone ?? null,
  operator_availability_zone: null,
  disabled: false,
  disabled_reason: null,
  metadata: { ...h.metadata },
  claims: {},
  announced: {},
  released: {},
  gone: {},
  drift: [],
  seq: 1,
  reported_at: STAMP,
  received_at_ms: NOW_MS,
});

/** Nearest-rank percentile of sorted values (0 for none). */
export const percentile = (sorted: ArrayLike<number>, p: number): number =>
  sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number);

/** A ratio with 0 for an empty denominator, rounded to 4 decimals for the report. */
const share = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 10_000) / 10_000 : 0);

/** Replays `trace` on `fleet` with `config`. Pure apart from the injected clock. */
export const replay = (
  fleet: readonly FleetHost[],
  trace: Trace,
  config: SimConfig,
  o: ReplayOptions,
): ReplayResult => {
  const opts = config.opts;
  const rng = seededRandom(o.seed);
  const clock = o.clock ?? (() => 0);
  const n = fleet.length;
  const records = fleet.map(fleetNodeRecord);
  const states: HostState[] = records.map((r) => hostStateFromNode(r, opts, NOW_MS));
  const index = new Map(fleet.map((h, i) => [h.host, i]));
  const used = { vcpus: new Float64Array(n), memory_mb: new Float64Array(n), disk_gb: new Float64Array(n) };
  const onHost = new Int32Array(n);
  const live = new Map<string, Live>();
  const groups = new Map<string, { policy: 'affinity' | 'anti-affinity'; members: Set<string> }>();
  let hostsUsed = 0;
  let hostsUsedPeak = 0;

  const rebuild = (i: number) => {
    states[i] = hostStateFromNode(records[i] as NodeRecord, opts, NOW_MS);
  };
  const place = (id: string, l: Live) => {
    const r = records[l.host] as NodeRecord;
    const claim: Claim = {
      instance_uuid: l.uuid,
      vcpus: l.vcpus,
      memory_mb: l.memory_mb,
      disk_gb: l.disk_gb,
      ...(l.group === undefined ? {} : { group: l.group }),
      claimed_at: STAMP,
      expires_at: STAMP,
      confirmed_at: STAMP,
    };
    r.claims[l.uuid] = claim;
    r.running_vms += 1;
    rebuild(l.host);
    used.vcpus[l.host] = (used.vcpus[l.host] as number) + l.vcpus;
    used.memory_mb[l.host] = (used.memory_mb[l.host] as number) + l.memory_mb;
    used.disk_gb[l.host] = (used.disk_gb[l.host] as number) + l.disk_gb;
    onHost[l.host] = (onHost[l.host] as number) + 1;
    if (onHost[l.host] === 1) {
      hostsUsed++;
      if (hostsUsed > hostsUsedPeak) hostsUsedPeak = hostsUsed;
    }
    live.set(id, l);
    if (l.group !== undefined) groups.get(l.group)?.members.add(id);
  };
  const release = (id: string, l: Live) => {
    const r = records[l.host] as NodeRecord;
    delete r.claims[l.uuid];
    r.running_vms -= 1;
    rebuild(l.host);
    used.vcpus[l.host] = (used.vcpus[l.host] as number) - l.vcpus;
    used.memory_mb[l.host] = (used.memory_mb[l.host] as number) - l.memory_mb;
    used.disk_gb[l.host] = (used.disk_gb[l.host] as number) - l.disk_gb;
    onHost[l.host] = (onHost[l.host] as number) - 1;
    if (onHost[l.host] === 0) hostsUsed--;
    live.delete(id);
    // Rule 7: a member leaves its group with its instance.
    if (l.group !== undefined) groups.get(l.group)?.members.delete(id);
  };

  let placed = 0;
  let rejected = 0;
  let deletesSkipped = 0;
  const rejectedBy: Record<string, number> = {};
  const refuse = (why: string, k: number) => {
    rejected += k;
    rejectedBy[why] = (rejectedBy[why] ?? 0) + k;
  };
  const times: number[] = [];
  const total = trace.events.length;
  const series: Series = {
    t: new Float64Array(total),
    hostsUsed: new Int32Array(total),
    placed: new Int32Array(total),
    rejected: new Int32Array(total),
  };
  const placements: Array<[string, string | null]> = [];
  const every = o.progressEvery ?? 1000;

  for (let e = 0; e < total; e++) {
    const ev = trace.events[e] as Trace['events'][number];
    if (ev.op === 'delete') {
      const l = live.get(ev.id);
      if (l) release(ev.id, l);
      else deletesSkipped++;
    } else {
      const k = ev.ids.length;
      const g = ev.group === undefined ? undefined : groups.get(ev.group);
      // Instances of this request placed already: judged without their old placement (rule 6).
      const moving: Array<[string, Live]> = [];
      for (const id of ev.ids) {
        const l = live.get(id);
        if (l) moving.push([id, l]);
      }
      if (ev.group !== undefined && g && ev.groupPolicy !== undefined && g.policy !== ev.groupPolicy) {
        refuse(GROUP_POLICY_CONFLICT, k);
        for (const id of ev.ids) placements.push([id, null]);
      } else if (
        ev.group !== undefined &&
        (g?.members.size ?? 0) - moving.filter(([, l]) => l.group === ev.group).length + k > MAX_GROUP_MEMBERS
      ) {
        refuse(GROUP_FULL, k);
        for (const id of ev.ids) placements.push([id, null]);
      } else {
        for (const [id, l] of moving) release(id, l);
        const t0 = clock();
        const d = schedule(states, ev.spec, opts, rng, { rankingLimit: 0 });
        times.push(clock() - t0);
        if (d.placed) {
          if (ev.group !== undefined && ev.groupPolicy !== undefined && !g)
            groups.set(ev.group, { policy: ev.groupPolicy, members: new Set() });
          d.picks.forEach((p, j) => {
            const host = index.get(p.host) as number;
            const c = claimAmounts(states[host] as HostState, ev.spec, p.instance_uuid);
            const id = ev.ids[j] as string;
            place(id, {
              host,
              uuid: p.instance_uuid,
              vcpus: c.vcpus,
              memory_mb: c.memory_mb,
              disk_gb: c.disk_gb,
              ...(c.group === undefined ? {} : { group: c.group }),
            });
            placements.push([id, p.host]);
          });
          placed += k;
        } else {
          for (const [id, l] of moving) place(id, l);
          // The filter that rejected the most hosts (filter_counts is ordered so, ties in chain order).
          refuse(Object.keys(d.filter_counts)[0] ?? 'NoHosts', k);
          for (const id of ev.ids) placements.push([id, null]);
        }
      }
    }
    series.t[e] = ev.t;
    series.hostsUsed[e] = hostsUsed;
    series.placed[e] = placed;
    series.rejected[e] = rejected;
    if (o.onProgress && ((e + 1) % every === 0 || e + 1 === total)) o.onProgress(e + 1, total);
  }

  // End of trace: utilization and fragmentation over the hosts in use.
  let capV = 0;
  let capM = 0;
  let capD = 0;
  let useV = 0;
  let useM = 0;
  let useD = 0;
  let free = 0;
  let stranded = 0;
  const common = trace.mostCommonFlavor === null ? undefined : trace.flavors.get(trace.mostCommonFlavor);
  const probe: RequestSpec | undefined = common && {
    ...common,
    instance_properties: {},
    num_instances: 1,
    instance_uuids: [PROBE_UUID],
    scheduler_hints: { same_host: [], different_host: [] },
  };
  for (let i = 0; i < n; i++) {
    if ((onHost[i] as number) === 0) continue;
    const f = fleet[i] as FleetHost;
    const s = states[i] as HostState;
    capV += f.vcpus;
    capM += f.memory_mb;
    capD += f.local_gb;
    useV += used.vcpus[i] as number;
    useM += used.memory_mb[i] as number;
    useD += used.disk_gb[i] as number;
    // Usable free RAM as RamFilter counts it: total × ratio − used (used includes the reserved amount).
    const freeRam = Math.max(0, s.limits.memory_mb - (s.memory_mb - s.free_ram_mb));
    free += freeRam;
    if (probe && freeRam > 0 && !schedule([s], probe, opts, () => 0, { rankingLimit: 0 }).placed) stranded += freeRam;
  }
  const sorted = Float64Array.from(times).sort();
  const ms = (x: number) => Math.round(x * 1000) / 1000;
  return {
    result: {
      name: config.name,
      placed,
      rejected,
      acceptance_rate: placed + rejected === 0 ? 1 : share(placed, placed + rejected),
      rejected_by: rejectedBy,
      hosts_used_peak: hostsUsedPeak,
      hosts_used_end: hostsUsed,
      utilization: { vcpus: share(useV, capV), memory_mb: share(useM, capM), disk_gb: share(useD, capD) },
      fragmentation: share(stranded, free),
      decision_ms: { p50: ms(percentile(sorted, 0.5)), p99: ms(percentile(sorted, 0.99)) },
      deletes_skipped: deletesSkipped,
    },
    series,
    placements,
  };
};
