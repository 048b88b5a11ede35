/**
 * `GET /decisions?since=…&limit=…&next=…` (operator): the stored decisions, a
 * page at a time, each as what a trace needs (`qm trace export`): its request,
 * picks and time, without the per-host rejections and ranking (read one
 * decision whole with `GET /decisions/{id}`). Pages come in the store's order,
 * not by time; a page may hold fewer than `limit` (even none) and still carry
 * `next`: the client goes on until a page has no `next`.
 */
import { z } from 'zod';
import { ValidationError } from './errors';
import { UUID_PATTERN } from './schema';

/** `GET /decisions` query: `since` (ISO 8601), `limit` (1–100, default 100), `next` (a previous page's). */
export const DecisionListQuery = z.strictObject({
  since: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 time')
    .optional(),
  limit: z.coerce.number().int().min(1).max(100).default(100),
  next: z.string().max(200).optional(),
});

/** One listed decision. */
export interface DecisionListing {
  decision_id: string;
  decided_at?: string;
  placed?: boolean;
  dry_run?: boolean;
  summary?: string;
  request?: unknown;
  picks?: unknown;
}

/** A stored decision record → its listing. */
export const listingOf = (d: Record<string, unknown>): DecisionListing => ({
  decision_id: String(d.decision_id),
  ...(typeof d.decided_at === 'string' ? { decided_at: d.decided_at } : {}),
  ...(typeof d.placed === 'boolean' ? { placed: d.placed } : {}),
  ...(typeof d.dry_run === 'boolean' ? { dry_run: d.dry_run } : {}),
  ...(typeof d.summary === 'string' ? { summary: d.summary } : {}),
  ...(d.request === undefined ? {} : { request: d.request }),
  ...(d.picks === undefined ? {} : { picks: d.picks }),
});

const PREFIX = 'd1:';

/** The opaque `next` after decision `id`: base64url of `d1:<id>`. */
export const encodeDecisionCursor = (id: string): string => Buffer.from(`${PREFIX}${id}`, 'utf8').toString('base64url');

/** The decision id a `next` continues after; a 400 naming `next` for anything encodeDecisionCursor did not make. */
export const decodeDecisionCursor = (next: string): string => {
  const bad = () => new ValidationError('next', 'must be the next value of a previous page');
  if (!/^[A-Za-z0-9_-]+$/.test(next)) throw bad();
  const text = Buffer.from(next, 'base64url').toString('utf8');
  const id = text.slice(PREFIX.length);
  // A page may end on any item of the decisions table: an instance pointer (`instance#<uuid>`, rule 6)
  // or a decision's page (`<uuid>#p<n>`, core/decision-pages.ts) included.
  const key = id.startsWith('instance#') ? id.slice('instance#'.length) : id.replace(/#p(0|[1-9][0-9]{0,8})$/, '');
  if (!text.startsWith(PREFIX) || !UUID_PATTERN.test(key) || encodeDecisionCursor(id) !== next) throw bad();
  return id;
};
