/**
 * `qm simulate` (CONTRACT.md "Simulation"): replays a trace against a fleet
 * with each named configuration, side by side, through the scheduler core
 * (core/simulate/). `qm simulate --generate-trace` writes a synthetic trace;
 * `qm trace export` turns a stack's stored decisions into one
 * (scripts/cli/trace-export.ts). Exit codes as the rest of the CLI: 0 done,
 * 1 the API refused, 2 usage or input error, 3 the API could not be reached.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { QmError } from '../../core/errors';
import { generateTrace, parseMix } from '../../core/simulate/generate';
import { parseConfig, parseFleet, parseTrace, type SimConfig } from '../../core/simulate/inputs';
import { type ReplayResult, replay } from '../../core/simulate/replay';
import { markdownReport, svgChart, textTable } from '../../core/simulate/report';
import { registerTraceExport } from './trace-export';

/** Exit 2 with a message: a usage or input error. */
const usage = (message: string): never => {
  process.stderr.write(`qm: ${message}\n`);
  process.exit(2);
};

const readText = (what: string, file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    return usage(
      `${what} ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
};

/** Input errors of the pure parts become usage errors; anything else is a bug and stays loud. */
const inputs = <T>(f: () => T): T => {
  try {
    return f();
  } catch (e) {
    if (e instanceof QmError) return usage(e.message);
    throw e;
  }
};

const nonNegativeInt = (flag: string, text: string): number => {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) usage(`${flag}: ${text} is not a whole number ≥ 0`);
  return Number(text);
};

interface SimulateOptions {
  fleet?: string;
  trace?: string;
  config: string[];
  seed: string;
  out?: string;
  json?: boolean;
  generateTrace?: boolean;
  count?: string;
  mix?: string;
}

/** A progress line on stderr at most once a second (rewritten in place on a terminal). */
const progress = () => {
  let last = performance.now();
  let shown = false;
  return {
    tick(name: string, done: number, total: number) {
      const now = performance.now();
      // A terminal line is rewritten each second; a log gets one every 5 s.
      if (now - last < (process.stderr.isTTY ? 1000 : 5000) && done < total) return;
      if (!shown && done === total) return;
      last = now;
      shown = true;
      const line = `qm simulate: ${name}: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} events (${Math.floor((100 * done) / total)} %)`;
      process.stderr.write(process.stderr.isTTY ? `\r${line}${done === total ? '\n' : ''}` : `${line}\n`);
    },
    reset() {
      shown = false;
      last = performance.now();
    },
  };
};

const runGenerate = (o: SimulateOptions) => {
  if (o.count === undefined) usage('simulate --generate-trace: --count N is required');
  const count = nonNegativeInt('--count', o.count as string);
  const seed = nonNegativeInt('--seed', o.seed);
  const mix = o.mix ? inputs(() => parseMix(readText('mix', o.mix as string), o.mix)) : {};
  const lines = generateTrace(count, seed, mix).map((e) => JSON.stringify(e));
  process.stdout.write(lines.length ? `${lines.join('\n')}\n` : '');
};

const runSimulate = (o: SimulateOptions) => {
  if (!o.fleet) usage('simulate: --fleet FLEET.json is required');
  if (!o.trace) usage('simulate: --trace TRACE.jsonl is required');
  if (o.config.length === 0) usage('simulate: at least one --config NAME=CONFIG.json is required');
  const seed = nonNegativeInt('--seed', o.seed);
  const fleetFile = o.fleet as string;
  const traceFile = o.trace as string;
  const fleet = inputs(() => parseFleet(readText('fleet', fleetFile), fleetFile));
  const names = new Set<string>();
  const configs: Array<SimConfig & { file: string }> = o.config.map((spec) => {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) usage(`--config ${spec}: expected NAME=CONFIG.json`);
    const name = spec.slice(0, eq);
    const file = spec.slice(eq + 1);
    if (names.has(name)) usage(`--config ${spec}: the name ${name} is used twice`);
    names.add(name);
    return { ...inputs(() => parseConfig(name, readText(`config ${name}`, file), file)), file };
  });
  const trace = inputs(() => parseTrace(readText('trace', traceFile), traceFile));
  const bar = progress();
  const runs: ReplayResult[] = configs.map((c) => {
    bar.reset();
    return replay(fleet, trace, c, {
      seed,
      clock: () => performance.now(),
      onProgress: (done, total) => bar.tick(c.name, done, total),
    });
  });
  const results = runs.map((r) => r.result);
  if (o.json) console.log(JSON.stringify({ configs: results }, null, 2));
  else console.log(textTable(results));
  if (o.out) {
    const dir = o.out;
    try {
      mkdirSync(dir, { recursive: true });
      const chart = 'simulation.svg';
      writeFileSync(join(dir, chart), svgChart(runs.map((r) => ({ name: r.result.name, series: r.series }))));
      writeFileSync(
        join(dir, 'simulation.md'),
        markdownReport(
          {
            fleet: basename(fleetFile),
            hosts: fleet.length,
            trace: basename(traceFile),
            events: trace.events.length,
            instances: trace.instances,
            seed,
            configs: configs.map((c) => ({ name: c.name, file: basename(c.file) })),
            chart,
          },
          results,
        ),
      );
    } catch (e) {
      usage(`--out ${dir}: ${(e as Error).message}`);
    }
    process.stderr.write(`qm simulate: wrote ${join(dir, 'simulation.md')} and ${join(dir, 'simulation.svg')}\n`);
  }
};

/** Registers `qm simulate` and `qm trace export` on the CLI. */
export const registerSimulate = (program: Command): void => {
  program
    .command('simulate')
    .description('replay a trace against a fleet with each configuration, side by side (nothing is stored)')
    .option('--fleet <file>', 'FLEET.json: {"hosts": [{"host", "vcpus", "memory_mb", "local_gb", …}]}')
    .option('--trace <file>', 'TRACE.jsonl: one create or delete event a line, in time order')
    .option(
      '--config <name=file>',
      'a configuration: scheduler options by their README names (repeat for each)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--seed <n>', 'seed of the random choices (the same seed gives the same placements)', '0')
    .option('--out <dir>', 'also write simulation.md and simulation.svg there')
    .option('--json', 'print {"configs": [...]}')
    .option('--generate-trace', 'instead: write a synthetic trace (Azure-like sizes and lifetimes) to stdout')
    .option('--count <n>', 'with --generate-trace: how many create requests')
    .option('--mix <file>', 'with --generate-trace: flavor mix, lifetimes, arrival rate (see the README)')
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .action((o: SimulateOptions) => (o.generateTrace ? runGenerate(o) : runSimulate(o)));
  registerTraceExport(program);
};
