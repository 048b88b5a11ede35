/**
 * `GET /decisions/{id}` and `?host=` over a decision stored in pages
 * (core/decision-pages.ts, CONTRACT.md "Scheduling"). A small decision answers
 * whole, as it always did. A paged one answers its head with the first page of
 * rejections, `paging` (which page of how many, how many rejections in it and
 * in all) and `next`; `?next=` gives the following pages, each
 * `{decision_id, rejections, paging, next?}`, until one has no `next`. Every
 * host rejected is in exactly one page, pages in host-name order.
 */
import { createHash } from 'node:crypto';
import { pageOfHost } from './decision-pages';
import { HostNotInDecisionError, type HostVerdict, hostVerdict } from './decision-verdict';
import { NotFoundError, ValidationError } from './errors';
import type { DecisionRejection, DecisionStore } from './ports';

/** What a page of a paged decision says about itself. */
export interface PageInfo {
  /** 1-based. */
  page: number;
  pages: number;
  rejections_in_page: number;
  rejections_total: number;
  /** The page's item was not stored (a write after the claim failed): its hosts are missing from the answer. */
  missing?: true;
}

/**
 * `next` of a paged decision: base64url (unpadded) of `dp1:<id>:<page>:<check>`,
 * 8 hex digits of SHA-256 over the rest (after functions/shared/cursor.ts), so
 * an edited, truncated or another decision's `next` is a 400 naming `next`.
 */
const PREFIX = 'dp1:';
const check = (id: string, n: number) => createHash('sha256').update(`${PREFIX}${id}:${n}`).digest('hex').slice(0, 8);

/** The `next` that reads page `n` (0-based) of decision `id`. */
export const encodePageCursor = (id: string, n: number): string =>
  Buffer.from(`${PREFIX}${id}:${n}:${check(id, n)}`, 'utf8').toString('base64url');

/** The 0-based page a `next` of decision `id` reads; a 400 naming `next` for anything encodePageCursor did not make for it. */
export const decodePageCursor = (next: string, id: string): number => {
  const bad = () => new ValidationError('next', 'must be the next value of a previous page of this decision');
  if (!/^[A-Za-z0-9_-]+$/.test(next)) throw bad();
  const m = /^dp1:([0-9a-f-]{36}):([1-9][0-9]{0,8}):([0-9a-f]{8})$/.exec(
    Buffer.from(next, 'base64url').toString('utf8'),
  );
  const n = Number(m?.[2]);
  if (!m || m[1] !== id || m[3] !== check(id, n) || encodePageCursor(id, n) !== next) throw bad();
  return n;
};

/**
 * GET /decisions/{id}[?next=]: the decision whole when it is not paged, else
 * the page `next` names (the first, with the head, without it).
 */
export const readDecision = async (store: DecisionStore, id: string, next?: string): Promise<unknown> => {
  const head = await store.head(id);
  if (head === undefined) throw new NotFoundError(`decision ${id}`);
  const { paging, ...rest } = head;
  if (!paging) {
    if (next !== undefined) throw new ValidationError('next', 'this decision is not paged: it is answered whole');
    return head;
  }
  const n = next === undefined ? 0 : decodePageCursor(next, id);
  // A cursor of a longer version of this decision (a claim retried under the same id) is past its end.
  if (n >= paging.pages) throw new ValidationError('next', 'is past the last page of this decision');
  const rejections = await store.page(id, n);
  const info: PageInfo = {
    page: n + 1,
    pages: paging.pages,
    rejections_in_page: rejections ? Object.keys(rejections).length : 0,
    rejections_total: paging.rejections_total,
    ...(rejections ? {} : { missing: true as const }),
  };
  const more = n + 1 < paging.pages ? { next: encodePageCursor(id, n + 1) } : {};
  const page = { rejections: rejections ?? {}, paging: info, ...more };
  return n === 0 ? { ...rest, ...page } : { decision_id: id, ...page };
};

/**
 * GET /decisions/{id}?host=: that one host's verdict, from the head and (for a
 * paged decision, unless the host was picked) the one page that holds it.
 */
export const readHostVerdict = async (store: DecisionStore, id: string, host: string): Promise<HostVerdict> => {
  const head = await store.head(id);
  if (head === undefined) throw new NotFoundError(`decision ${id}`);
  const { paging } = head;
  if (!paging) return hostVerdict(id, head, host);
  if (head.picks.some((p) => p.host === host)) return hostVerdict(id, { ...head, rejections: {} }, host);
  const n = pageOfHost(paging, host);
  const page: Record<string, DecisionRejection> | undefined = n < 0 ? {} : await store.page(id, n);
  try {
    return hostVerdict(id, { ...head, rejections: page ?? {} }, host);
  } catch (e) {
    if (e instanceof HostNotInDecisionError && page === undefined)
      throw new HostNotInDecisionError(id, host, 'the page of the decision that would hold it was not stored');
    throw e;
  }
};
