/**
 * A stored decision at any fleet size (issue 12 item 5): a head (the request,
 * picks, counts, ranking, and the page index) and, when the per-host
 * rejections are too many for one response, pages of them sorted by host name.
 * `?host=` reads the head and exactly one page: the page index keeps each
 * page's first host, so a binary search names the page.
 *
 * A page is stored compact: a rejection's filter, code and figure names once
 * per kind, then per host only its figures as data; the sentence is rendered
 * again on read (core/scheduler/reasons.ts), as it was on write. A rejection
 * whose sentence does not render back from its data (no code, a foreign
 * filter, extra fields) keeps what it had verbatim. Pure: the adapter gzips
 * and stores what this builds.
 */
import type { DecisionRecord, DecisionRejection } from './ports';
import { normalizedOn, type WeigherScale } from './scheduler/rank';
import { reasonOf } from './scheduler/reasons';
import type { Figure, Figures } from './scheduler/types';

/**
 * Bytes of response JSON a page's rejections may take (~5,000 hosts' at ~200 B each):
 * a paged `GET /decisions/{id}` answers well under Lambda's 6 MB payload even with the head.
 */
export const PAGE_BYTES = 1_000_000;

/** Where a paged decision's rejections are: how many pages, each one's first host, how many in all. */
export interface DecisionPaging {
  pages: number;
  /** `first_hosts[n]` is page n's smallest host name (UTF-16 code-unit order, as `<` compares). */
  first_hosts: string[];
  rejections_total: number;
}

/** A decision as its head keeps it: whole when small (`rejections` inline), else with `paging`. */
export type DecisionHead = Omit<DecisionRecord, 'rejections'> & {
  rejections?: Record<string, DecisionRejection>;
  paging?: DecisionPaging;
};

/** A rejection's kind: its filter, its code (null when it has none) and the names of its figures, in order. */
type Kind = [filter: string, code: string | null, keys: string[]];

/** One page of rejections, compact: row i is `hosts[i]`'s `[kind, instance_index, ...figure values]`. */
export interface CompactPage {
  v: 1;
  kinds: Kind[];
  hosts: string[];
  rows: Array<Array<number | Figure>>;
  /** Row index → what does not render back from the row's data (the sentence, extra fields), verbatim. */
  extra?: Record<string, Record<string, unknown>>;
}

/**
 * A ranking, compact: the weighers' names once, then per host `[host, weight, raw, normalized,
 * multiplier, ...]`, three figures per weigher. A contribution is not stored: it is
 * `multiplier × normalized + 0` (core/scheduler/rank.ts), computed again on read to the same double.
 * With the pass's `scales` (`[min, range, floor, ceil]` per weigher, ±Infinity as null) the
 * normalized values are not stored either (`normalizedOn`, again to the same double): two figures
 * per weigher. A stored decision over 1,000 hosts keeps the best 100: 59 KB of JSON (8.6 KB
 * gzipped) whole, 15 KB (5.5 KB) with three figures, less with two.
 */
export interface CompactRanking {
  v: 1;
  weighers: string[];
  scales?: Array<[min: number, range: number, floor: number | null, ceil: number | null]>;
  rows: Array<Array<string | number>>;
}

/** The stored form of a head: as DecisionHead, with inline rejections compact (`rx`) and the ranking compact (`rk`). */
export type StoredHead = Omit<DecisionHead, 'rejections' | 'ranking' | 'scales'> & {
  rx?: CompactPage;
  rejections?: unknown;
  ranking?: DecisionHead['ranking'];
  rk?: CompactRanking;
};

const RANKED_KEYS = 3;
const PART_KEYS = 5;
const SCALE_FIGURES = 4;

const scaleOf = ([min, range, floor, ceil]: NonNullable<CompactRanking['scales']>[number]): WeigherScale => ({
  min,
  range,
  floor: floor ?? Number.NEGATIVE_INFINITY,
  ceil: ceil ?? Number.POSITIVE_INFINITY,
});

/**
 * `ranking` compact, or undefined when an entry would not come back the same from the compact
 * form (another shape, weighers that differ between hosts, a contribution that is not
 * multiplier × normalized, a figure that is not a finite number) or there is none: then it is
 * stored as it is. `scales` are used when every normalized value follows from them (and they save bytes).
 */
export const encodeRanking = (
  ranking: DecisionHead['ranking'],
  scales?: readonly WeigherScale[],
): CompactRanking | undefined => {
  // `[]` is shorter than any compact form.
  if (ranking.length === 0) return;
  const weighers = (ranking[0]?.weighers ?? []).map((w) => w.weigher);
  const stored =
    scales?.length === weighers.length &&
    scales.every(
      (c) => Number.isFinite(c.min) && Number.isFinite(c.range) && !Number.isNaN(c.floor) && !Number.isNaN(c.ceil),
    )
      ? scales.map((c): [number, number, number | null, number | null] => [
          c.min,
          c.range,
          Number.isFinite(c.floor) ? c.floor : null,
          Number.isFinite(c.ceil) ? c.ceil : null,
        ])
      : undefined;
  const readBack = stored?.map(scaleOf);
  let scaled = readBack !== undefined;
  // Rows as stored with the scales ([host, weight, raw, multiplier, ...]); the normalized values beside
  // them, put back in only when the scales are not used.
  const rows: Array<Array<string | number>> = [];
  const normals: number[][] = [];
  for (const r of ranking) {
    if (Object.keys(r).length !== RANKED_KEYS || typeof r.host !== 'string' || !Number.isFinite(r.weight)) return;
    if (!Array.isArray(r.weighers) || r.weighers.length !== weighers.length) return;
    const row: Array<string | number> = [r.host, r.weight];
    const normal: number[] = [];
    for (let i = 0; i < weighers.length; i++) {
      const w = r.weighers[i];
      if (w === undefined || w.weigher !== weighers[i] || Object.keys(w).length !== PART_KEYS) return;
      const { raw, normalized, multiplier, contribution } = w;
      if (![raw, normalized, multiplier].every(Number.isFinite)) return;
      if (!Object.is(contribution, multiplier * normalized + 0)) return;
      if (scaled && !Object.is(normalizedOn(raw, readBack?.[i] as WeigherScale), normalized)) scaled = false;
      row.push(raw, multiplier);
      normal.push(normalized);
    }
    rows.push(row);
    normals.push(normal);
  }
  // A scale is four figures a weigher and saves one a row: worth it past four rows.
  if (scaled && stored !== undefined && rows.length > SCALE_FIGURES) return { v: 1, weighers, scales: stored, rows };
  // [host, weight, raw, normalized, multiplier, ...]: each normalized value between its raw and multiplier.
  for (const [k, row] of rows.entries()) {
    const normal = normals[k] as number[];
    for (let i = weighers.length - 1; i >= 0; i--) row.splice(3 + 2 * i, 0, normal[i] as number);
  }
  return { v: 1, weighers, rows };
};

export const decodeRanking = (rk: CompactRanking): DecisionHead['ranking'] => {
  const scales = rk.scales?.map(scaleOf);
  const width = scales ? 2 : 3;
  return rk.rows.map((row) => ({
    host: row[0] as string,
    weight: row[1] as number,
    weighers: rk.weighers.map((weigher, i) => {
      const at = 2 + width * i;
      const raw = row[at] as number;
      const normalized = scales ? normalizedOn(raw, scales[i] as WeigherScale) : (row[at + 1] as number);
      const multiplier = row[at + width - 1] as number;
      return { weigher, raw, normalized, multiplier, contribution: multiplier * normalized + 0 };
    }),
  }));
};

/** The ranking of a stored head, compact or not. */
export const rankingOf = (stored: Pick<StoredHead, 'ranking' | 'rk'>): DecisionHead['ranking'] =>
  stored.rk ? decodeRanking(stored.rk) : (stored.ranking ?? []);

/** A stored head with its ranking cut to its first `n` hosts, whichever form it has. */
export const cutRanking = <H extends Pick<StoredHead, 'ranking' | 'rk'>>(stored: H, n: number): H =>
  stored.rk
    ? { ...stored, rk: { ...stored.rk, rows: stored.rk.rows.slice(0, n) } }
    : { ...stored, ranking: (stored.ranking ?? []).slice(0, n) };

/** How many hosts a stored head ranks. */
export const rankedCount = (stored: Pick<StoredHead, 'ranking' | 'rk'>): number =>
  stored.rk ? stored.rk.rows.length : (stored.ranking ?? []).length;

const KNOWN = new Set(['filter', 'reason', 'instance_index', 'code', 'figures']);

/** Bytes a figure adds to a response's JSON, near enough for sizing a page. */
const figureBytes = (v: Figure): number =>
  typeof v === 'string'
    ? v.length + 3
    : typeof v === 'number' || typeof v === 'boolean'
      ? String(v).length + 1
      : JSON.stringify(v).length + 1;

/**
 * Rejections (by host, sorted) → one compact page, and the bytes each row takes in
 * a response (`"host":{"filter":…,"reason":…,"figures":{…}},`), for cutting pages.
 */
const encodeRows = (
  entries: ReadonlyArray<readonly [string, DecisionRejection]>,
): { page: CompactPage; bytes: number[] } => {
  const kinds: Kind[] = [];
  const kindIndex = new Map<string, { k: number; overhead: number }>();
  const hosts: string[] = [];
  const rows: Array<Array<number | Figure>> = [];
  const bytes: number[] = [];
  const extra: Record<string, Record<string, unknown>> = {};
  for (const [host, r] of entries) {
    const code = typeof r.code === 'string' ? r.code : null;
    const figures = (r.figures ?? {}) as Figures;
    const keys = Object.keys(figures);
    const sig = `${r.filter}\u0000${code}\u0000${keys.join('\u0000')}`;
    let kind = kindIndex.get(sig);
    if (kind === undefined) {
      kind = {
        k: kinds.length,
        overhead: JSON.stringify({ filter: r.filter, code, figures: keys, instance_index: 0 }).length + 20,
      };
      kinds.push([r.filter, code, keys]);
      kindIndex.set(sig, kind);
    }
    const i = rows.length;
    hosts.push(host);
    const row: Array<number | Figure> = [kind.k, r.instance_index ?? 0];
    let b = host.length + r.reason.length + kind.overhead;
    for (const key of keys) {
      const v = figures[key] as Figure;
      row.push(v);
      b += figureBytes(v) + 3;
    }
    rows.push(row);
    bytes.push(b);
    const own: Record<string, unknown> = {};
    // Lossless: a sentence is dropped only where the figures render it again exactly.
    if (code === null || reasonOf({ filter: r.filter, code, figures }) !== r.reason) own.reason = r.reason;
    if (r.figures === undefined) own.no_figures = true;
    if (r.instance_index === undefined) own.no_index = true;
    for (const key of Object.keys(r)) {
      if (KNOWN.has(key)) continue;
      own[key] = r[key];
      b += JSON.stringify(r[key] ?? null).length + key.length + 4;
    }
    if (Object.keys(own).length > 0) extra[i] = own;
  }
  return { page: { v: 1, kinds, hosts, rows, ...(Object.keys(extra).length > 0 ? { extra } : {}) }, bytes };
};

/** Rejections (by host, sorted) → one compact page. */
export const encodePage = (entries: ReadonlyArray<readonly [string, DecisionRejection]>): CompactPage =>
  encodeRows(entries).page;

/** Rows [from, to) of a page, as a page of their own (the kinds table is shared: it is a few entries). */
const slicePage = (p: CompactPage, from: number, to: number): CompactPage => {
  const extra: Record<string, Record<string, unknown>> = {};
  for (const [i, v] of Object.entries(p.extra ?? {}))
    if (Number(i) >= from && Number(i) < to) extra[Number(i) - from] = v;
  return {
    v: 1,
    kinds: p.kinds,
    hosts: p.hosts.slice(from, to),
    rows: p.rows.slice(from, to),
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
};

/** A compact page → its rejections by host, in host order, each with its sentence. */
export const decodePage = (p: CompactPage): Record<string, DecisionRejection> => {
  const out: Record<string, DecisionRejection> = {};
  p.rows.forEach((row, i) => {
    const [filter, code, keys] = p.kinds[row[0] as number] as Kind;
    const figures: Record<string, Figure> = {};
    keys.forEach((key, j) => {
      figures[key] = row[j + 2] as Figure;
    });
    const { reason, no_figures, no_index, ...rest } = (p.extra?.[i] ?? {}) as Record<string, unknown>;
    const r: DecisionRejection = {
      filter,
      reason: typeof reason === 'string' ? reason : reasonOf({ filter, code: code ?? '', figures }),
      instance_index: row[1] as number,
      ...(code === null ? {} : { code }),
      ...(no_figures ? {} : { figures }),
      ...rest,
    };
    if (no_index) delete (r as Partial<DecisionRejection>).instance_index;
    out[p.hosts[i] as string] = r;
  });
  return out;
};

/**
 * A decision → its head and its pages. Rejections that fit one response
 * (`pageBytes` of JSON) stay in the head; more are sorted by host and cut
 * into pages of at most `pageBytes` each (a page holds one host at least).
 */
export const splitDecision = (
  d: DecisionRecord,
  pageBytes = PAGE_BYTES,
): { head: StoredHead; pages: CompactPage[] } => {
  const { rejections, ranking, scales, ...others } = d;
  const rk = encodeRanking(ranking, scales);
  const rest = rk ? { ...others, rk } : { ...others, ranking };
  const all = rejections ?? {};
  // Default sort: UTF-16 code-unit order, as `<` compares in pageOfHost.
  const entries = Object.keys(all)
    .sort()
    .map((h) => [h, all[h] as DecisionRejection] as const);
  const { page, bytes } = encodeRows(entries);
  const cuts: number[] = [0];
  let sum = 0;
  bytes.forEach((b, i) => {
    if (sum + b > pageBytes && i > (cuts[cuts.length - 1] as number)) {
      cuts.push(i);
      sum = 0;
    }
    sum += b;
  });
  if (cuts.length === 1) return { head: { ...rest, rx: page }, pages: [] };
  const pages = cuts.map((start, n) => slicePage(page, start, cuts[n + 1] ?? entries.length));
  return { head: { ...rest, paging: pagingOf(pages, entries.length) }, pages };
};

/** The page index of these pages. */
export const pagingOf = (pages: readonly CompactPage[], total: number): DecisionPaging => ({
  pages: pages.length,
  first_hosts: pages.map((p) => p.hosts[0] as string),
  rejections_total: total,
});

/** A page cut in two halves (for an adapter whose stored page came out too large); a one-host page is itself. */
export const halve = (p: CompactPage): CompactPage[] => {
  if (p.hosts.length < 2) return [p];
  const mid = Math.ceil(p.hosts.length / 2);
  return [slicePage(p, 0, mid), slicePage(p, mid, p.hosts.length)];
};

/** A stored head → the head, its inline rejections decoded (a head stored before paging has them plain). */
export const headOf = (stored: StoredHead): DecisionHead => {
  const { rx, rejections, rk: _rk, ranking: _ranking, ...others } = stored;
  const rest = { ...others, ranking: rankingOf(stored) };
  if (rx) return { ...rest, rejections: decodePage(rx) };
  if (rejections && typeof rejections === 'object')
    return { ...rest, rejections: rejections as Record<string, DecisionRejection> };
  return rest.paging ? rest : { ...rest, rejections: {} };
};

/** The page that would hold `host`'s rejection (binary search on the first hosts), or -1 before the first. */
export const pageOfHost = (paging: DecisionPaging, host: string): number => {
  let lo = 0;
  let hi = paging.first_hosts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((paging.first_hosts[mid] as string) <= host) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
};
