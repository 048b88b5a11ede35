/**
 * `qm why <decision_id> [<host>]`: "why was my request not placed, why not host X?"
 * With a host, one line from GET /decisions/{id}?host=; without, the decision's
 * summary and how many hosts each filter rejected.
 */
import type { Command } from 'commander';
import { DECISION_ID_PATTERN } from '../../core/decision-verdict';
import { type ApiFlags, CliError, connect, EXIT, guard, segment, withApiFlags } from './api';
import { table } from './format';
import { hostArg } from './nodes';
import { breakdown } from './schedule';

interface Weighed {
  weight?: number;
  weighers?: Array<{ weigher: string; contribution: number }>;
  rank?: number;
}
/** The API's verdict on one host (core/decision-verdict.ts). */
export type VerdictJson =
  | { host: string; verdict: 'rejected'; filter: string; reason: string; instance_index?: number }
  | ({ host: string; verdict: 'picked'; instances: Array<{ instance_uuid: string }> } & Weighed)
  | ({ host: string; verdict: 'passed' } & Weighed);

const weighed = (v: Weighed) =>
  v.weight !== undefined && v.weighers ? `, weight ${breakdown(v.weight, v.weighers)}` : '';

/**
 * One line: `<host>: rejected by <Filter>: <reason>`, `<host>: picked[, weight W (…)]`,
 * `<host>: passed, weight W (<Weigher> ±x, …)`. The stored reason may already start
 * with the filter's name; it is said once.
 */
export const verdictLine = (v: VerdictJson): string => {
  if (v.verdict === 'rejected') {
    const reason = v.reason.startsWith(`${v.filter}: `) ? v.reason.slice(v.filter.length + 2) : v.reason;
    const which = v.instance_index ? ` (placing instance ${v.instance_index + 1})` : '';
    return `${v.host}: rejected by ${v.filter}${which}: ${reason}`;
  }
  if (v.verdict === 'picked') {
    const n = v.instances.length;
    return `${v.host}: picked${n > 1 ? ` for ${n} instances` : ''}${weighed(v)}`;
  }
  return `${v.host}: passed${weighed(v)}${v.rank ? `, ranked ${v.rank}` : ''}`;
};

interface DecisionJson {
  decision_id: string;
  placed: boolean;
  dry_run?: boolean;
  summary: string;
  hosts_considered: number;
  filter_counts: Record<string, number>;
  picks: Array<{ instance_uuid: string; host: string; weight: number }>;
  decided_at?: string;
  host_state_age_ms?: number;
  truncated?: { ranking_total?: number };
  paging?: { pages: number; rejections_total: number };
}

/** The decision's summary, per-filter counts and picks. */
export const renderDecision = (d: DecisionJson): string => {
  const outcome = d.placed
    ? d.dry_run
      ? 'dry run, nothing claimed'
      : `placed ${d.picks.length} instance${d.picks.length === 1 ? '' : 's'}`
    : 'not placed (NoValidHost)';
  const rejected = Object.values(d.filter_counts ?? {}).reduce((t, n) => t + n, 0);
  const counts = Object.entries(d.filter_counts ?? {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const when = [
    d.decided_at ? `decided ${d.decided_at}` : '',
    d.host_state_age_ms === undefined ? '' : `host states ${d.host_state_age_ms} ms old`,
  ].filter(Boolean);
  return [
    `decision ${d.decision_id}: ${outcome}${when.length ? ` (${when.join(', ')})` : ''}`,
    d.summary,
    '',
    table(
      ['FILTER', 'REJECTED'],
      [...counts.map(([f, n]) => [f, String(n)]), ['(passed every filter)', String(d.hosts_considered - rejected)]],
      ['l', 'r'],
    ),
    ...(d.picks.length
      ? [
          '',
          table(
            ['INSTANCE', 'HOST', 'WEIGHT'],
            d.picks.map((p) => [p.instance_uuid, p.host, p.weight.toFixed(3)]),
            ['l', 'l', 'r'],
          ),
        ]
      : []),
    ...(d.paging
      ? [
          '',
          `(paged: ${d.paging.rejections_total} rejected hosts in ${d.paging.pages} pages; the counts above are complete)`,
        ]
      : []),
    ...(d.truncated ? [`(the ranking was too large to keep whole: ${d.truncated.ranking_total} ranked hosts)`] : []),
    '',
    `one host: npx qm why ${d.decision_id} <host>`,
  ].join('\n');
};

/** Registers `qm why`; `mint` gives the default operator token. */
export const registerWhyCommand = (program: Command, mint: () => Promise<string>): void => {
  withApiFlags(
    program
      .command('why <decision_id> [host]')
      .description("a decision's summary and per-filter counts; with a host, that host's verdict in one line"),
  ).action((id: string, host: string | undefined, opts: ApiFlags) =>
    guard(opts, async () => {
      if (!DECISION_ID_PATTERN.test(id)) throw new CliError(`${id} is not a decision id (a uuid)`, EXIT.usage);
      const api = await connect(opts, mint);
      if (host === undefined) {
        const d = await api.send<DecisionJson>('GET', `/decisions/${segment(id)}`);
        process.stdout.write(opts.json ? `${JSON.stringify(d, null, 2)}\n` : `${renderDecision(d)}\n`);
        return;
      }
      const v = await api.send<VerdictJson>('GET', `/decisions/${segment(id)}?host=${segment(hostArg(host))}`);
      process.stdout.write(opts.json ? `${JSON.stringify(v, null, 2)}\n` : `${verdictLine(v)}\n`);
    }),
  );
};
