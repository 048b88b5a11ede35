/**
 * `qm schedule --vcpus N --memory-mb N …`: builds Nova's request spec from flags,
 * sends POST /schedule, prints the picks (a dry run: the ranking with each
 * weigher's part) or the NoValidHost summary.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type ApiFlags, ApiRefusedError, CliError, connect, EXIT, guard, withApiFlags } from './api';
import { colourFor, gb, mb, type Paint, Progress, painter, signed, table } from './format';

/** The flags of `qm schedule`, as commander parses them. */
export interface ScheduleFlags extends ApiFlags {
  vcpus: number;
  memoryMb: number;
  rootGb?: number;
  ephemeralGb?: number;
  swapMb?: number;
  num?: number;
  az?: string;
  group?: string;
  policy?: 'affinity' | 'anti-affinity';
  extraSpec?: Record<string, string>;
  imageProperty?: Record<string, string>;
  dryRun?: boolean;
}

/** A non-negative integer flag value. */
export const integer = (v: string): number => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('must be a whole number');
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('is too large');
  return n;
};

/** Collects repeated `K=V` flags into one object (the first `=` splits; a later repeat of K wins). */
export const keyValue = (v: string, acc: Record<string, string> = {}): Record<string, string> => {
  const i = v.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError(`${v} is not KEY=VALUE`);
  return { ...acc, [v.slice(0, i)]: v.slice(i + 1) };
};

/** The POST /schedule body the flags describe (CONTRACT.md "Scheduling"). */
export const scheduleBody = (f: ScheduleFlags) => {
  if ((f.group === undefined) !== (f.policy === undefined)) {
    throw new CliError('--group and --policy go together', EXIT.usage);
  }
  return {
    request_spec: {
      instance_type: {
        vcpus: f.vcpus,
        memory_mb: f.memoryMb,
        root_gb: f.rootGb ?? 0,
        ephemeral_gb: f.ephemeralGb ?? 0,
        swap: f.swapMb ?? 0,
        extra_specs: f.extraSpec ?? {},
      },
      image: { properties: f.imageProperty ?? {} },
      instance_properties: f.az === undefined ? {} : { availability_zone: f.az },
      num_instances: f.num ?? 1,
    },
    ...(f.group === undefined
      ? {}
      : { filter_properties: { scheduler_hints: { group: f.group, group_policy: f.policy } } }),
    dry_run: Boolean(f.dryRun),
  };
};

interface Ranked {
  host: string;
  weight: number;
  weighers: Array<{ weigher: string; contribution: number }>;
}
interface ScheduleAnswer {
  decision_id: string;
  selections: Array<{ instance_uuid: string; host: string; weight: number }>;
  dry_run: boolean;
  summary: string;
  ranking?: Ranked[];
}

/** `W (RAMWeigher +1.000, CPUWeigher +0.500)`. */
export const breakdown = (weight: number, weighers: Ranked['weighers']): string =>
  `${weight.toFixed(3)} (${weighers.map((w) => `${w.weigher} ${signed(w.contribution)}`).join(', ')})`;

const RANKING_SHOWN = 10;

/** The picks; a dry run adds the best of the ranking. */
export const renderPlaced = (a: ScheduleAnswer, paint: Paint): string => {
  const n = a.selections.length;
  const lines = [
    a.dry_run
      ? `dry run: would place ${n} instance${n === 1 ? '' : 's'} (nothing claimed)`
      : `placed ${n} instance${n === 1 ? '' : 's'}`,
    table(
      ['INSTANCE', 'HOST', 'WEIGHT'],
      a.selections.map((s) => [s.instance_uuid, paint('bold', s.host), s.weight.toFixed(3)]),
      ['l', 'l', 'r'],
    ),
  ];
  if (a.ranking && a.ranking.length > 0) {
    lines.push(
      '',
      `ranking (${Math.min(a.ranking.length, RANKING_SHOWN)} of ${a.ranking.length} hosts that passed every filter):`,
      table(
        ['#', 'HOST', 'WEIGHT'],
        a.ranking.slice(0, RANKING_SHOWN).map((r, i) => [String(i + 1), r.host, breakdown(r.weight, r.weighers)]),
        ['r', 'l', 'l'],
      ),
    );
  }
  lines.push('', `${a.summary}`, `decision ${a.decision_id}: npx qm why ${a.decision_id} [<host>]`);
  return lines.join('\n');
};

/** A NoValidHost 409: the summary, the count per filter, and how to ask about one host. */
export const renderNoValidHost = (details: Record<string, unknown>, message: string): string => {
  const counts = Object.entries((details.filter_counts as Record<string, number> | undefined) ?? {}).sort(
    (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
  );
  const id = String(details.decision_id ?? '');
  return [
    `no valid host: ${String(details.summary ?? message)}`,
    ...(counts.length
      ? [
          table(
            ['FILTER', 'REJECTED'],
            counts.map(([f, c]) => [f, String(c)]),
            ['l', 'r'],
          ),
        ]
      : []),
    ...(id ? [`decision ${id}: npx qm why ${id} <host>`] : []),
  ].join('\n');
};

const flavorSummary = (f: ScheduleFlags) =>
  `${f.num ?? 1} × ${f.vcpus} vCPU, ${mb(f.memoryMb)} RAM, ${gb((f.rootGb ?? 0) + (f.ephemeralGb ?? 0))} disk`;

/** Registers `qm schedule`; `mint` gives the default operator token. */
export const registerScheduleCommand = (program: Command, mint: () => Promise<string>): void => {
  withApiFlags(
    program
      .command('schedule')
      .description('POST /schedule: place instances; prints the picks, or the NoValidHost summary')
      .requiredOption('--vcpus <n>', 'vCPUs per instance', integer)
      .requiredOption('--memory-mb <n>', 'RAM per instance, MB', integer)
      .option('--root-gb <n>', 'root disk, GB (default 0)', integer)
      .option('--ephemeral-gb <n>', 'ephemeral disk, GB (default 0)', integer)
      .option('--swap-mb <n>', 'swap, MB (default 0)', integer)
      .option('--num <n>', 'how many instances (default 1)', integer)
      .option('--az <zone>', 'availability zone')
      .option('--group <name>', 'server group (with --policy)')
      .addOption(new Option('--policy <policy>', 'server group policy').choices(['affinity', 'anti-affinity']))
      .option('--extra-spec <k=v>', 'flavor extra spec, repeatable (e.g. capabilities:cpu_info:arch=x86_64)', keyValue)
      .option('--image-property <k=v>', 'image property, repeatable (e.g. hypervisor_type=qemu)', keyValue)
      .option('--dry-run', 'claim nothing; show the full ranking'),
  ).action((opts: ScheduleFlags) =>
    guard(opts, async () => {
      const body = scheduleBody(opts);
      const api = await connect(opts, mint);
      const progress = new Progress();
      progress.update(`scheduling ${flavorSummary(opts)}…`);
      let answer: ScheduleAnswer;
      try {
        answer = await api.send<ScheduleAnswer>('POST', '/schedule', body);
      } catch (e) {
        progress.done();
        if (e instanceof ApiRefusedError && e.error.code === 'NoValidHost' && !opts.json) {
          process.stdout.write(`${renderNoValidHost(e.error.details, e.error.message)}\n`);
          process.exitCode = EXIT.refused;
          return;
        }
        throw e;
      }
      progress.done();
      if (opts.json) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
      else process.stdout.write(`${renderPlaced(answer, painter(colourFor(process.stdout)))}\n`);
    }),
  );
};
