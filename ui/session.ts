/**
 * The dashboard's session: the operator's token (kept in sessionStorage, so it leaves with the tab) and
 * the API calls made with it. Every view reads the API through `api`, which turns a non-2xx answer into
 * an `ApiError` carrying the contract's error code.
 */
import type { NodeView } from './model';

/** GET /nodes pages read per refresh (1,000 hosts a page). */
const MAX_PAGES = 20;
const TOKEN_KEY = 'qm.operator-token';

/** The API's base: the page is `<base>/dashboard` (the stage prefix locally and on API Gateway alike). */
const API_BASE = location.pathname.replace(/\/dashboard\/?$/, '');

/** A non-2xx answer of the API (or one that is not JSON): its status and the contract's error code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let token = sessionStorage.getItem(TOKEN_KEY) ?? '';

/** The token signed in with, or '' when signed out. */
export const currentToken = (): string => token;

/** Keeps `t` (trimmed) as the token for this tab. */
export const keepToken = (t: string): void => {
  token = t.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
};

/** Forgets the token, in memory and in the tab's storage. */
export const dropToken = (): void => {
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
};

/** Whether the API refused the token: the caller signs out rather than retrying. */
export const isUnauthorized = (e: unknown): e is ApiError => e instanceof ApiError && e.status === 401;

/** An error as the page shows it: the contract's `code: message`, or why the API was not reached. */
export const errorText = (e: unknown): string =>
  e instanceof ApiError ? `${e.code}: ${e.message}` : `the API could not be reached (${(e as Error).message})`;

/** GET `path` of the API with the token; the parsed body, or an `ApiError`. */
export const api = async (path: string): Promise<unknown> => {
  const r = await fetch(`${API_BASE}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await r.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(r.status, 'NotJson', `the API answered ${r.status} with a body that is not JSON`);
  }
  if (!r.ok) {
    const e = (body as { error?: { code?: string; message?: string } }).error ?? {};
    throw new ApiError(r.status, e.code ?? 'Error', e.message ?? `the API answered ${r.status}`);
  }
  return body;
};

/** The fleet, page by page of GET /nodes (at most MAX_PAGES); entries without a host name are left out. */
export const readFleet = async (): Promise<NodeView[]> => {
  const all: NodeView[] = [];
  let next: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const q = next ? `?next=${encodeURIComponent(next)}` : '';
    const body = (await api(`/nodes${q}`)) as { nodes?: NodeView[]; next?: string };
    all.push(...(body.nodes ?? []).filter((n) => typeof n?.host === 'string'));
    next = body.next;
    if (!next) break;
  }
  return all;
};
