/**
 * `qm trace export [--api-url URL] [--token T] [--since ISO] [--out TRACE.jsonl]`:
 * what a stack really saw, as a trace `qm simulate` replays.
 *
 * - Creates: every stored decision that was not a dry run (placed or refused:
 *   both are demand), from `GET /decisions` (operator, paged), at its
 *   `decided_at`. A one-instance request keeps its instance uuid as the id; a
 *   multi-instance one becomes one multi-create `<decision_id>` whose
 *   instances are `<decision_id>-1 … -N`.
 * - Deletes: the release times the API still shows — each node's `released`
 *   ledger (`GET /nodes`, an instance a report listed and delete.end or
 *   create.error then released, with the time it was applied). The notify
 *   function's idempotency records are not readable through the API and do not
 *   name the instance, so a delete applied before any report listed its
 *   instance leaves no time behind; those instances stay alive in the trace,
 *   and their number is printed on stderr.
 * t counts seconds from the first decision exported.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DEV_SECRET } from '../../adapters/config';
import { operatorToken } from '../../core/auth';

interface ExportOptions {
  apiUrl?: string;
  token?: string;
  since?: string;
  out?: string;
}

/** A decision as `GET /decisions` lists it. */
interface ListedDecision {
  decision_id: string;
  decided_at?: string;
  dry_run?: boolean;
  request?: {
    request_spec?: {
      instance_type?: Record<string, unknown>;
      instance_properties?: { availability_zone?: string };
      instance_uuids?: string[];
    };
    filter_properties?: { scheduler_hints?: { group?: string; group_policy?: string } };
  };
}

class ApiError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

const getJson = async (url: string, token: string): Promise<Record<string, unknown>> => {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
    text = await res.text();
  } catch (e) {
    throw new ApiError(`cannot reach ${url}: ${(e as Error).message}`, 3);
  }
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text);
  } catch {}
  if (!res.ok) {
    const err = body.error as { code?: string; message?: string } | undefined;
    const why = err ? `${err.code}: ${err.message}` : `HTTP ${res.status}`;
    throw new ApiError(`the API refused ${url}: ${why}`, res.status >= 500 ? 3 : 1);
  }
  return body;
};

/** Every page of a listing: `next` carried on until a page has none. */
const allPages = async (base: string, key: string, token: string, query: Record<string, string>) => {
  const out: unknown[] = [];
  let next: string | undefined;
  do {
    const q = new URLSearchParams({ ...query, ...(next ? { next } : {}) });
    const page = await getJson(`${base}?${q}`, token);
    out.push(...((page[key] as unknown[]) ?? []));
    next = typeof page.next === 'string' ? page.next : undefined;
  } while (next);
  return out;
};

/** The trace lines for `decisions` and the nodes' release ledgers; `unknownDeletes` counts the rest. */
export const traceFromStack = (
  decisions: readonly ListedDecision[],
  nodes: ReadonlyArray<{ released?: Array<{ instance_uuid: string; at: string }> }>,
): { lines: string[]; creates: number; deletes: number } => {
  const kept = decisions
    .filter((d) => !d.dry_run && d.decided_at && d.request?.request_spec?.instance_type)
    .sort((a, b) => Date.parse(a.decided_at as string) - Date.parse(b.decided_at as string));
  const t0 = kept.length ? Date.parse(kept[0]?.decided_at as string) : 0;
  const seconds = (iso: string) => Math.max(0, (Date.parse(iso) - t0) / 1000);
  const events: Array<{ t: number; line: Record<string, unknown> }> = [];
  const idOf = new Map<string, { id: string; t: number }>();
  for (const d of kept) {
    const rs = d.request?.request_spec ?? {};
    const uuids = rs.instance_uuids ?? [];
    const hints = d.request?.filter_properties?.scheduler_hints ?? {};
    const t = seconds(d.decided_at as string);
    const id = uuids.length === 1 ? (uuids[0] as string) : d.decision_id;
    uuids.forEach((u, k) => {
      idOf.set(u.toLowerCase(), { id: uuids.length === 1 ? id : `${id}-${k + 1}`, t });
    });
    const { name: _n, ...flavor } = rs.instance_type as Record<string, unknown>;
    events.push({
      t,
      line: {
        t,
        op: 'create',
        id,
        flavor,
        ...(uuids.length > 1 ? { num_instances: uuids.length } : {}),
        ...(hints.group ? { group: hints.group, group_policy: hints.group_policy } : {}),
        ...(rs.instance_properties?.availability_zone
          ? { availability_zone: rs.instance_properties.availability_zone }
          : {}),
      },
    });
  }
  let deletes = 0;
  for (const n of nodes) {
    for (const r of n.released ?? []) {
      const c = idOf.get(r.instance_uuid.toLowerCase());
      if (!c) continue;
      deletes++;
      events.push({
        t: Math.max(c.t, seconds(r.at)),
        line: { t: Math.max(c.t, seconds(r.at)), op: 'delete', id: c.id },
      });
    }
  }
  // Time order; a create before a delete of the same instant (the sort is stable).
  events.sort((a, b) => a.t - b.t);
  return { lines: events.map((e) => JSON.stringify(e.line)), creates: kept.length, deletes };
};

/** Registers `qm trace export`. */
export const registerTraceExport = (program: Command): void => {
  program
    .command('trace')
    .description('traces for qm simulate')
    .command('export')
    .description("write what a stack's stored decisions (and release ledgers) saw as TRACE.jsonl")
    .option('--api-url <url>', 'the API (default: $QM_API_URL, else http://localhost:3000/dev)')
    .option('--token <token>', 'an operator token (default: $QM_TOKEN, else one from $QM_SECRET or the local secret)')
    .option('--since <iso>', 'only decisions made at or after this time')
    .option('--out <file>', 'write the trace here (default: stdout)')
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .action(async (o: ExportOptions) => {
      const api = (o.apiUrl || process.env.QM_API_URL || 'http://localhost:3000/dev').replace(/\/+$/, '');
      if (o.since !== undefined && Number.isNaN(Date.parse(o.since))) {
        process.stderr.write(`qm: --since: ${o.since} is not an ISO 8601 time\n`);
        process.exit(2);
      }
      const token =
        o.token ||
        process.env.QM_TOKEN ||
        operatorToken(process.env.QM_SECRET || DEV_SECRET, { nowMs: Date.now(), ttlS: 600 });
      try {
        const decisions = (await allPages(`${api}/decisions`, 'decisions', token, {
          limit: '100',
          ...(o.since ? { since: new Date(o.since).toISOString() } : {}),
        })) as ListedDecision[];
        const nodes = (await allPages(`${api}/nodes`, 'nodes', token, {})) as Array<{
          released?: Array<{ instance_uuid: string; at: string }>;
        }>;
        const { lines, creates, deletes } = traceFromStack(decisions, nodes);
        const text = lines.length ? `${lines.join('\n')}\n` : '';
        if (o.out) writeFileSync(o.out, text);
        else process.stdout.write(text);
        process.stderr.write(
          `qm trace export: ${creates} creates, ${deletes} deletes from ${decisions.length} decisions` +
            ' (deletes applied before a report listed the instance leave no time behind: those stay alive)\n',
        );
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        process.stderr.write(`qm: ${e.message}\n`);
        process.exit(e.exitCode);
      }
    });
};
