/**
 * The one log style of the agent and the scripts: one line per event, on stderr.
 *
 * text (default): `2026-11-26T01:00:00Z report host=hv-1 seq=5 status=200 …`, the
 * time to the second in UTC, the event, then `key=value` fields (a value with a
 * space, quote or `=` is JSON-quoted). json: the same fields as one JSON object a
 * line, `{"time":"2026-11-26T01:00:00Z","msg":"report","host":"hv-1",…}`, for a log
 * shipper. Undefined fields are left out in both.
 */

/** A field's value; `undefined` leaves the field out. */
export type LogValue = string | number | boolean | undefined;

/** The fields of one line, in the order they are written. */
export type LogFields = Readonly<Record<string, LogValue>>;

/** Writes one line: what happened (`report`, `notify`, `watch`, …) and its fields. */
export type Log = (event: string, fields?: LogFields) => void;

/** The formats `--log-format` takes. */
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** A log timestamp: ISO 8601 to the second, UTC. */
export const stamp = (ms = Date.now()): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const value = (v: string | number | boolean) =>
  typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v);

const defined = (f: LogFields) =>
  Object.entries(f).filter((e): e is [string, string | number | boolean] => e[1] !== undefined);

/** `k=v` pairs of a text line; values with spaces, quotes or `=` are JSON-quoted. */
export const fields = (f: LogFields): string =>
  defined(f)
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ');

/** One line in `format`, without its newline. */
export const formatLine = (format: LogFormat, at: Date, event: string, f: LogFields = {}): string => {
  const time = stamp(at.getTime());
  if (format === 'json') return JSON.stringify({ time, msg: event, ...Object.fromEntries(defined(f)) });
  const rest = fields(f);
  return rest ? `${time} ${event} ${rest}` : `${time} ${event}`;
};

/** Where lines go and how they look; the clock stamps each line. */
export interface LogOptions {
  format?: LogFormat;
  /** Receives each line without its newline (default: stderr). */
  write?: (line: string) => void;
  now?: () => Date;
}

const stderr = (line: string) => {
  process.stderr.write(`${line}\n`);
};

/** A `Log` writing `format` lines (default text, on stderr, stamped by the system clock). */
export const createLog = (o: LogOptions = {}): Log => {
  const { format = 'text', write = stderr, now = () => new Date() } = o;
  return (event, f) => write(formatLine(format, now(), event, f));
};

/** The message of anything thrown. */
export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
