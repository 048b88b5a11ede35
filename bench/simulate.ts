/**
 * Benchmark of the what-if replay (`qm simulate`, core/simulate/): a generated
 * trace (Azure-like sizes and lifetimes) replayed on 1,000 empty hosts with the
 * default configuration, every filter and weigher enabled. Placements per second
 * count instances placed over the replay's wall time, which includes parsing
 * nothing (the trace is parsed before the clock starts) but every schedule()
 * call, every claim and release, and every host state rebuilt after one.
 * Run alone with `npx tsx bench/simulate.ts`, or call `benchSimulate()`.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { generateTrace } from '../core/simulate/generate';
import { type FleetHost, parseConfig, parseTrace } from '../core/simulate/inputs';
import { replay } from '../core/simulate/replay';

/** One row of the table. */
export interface SimulateBenchRow {
  hosts: number;
  events: number;
  placed: number;
  seconds: number;
  placements_per_s: number;
  /** Per second of this process's CPU time (user + system): what the replay costs, whatever else the machine runs. */
  placements_per_cpu_s: number;
  decision_ms_p50: number;
}

/** 1,000 hosts of three sizes in two zones. */
const fleetOf = (n: number): FleetHost[] =>
  Array.from({ length: n }, (_, i) => ({
    host: `compute-${String(i).padStart(6, '0')}`,
    vcpus: [32, 48, 64][i % 3] as number,
    memory_mb: [131072, 196608, 262144][i % 3] as number,
    local_gb: 2000,
    availability_zone: i % 2 ? 'az2' : 'az1',
    metadata: {},
  }));

/** Replays `creates` generated requests on `hosts` hosts; the trace runs once to warm up first. */
export const benchSimulate = (hosts = 1_000, creates = 20_000): SimulateBenchRow => {
  const fleet = fleetOf(hosts);
  const text = generateTrace(creates, 11)
    .map((e) => JSON.stringify(e))
    .join('\n');
  const trace = parseTrace(text);
  const config = parseConfig('default', '{}');
  replay(fleet, parseTrace(text.split('\n').slice(0, 2000).join('\n')), config, { seed: 1 });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = replay(fleet, trace, config, { seed: 1, clock: () => performance.now() });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    hosts,
    events: trace.events.length,
    placed: r.result.placed,
    seconds,
    placements_per_s: r.result.placed / seconds,
    placements_per_cpu_s: r.result.placed / cpuSeconds,
    decision_ms_p50: r.result.decision_ms.p50,
  };
};

/** The row as a markdown table, beside the core's own decisions per second at the same size. */
export const simulateTable = (row: SimulateBenchRow, coreMedianMs?: number): string =>
  [
    '| hosts | events | instances placed | seconds | placements/s (replay) | placements per CPU-second | replay decision p50 ms | core alone: decisions/s (1 / median ms, plain request) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${row.hosts.toLocaleString('en-US')} | ${row.events.toLocaleString('en-US')} | ${row.placed.toLocaleString('en-US')} | ${row.seconds.toFixed(1)} | ${row.placements_per_s.toFixed(0)} | ${row.placements_per_cpu_s.toFixed(0)} | ${row.decision_ms_p50.toFixed(3)} | ${coreMedianMs ? (1000 / coreMedianMs).toFixed(0) : '—'} |`,
  ].join('\n');

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(simulateTable(benchSimulate()));
}
