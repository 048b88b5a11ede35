/**
 * The API client every `npx qm` command shares, and the contract's exit codes
 * (CONTRACT.md "Operator CLI"): 0 done, 1 the API refused (any 4xx, NoValidHost
 * included), 2 usage error, 3 the API could not be reached. A 5xx counts as not
 * reached: the API is there but cannot do the work now (503 StoreUnavailable), so
 * retrying later is the answer, as for a connection refused.
 */
import type { Command } from 'commander';

export const EXIT = { done: 0, refused: 1, usage: 2, unreachable: 3 } as const;

/** A failure the CLI reports in one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The contract's error body. */
export interface ApiErrorBody {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/** A 4xx: the API refused; `body` is its JSON, printed as is under `--json`. */
export class ApiRefusedError extends CliError {
  constructor(
    readonly status: number,
    readonly error: ApiErrorBody,
    readonly body: unknown,
  ) {
    super(`the API refused (${status} ${error.code}): ${error.message}`, EXIT.refused);
    this.name = 'ApiRefusedError';
  }
}

/** The flags every API command takes. */
export interface ApiFlags {
  apiUrl?: string;
  token?: string;
  json?: boolean;
}

export const DEFAULT_API_URL = 'http://localhost:3000/dev';
/** Seconds a default (minted) operator token lives: long enough for one command. */
export const DEFAULT_TOKEN_TTL_S = 300;
const TIMEOUT_MS = 30_000;

/** Adds `--api-url`, `--token` and `--json` to a command. */
export const withApiFlags = (cmd: Command, json = "print the API's JSON"): Command =>
  cmd
    .option('--api-url <url>', `the API (default: $QM_API_URL, else ${DEFAULT_API_URL})`)
    .option(
      '--token <token>',
      'an operator token (default: $QM_TOKEN, else one minted from $QM_SECRET or the dev secret)',
    )
    .option('--json', json);

const errorOf = (body: unknown, status: number): ApiErrorBody => {
  const e = (body as { error?: Partial<ApiErrorBody> } | undefined)?.error;
  return {
    code: typeof e?.code === 'string' ? e.code : `HTTP${status}`,
    message: typeof e?.message === 'string' ? e.message : `HTTP ${status}`,
    details: e?.details && typeof e.details === 'object' ? e.details : {},
  };
};

/** One Quartermaster API, reached at `baseUrl` with a bearer token. */
export class Api {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** Sends one request; resolves to the JSON of a 2xx, throws ApiRefusedError (4xx) or CliError (exit 3). */
  async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      text = await res.text();
    } catch (e) {
      const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (e as Error).message;
      throw new CliError(`cannot reach ${this.baseUrl}: ${why}`, EXIT.unreachable);
    }
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new CliError(
        `${this.baseUrl} answered ${res.status} with no JSON: is --api-url the Quartermaster API?`,
        EXIT.unreachable,
      );
    }
    if (res.status >= 500) {
      const e = errorOf(json, res.status);
      const retry = res.headers.get('retry-after');
      throw new CliError(
        `the API failed (${res.status} ${e.code}): ${e.message}${retry ? `; retry after ${retry} s` : ''}`,
        EXIT.unreachable,
      );
    }
    if (res.status >= 400) throw new ApiRefusedError(res.status, errorOf(json, res.status), json);
    return json as T;
  }
}

/**
 * The API the flags name: `--api-url` / `$QM_API_URL` / the local default, and
 * `--token` / `$QM_TOKEN` / a short-lived operator token from `mint`.
 */
export const connect = async (flags: ApiFlags, mint: () => Promise<string>): Promise<Api> => {
  const raw = flags.apiUrl || process.env.QM_API_URL || DEFAULT_API_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`--api-url: ${raw} is not a URL`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`--api-url: ${raw} is not an http(s) URL`, EXIT.usage);
  }
  const token = flags.token || process.env.QM_TOKEN || (await mint());
  return new Api(raw.replace(/\/+$/, ''), token);
};

/** Runs a command's body: a CliError becomes one stderr line and its exit code; under `--json` a refusal's body goes to stdout. */
export const guard = async (flags: { json?: boolean }, body: () => Promise<void>): Promise<void> => {
  try {
    await body();
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    if (e instanceof ApiRefusedError && flags.json) process.stdout.write(`${JSON.stringify(e.body, null, 2)}\n`);
    process.stderr.write(`qm: ${e.message}\n`);
    process.exitCode = e.exitCode;
  }
};

/** Percent-encodes a path segment. */
export const segment = (s: string): string => encodeURIComponent(s);
