/**
 * `npx tsx bench/ab-core.ts <root A> <root B> [hosts] [runs]`: the scheduler core of two checkouts
 * (e.g. a `git worktree` of an older commit and this one) in ONE process, their decisions
 * interleaved A B B A …, on each one's own synthetic fleet (bench/scheduler-core.ts) with the
 * ranking cut to 20. Interleaving makes both sides pay the same machine noise, so the ratio holds on
 * a shared machine where separate runs differ by 2×. Prints median wall and CPU ms per decision and
 * B/A. Needs both checkouts to export `syntheticFleet`, `plainRequest`, `busyRequest` from
 * bench/scheduler-core.ts (true since issue 3).
 */

import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

interface Side {
  name: string;
  hosts: unknown[];
  spec: unknown;
  opts: unknown;
  rng: () => number;
  run: (hosts: unknown[], spec: unknown, opts: unknown, rng: () => number, o: { rankingLimit: number }) => unknown;
}

const load = async (root: string) => {
  const at = (p: string) => import(pathToFileURL(resolve(root, p)).href);
  const [bench, scheduler, options, fixtures] = await Promise.all([
    at('bench/scheduler-core.ts'),
    at('core/scheduler/scheduler.ts'),
    at('core/scheduler/options.ts'),
    at('core/scheduler/test-fixtures.ts'),
  ]);
  return { bench, scheduler, options, fixtures };
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const main = async () => {
  const [rootA, rootB, hostsArg, runsArg] = process.argv.slice(2);
  if (!rootA || !rootB) throw new Error('usage: bench/ab-core.ts <root A> <root B> [hosts] [runs]');
  const n = Number(hostsArg ?? 10_000);
  const runs = Number(runsArg ?? 300);
  const mods = [await load(rootA), await load(rootB)];
  for (const request of ['plainRequest', 'busyRequest']) {
    const sides: Side[] = mods.map((m, i) => ({
      name: i === 0 ? 'A' : 'B',
      hosts: m.bench.syntheticFleet(n),
      spec: m.bench[request](),
      opts: m.options.resolveOptions({}),
      rng: m.fixtures.seededRng(7),
      run: m.scheduler.schedule,
    }));
    const wall: Record<string, number[]> = { A: [], B: [] };
    const cpu: Record<string, number[]> = { A: [], B: [] };
    const warm = 20;
    for (let i = 0; i < runs + warm; i++) {
      for (const s of i % 2 ? sides : [...sides].reverse()) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        s.run(s.hosts, s.spec, s.opts, s.rng, { rankingLimit: 20 });
        const t = performance.now() - t0;
        const c = process.cpuUsage(c0);
        if (i >= warm) {
          wall[s.name]?.push(t);
          cpu[s.name]?.push((c.user + c.system) / 1000);
        }
      }
    }
    const ms = (k: string) => `wall ${median(wall[k] ?? []).toFixed(3)} ms, cpu ${median(cpu[k] ?? []).toFixed(3)} ms`;
    const ratio = (xs: Record<string, number[]>) => (median(xs.B ?? []) / median(xs.A ?? [])).toFixed(3);
    console.log(
      `${n} hosts, ${request.replace('Request', '')}: A ${ms('A')} | B ${ms('B')} | B/A wall ${ratio(wall)}, cpu ${ratio(cpu)}`,
    );
  }
};

await main();
