import type { Report } from '../core/nodes';

/** How one `PUT /nodes/{host}` ended. */
export type SendResult =
  /** 2xx: stored. */
  | { kind: 'ok'; status: number }
  /** 409 StaleReport: the server holds `storedSeq` (when it said). */
  | { kind: 'stale'; status: 409; storedSeq: number | undefined; error: string }
  /** Another 4xx: the request itself is wrong (token, body); resending it at once will not help. */
  | { kind: 'rejected'; status: number; error: string }
  /** Network error, timeout, 5xx, 408 or 429: the API is away; retry with backoff. */
  | { kind: 'unavailable'; status: number | 'error'; error: string };

/** Where to send and how long to wait. */
export interface ClientOptions {
  apiUrl: string;
  token: string;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Aborts the request when the agent stops. */
  signal?: AbortSignal;
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: { stored_seq?: unknown } };
}

const describe = (body: ErrorBody | undefined, text: string): string => {
  const { code, message } = body?.error ?? {};
  if (typeof code === 'string' && typeof message === 'string') return `${code}: ${message}`;
  return text.slice(0, 200) || 'no body';
};

/** The short cause of a fetch failure: `ECONNREFUSED`, `timeout`, … */
export const networkError = (e: unknown): string => {
  if (e instanceof Error) {
    if (e.name === 'TimeoutError') return 'timeout';
    if (e.name === 'AbortError') return 'aborted';
    const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
    if (typeof cause?.code === 'string') return cause.code;
    if (typeof cause?.message === 'string') return cause.message;
    return e.message;
  }
  return String(e);
};

/** `PUT {apiUrl}/nodes/{host}` with the report; never throws. */
export const putReport = async (opts: ClientOptions, report: Report): Promise<SendResult> => {
  const url = `${opts.apiUrl.replace(/\/+$/, '')}/nodes/${encodeURIComponent(report.hypervisor_hostname)}`;
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 10_000);
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method: 'PUT',
      headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(report),
      signal: opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout,
    });
    text = await res.text();
  } catch (e) {
    return { kind: 'unavailable', status: 'error', error: networkError(e) };
  }
  if (res.ok) return { kind: 'ok', status: res.status };
  let body: ErrorBody | undefined;
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    body = undefined;
  }
  const error = describe(body, text);
  if (res.status === 409 && body?.error?.code === 'StaleReport') {
    const stored = body.error.details?.stored_seq;
    return {
      kind: 'stale',
      status: 409,
      storedSeq: Number.isSafeInteger(stored) ? (stored as number) : undefined,
      error,
    };
  }
  if (res.status >= 500 || res.status === 408 || res.status === 429) {
    return { kind: 'unavailable', status: res.status, error };
  }
  return { kind: 'rejected', status: res.status, error };
};
