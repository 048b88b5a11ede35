/**
 * Benchmark of the pure scheduler core: filter + weigh + select for one
 * decision over synthetic fleets of 1k, 10k and 100k hosts, every filter and
 * weigher enabled. A decision's rejections (filter, code, figures) are explained
 * on first read (core/scheduler/rejections.ts), so the first two columns do not
 * pay for them; the last column reads every one and renders its sentence, as
 * the stored decision and a NoValidHost answer do. Run alone with
 * `npx tsx bench/scheduler-core.ts [sizes…]` (e.g. `1000 10000`), or call
 * `benchSchedulerCore()` (bench/run.ts) for the rows.
 */

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { resolveOptions } from '../core/scheduler/options';
import { type Decision, type ScheduleOptions, schedule } from '../core/scheduler/scheduler';
import { reasonsByHost } from '../core/scheduler/summary';
import { makeHost, makeSpec, seededRng, uuidFor } from '../core/scheduler/test-fixtures';
import type { HostInstance, HostState, RequestSpec } from '../core/scheduler/types';

/** One row of the table. */
export interface SchedulerCoreBenchRow {
  hosts: number;
  /** `plain` (flavor, image, one capability) or `busy` (every filter has work). */
  request: string;
  /** Hosts that passed every filter for the request. */
  candidates: number;
  runs: number;
  /** Median ms per decision with the full ranking (every candidate's weigher breakdown). */
  median_ms_full: number;
  /** Median ms per decision with the ranking cut to the best 20. */
  median_ms_top20: number;
  /**
   * Median ms per decision (top 20) with every rejected host's sentence rendered, as the stored
   * decision and NoValidHost render them: the whole cost of a decision and its reasons.
   */
  median_ms_with_reasons: number;
  /** median_ms_top20 per host, in ns. */
  ns_per_host: number;
}

/**
 * A fleet that looks like a busy cloud: mixed sizes and load, 3% down, 1%
 * disabled, half the nodes tagged `ssd`, some with metadata overrides, up to
 * 30 instances each, and 10 members of server group `g1` (Nova's default
 * `server_group_members` quota) spread over the fleet.
 */
export const syntheticFleet = (n: number, seed = 1): HostState[] => {
  const rnd = seededRng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const members = new Set(Array.from({ length: 10 }, () => Math.floor(rnd() * n)));
  const hosts: HostState[] = [];
  for (let i = 0; i < n; i++) {
    const memory_mb = pick([65536, 131072, 262144, 524288]);
    const vcpus_total = pick([16, 32, 64, 128]);
    const disk = pick([500, 1000, 2000, 4000]);
    const load = rnd();
    const instances = new Map<string, HostInstance>();
    const count = Math.floor(load * 30);
    for (let k = 0; k < count; k++) instances.set(uuidFor(i * 64 + k, 'bbbbbbbb'), {});
    if (members.has(i)) instances.set(uuidFor(i, 'cccccccc'), { group: 'g1' });
    const metadata: Record<string, string> = {};
    if (rnd() < 0.5) metadata.ssd = 'true';
    if (rnd() < 0.1) metadata.cpu_allocation_ratio = '8.0';
    if (rnd() < 0.05) metadata.ram_weight_multiplier = '2.0';
    hosts.push(
      makeHost({
        host: `compute-${i.toString().padStart(6, '0')}`,
        memory_mb,
        free_ram_mb: Math.round(memory_mb * (1 - load)) - 512,
        vcpus_total,
        vcpus_used: Math.round(vcpus_total * 4 * load),
        cpu_allocation_ratio: 4,
        total_usable_disk_gb: disk,
        free_disk_mb: Math.round(disk * 1024 * (1 - load)),
        num_instances: count,
        num_io_ops: Math.floor(rnd() * 10),
        availability_zone: pick(['az1', 'az2', 'az3']),
        up: rnd() > 0.03,
        disabled: rnd() < 0.01,
        metadata,
        instances,
        hypervisor_type: rnd() < 0.9 ? 'QEMU' : 'Xen',
      }),
    );
  }
  return hosts;
};

/** A common request: a flavor, an image naming its architecture and hypervisor, one capability spec. */
export const plainRequest = (): RequestSpec =>
  makeSpec({
    vcpus: 4,
    memory_mb: 8192,
    root_gb: 40,
    swap: 1024,
    extra_specs: { 'capabilities:cpu_info:arch': 'x86_64', 'hw:cpu_policy': 'shared' },
    image: { properties: { architecture: 'x86_64', hypervisor_type: 'qemu', hypervisor_version_requires: '>=6.0' } },
  });

/** A request that gives every filter work: extra specs of both scopes, a retry, a zone-free anti-affinity group, hints. */
export const busyRequest = (): RequestSpec =>
  makeSpec({
    vcpus: 4,
    memory_mb: 8192,
    root_gb: 40,
    swap: 1024,
    extra_specs: {
      'capabilities:cpu_info:arch': 'x86_64',
      'capabilities:hypervisor_version': '>= 6000000',
      'aggregate_instance_extra_specs:ssd': 'true',
      'hw:cpu_policy': 'shared',
    },
    image: { properties: { architecture: 'x86_64', hypervisor_type: 'qemu', hypervisor_version_requires: '>=6.0' } },
    scheduler_hints: {
      same_host: [],
      different_host: [uuidFor(3, 'bbbbbbbb')],
      group: 'g1',
      group_policy: 'anti-affinity',
    },
    retry: { num_attempts: 1, hosts: ['compute-000001'] },
  });

/** The request profiles the bench runs. */
export const REQUESTS: Readonly<Record<string, () => RequestSpec>> = { plain: plainRequest, busy: busyRequest };

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/**
 * Median ms of `schedule` (then `after`, if given) after warm-up: at least
 * `minRuns`, and at least `minMs` of measuring.
 */
const measure = (
  hosts: HostState[],
  spec: RequestSpec,
  options: ScheduleOptions,
  minRuns: number,
  minMs: number,
  after: (d: Decision) => unknown = () => undefined,
) => {
  const opts = resolveOptions({});
  const rng = seededRng(7);
  for (let i = 0; i < 10; i++) after(schedule(hosts, spec, opts, rng, options));
  const times: number[] = [];
  let candidates = 0;
  const start = performance.now();
  while (times.length < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    const d = schedule(hosts, spec, opts, rng, options);
    after(d);
    times.push(performance.now() - t0);
    candidates = d.passes[0]?.candidates ?? 0;
  }
  return { median: median(times), runs: times.length, candidates };
};

/** Runs the benchmark and returns one row per fleet size and request profile. */
export const benchSchedulerCore = (sizes: readonly number[] = [1_000, 10_000, 100_000]): SchedulerCoreBenchRow[] =>
  sizes.flatMap((n) => {
    const hosts = syntheticFleet(n);
    const minMs = n >= 100_000 ? 3000 : 1500;
    return Object.entries(REQUESTS).map(([request, make]) => {
      const spec = make();
      const top = measure(hosts, spec, { rankingLimit: 20 }, 20, minMs);
      const full = measure(hosts, spec, {}, 20, minMs);
      const reasons = measure(hosts, spec, { rankingLimit: 20 }, 20, minMs, (d) => reasonsByHost(d.rejections));
      return {
        hosts: n,
        request,
        candidates: top.candidates,
        runs: top.runs,
        median_ms_full: full.median,
        median_ms_with_reasons: reasons.median,
        median_ms_top20: top.median,
        ns_per_host: (top.median * 1e6) / n,
      };
    });
  });

/** The rows as a markdown table. */
export const schedulerCoreTable = (rows: readonly SchedulerCoreBenchRow[]): string =>
  [
    '| hosts | request | candidates | runs | median ms/decision (ranking top 20) | median ms/decision (full ranking) | median ms/decision with every rejection sentence (top 20) | ns/host |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.hosts.toLocaleString('en-US')} | ${r.request} | ${r.candidates.toLocaleString('en-US')} | ${r.runs} | ${r.median_ms_top20.toFixed(3)} | ${r.median_ms_full.toFixed(3)} | ${r.median_ms_with_reasons.toFixed(3)} | ${r.ns_per_host.toFixed(0)} |`,
    ),
  ].join('\n');

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // Fleet sizes from the command line (`npx tsx bench/scheduler-core.ts 1000 10000`), else all three.
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((x) => Number.isInteger(x) && x > 0);
  console.log(schedulerCoreTable(sizes.length > 0 ? benchSchedulerCore(sizes) : benchSchedulerCore()));
}
