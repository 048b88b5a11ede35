/**
 * A stored decision (`GET /decisions/{id}`) read into the explorer's rows, free of the DOM (unit-tested
 * in decision-model.test.ts). Like the node arithmetic in model.ts it reads the answer defensively: a
 * field that is missing or of the wrong type reads as empty or 0 rather than breaking the page.
 */
import { fmtWeight } from './format';
import { num } from './model';

/** One rejected host of a decision, as the explorer lists it. */
export interface RejectionRow {
  host: string;
  filter: string;
  reason: string;
  /** The typed rejection's code and figures (issue 11), when the stored decision has them. */
  code?: string;
  figures?: Record<string, unknown>;
  instanceIndex?: number;
}

export interface WeigherCell {
  weigher: string;
  raw: number;
  normalized: number;
  multiplier: number;
  contribution: number;
}

export interface RankingRow {
  host: string;
  weight: number;
  weighers: WeigherCell[];
}

export interface DecisionModel {
  id: string;
  placed: boolean;
  summary: string;
  decidedAt: string;
  hostsConsidered: number;
  filterCounts: Array<{ filter: string; hosts: number }>;
  rejections: RejectionRow[];
  ranking: RankingRow[];
  /** Every weigher named in the ranking, in first-seen order: the explorer's columns. */
  weighers: string[];
  picks: Array<{ instance_uuid: string; host: string; weight: number }>;
  flavor: { vcpus: number; memory_mb: number; disk_gb: number; name: string; instances: number };
  /** Ranking entries the store dropped (a ranking too large for the decision's head), else undefined. */
  truncated?: { ranking_total: number };
  /** A paged decision (past ~5,000 rejected hosts): `rejections` are its first page's; the total is here. */
  paging?: { pages: number; rejectionsTotal: number };
}

const record = (x: unknown): Record<string, unknown> =>
  x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : {};
const str = (x: unknown): string => (typeof x === 'string' ? x : x === undefined || x === null ? '' : String(x));

const rejectionRow = (host: string, r: Record<string, unknown>): RejectionRow => {
  const row: RejectionRow = { host, filter: str(r.filter), reason: str(r.reason) };
  if (typeof r.code === 'string') row.code = r.code;
  if (r.figures !== null && typeof r.figures === 'object') row.figures = record(r.figures);
  if (typeof r.instance_index === 'number') row.instanceIndex = r.instance_index;
  return row;
};

/**
 * A stored decision (`GET /decisions/{id}`) read into the explorer's rows. `rejections` is the stored
 * map host → {filter, reason, …}; a list of {host, …} (the scheduler's in-memory form) reads the same.
 */
export const decisionModel = (raw: unknown): DecisionModel => {
  const d = record(raw);
  const rej = d.rejections;
  const rejections = Array.isArray(rej)
    ? rej.map((r) => rejectionRow(str(record(r).host), record(r)))
    : Object.entries(record(rej)).map(([host, r]) => rejectionRow(host, record(r)));
  const ranking: RankingRow[] = (Array.isArray(d.ranking) ? d.ranking : []).map((e) => {
    const r = record(e);
    return {
      host: str(r.host),
      weight: num(r.weight),
      weighers: (Array.isArray(r.weighers) ? r.weighers : []).map((w) => {
        const c = record(w);
        return {
          weigher: str(c.weigher),
          raw: num(c.raw),
          normalized: num(c.normalized),
          multiplier: num(c.multiplier),
          contribution: num(c.contribution),
        };
      }),
    };
  });
  const weighers: string[] = [];
  for (const r of ranking) for (const w of r.weighers) if (!weighers.includes(w.weigher)) weighers.push(w.weigher);
  const spec = record(record(d.request).request_spec);
  const flavor = record(spec.instance_type);
  const model: DecisionModel = {
    id: str(d.decision_id),
    placed: d.placed === true,
    summary: str(d.summary),
    decidedAt: str(d.decided_at),
    hostsConsidered: num(d.hosts_considered),
    filterCounts: Object.entries(record(d.filter_counts))
      .map(([filter, hosts]) => ({ filter, hosts: num(hosts) }))
      .sort((a, b) => b.hosts - a.hosts || a.filter.localeCompare(b.filter)),
    rejections,
    ranking,
    weighers,
    picks: (Array.isArray(d.picks) ? d.picks : []).map((p) => {
      const r = record(p);
      return { instance_uuid: str(r.instance_uuid), host: str(r.host), weight: num(r.weight) };
    }),
    flavor: {
      name: str(flavor.name),
      vcpus: num(flavor.vcpus),
      memory_mb: num(flavor.memory_mb),
      disk_gb: num(flavor.root_gb) + num(flavor.ephemeral_gb),
      instances: num(spec.num_instances) || 1,
    },
  };
  const t = record(d.truncated);
  if (d.truncated !== undefined) model.truncated = { ranking_total: num(t.ranking_total) };
  const p = record(d.paging);
  if (d.paging !== undefined) model.paging = { pages: num(p.pages), rejectionsTotal: num(p.rejections_total) };
  return model;
};

/** "Why not host X" in one sentence, from the decision alone. */
export const verdictOf = (m: DecisionModel, host: string): string => {
  const r = m.rejections.find((x) => x.host === host);
  if (r) return `${host} was rejected by ${r.filter || 'a filter'}: ${r.reason.replace(/^[A-Za-z]+Filter: /, '')}`;
  const picked = m.picks.filter((p) => p.host === host).length;
  const rank = m.ranking.findIndex((x) => x.host === host);
  if (picked > 0) return `${host} was picked for ${picked} of ${m.flavor.instances} instance(s).`;
  if (rank >= 0) {
    return `${host} passed every filter and ranked ${rank + 1} of ${m.ranking.length} (weight ${fmtWeight(m.ranking[rank]?.weight ?? 0)}).`;
  }
  return `${host} is not in this decision: it was not in the fleet when the decision was made, or its entry was not stored.`;
};
