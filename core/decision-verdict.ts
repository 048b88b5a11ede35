/**
 * "Why not host X?": one host's verdict in a stored decision
 * (`GET /decisions/{id}?host=<host>`, CONTRACT.md "Scheduling"). Pure: it reads the
 * decision record as stored (rejections keyed by host, ranking, picks) and
 * passes through the typed `code` / `figures` of a rejection where the record has them.
 */
import { z } from 'zod';
import { QmError } from './errors';
import { HOST_PATTERN } from './schema';

/** One weigher's part in a survivor's weight, as a stored decision keeps it. */
export interface WeigherPart {
  weigher: string;
  raw: number;
  normalized: number;
  multiplier: number;
  contribution: number;
}

/** The parts of a stored decision a verdict reads; everything else is left alone. */
export interface StoredDecision {
  decision_id?: string;
  hosts_considered?: number;
  rejections?: Record<
    string,
    { filter: string; reason: string; instance_index?: number; code?: string; figures?: Record<string, unknown> }
  >;
  ranking?: ReadonlyArray<{ host: string; weight: number; weighers: readonly WeigherPart[] }>;
  picks?: ReadonlyArray<{ instance_uuid: string; host: string; weight: number }>;
  truncated?: { ranking_total?: number };
  /** A paged decision (core/decision-pages.ts): `rejections` then holds one page of `rejections_total`. */
  paging?: { rejections_total: number };
}

/** A survivor's standing: its place among the ranked survivors (1 = best) and its weigher breakdown. */
interface Standing {
  rank?: number;
  weight?: number;
  weighers?: readonly WeigherPart[];
}

/** That one host's verdict. */
export type HostVerdict =
  | {
      decision_id: string;
      host: string;
      verdict: 'rejected';
      filter: string;
      reason: string;
      instance_index?: number;
      code?: string;
      figures?: Record<string, unknown>;
    }
  | ({
      decision_id: string;
      host: string;
      verdict: 'picked';
      /** The instances placed on it, in request order. */
      instances: Array<{ instance_uuid: string; weight: number }>;
    } & Standing)
  | ({ decision_id: string; host: string; verdict: 'passed' } & Standing);

/** 404: the decision exists but does not name the host (never considered, or a survivor beyond the kept ranking). */
export class HostNotInDecisionError extends QmError {
  constructor(id: string, host: string, why: string) {
    super(404, 'HostNotInDecision', `host ${host} is not in decision ${id}: ${why}`, { decision_id: id, host });
  }
}

const standingOf = (d: StoredDecision, host: string): Standing => {
  const i = (d.ranking ?? []).findIndex((r) => r.host === host);
  const r = d.ranking?.[i];
  return r ? { rank: i + 1, weight: r.weight, weighers: r.weighers } : {};
};

/**
 * The verdict on `host`: picked (with the instances it got), rejected (the first
 * filter that rejected it and its reason in numbers), or passed (its weigher
 * breakdown). A host picked for one instance and rejected for a later one of the
 * same request reads as picked. Throws HostNotInDecisionError when the record
 * names it nowhere.
 */
export const hostVerdict = (id: string, decision: StoredDecision, host: string): HostVerdict => {
  const picks = (decision.picks ?? []).filter((p) => p.host === host);
  if (picks.length > 0) {
    return {
      decision_id: id,
      host,
      verdict: 'picked',
      instances: picks.map((p) => ({ instance_uuid: p.instance_uuid, weight: p.weight })),
      ...standingOf(decision, host),
    };
  }
  const rejection = decision.rejections && Object.hasOwn(decision.rejections, host) && decision.rejections[host];
  if (rejection) {
    return {
      decision_id: id,
      host,
      verdict: 'rejected',
      filter: rejection.filter,
      reason: rejection.reason,
      ...(rejection.instance_index === undefined ? {} : { instance_index: rejection.instance_index }),
      ...(rejection.code === undefined ? {} : { code: rejection.code }),
      ...(rejection.figures === undefined ? {} : { figures: rejection.figures }),
    };
  }
  const standing = standingOf(decision, host);
  if (standing.rank !== undefined) return { decision_id: id, host, verdict: 'passed', ...standing };
  // Survivors beyond the kept ranking (decision_ranking_limit or a head too large for it) are unnamed.
  const rejected = decision.paging?.rejections_total ?? Object.keys(decision.rejections ?? {}).length;
  const unnamed =
    (decision.hosts_considered ?? 0) - rejected - (decision.ranking?.length ?? 0) > 0 || decision.truncated;
  throw new HostNotInDecisionError(
    id,
    host,
    unnamed
      ? 'the decision names its rejected hosts and its best-ranked survivors only; this host is neither'
      : 'it was not among the hosts considered',
  );
};

/** Decision ids are lower-case uuids (randomUUID). */
export const DECISION_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * `GET /decisions/{id}` query: `host` asks for that one host's verdict; `next` (a paged
 * decision's, core/decision-read.ts) for its following page. Unknown parameters are a 400.
 */
export const DecisionQuerySchema = z.strictObject({
  host: z.string().regex(HOST_PATTERN, 'must be a hostname').optional(),
  next: z.string().max(200).optional().describe("a paged decision's next: its following page of rejections"),
});
