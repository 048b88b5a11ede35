import { setTimeout as sleep } from 'node:timers/promises';
import type { Report } from '../core/nodes';
import { putReport, type SendResult } from './client';
import type { Figures } from './collect';
import { createLog, errorText, type Log, type LogFields } from './log';
import { nextSeq, readState, writeState } from './state';

/** What the reporter needs; times in milliseconds. */
export interface ReporterOptions {
  apiUrl: string;
  /** The node token, or where to read it before every report (`--token-file`: replaced without a restart). */
  token: string | (() => Promise<string>);
  host: string;
  stateFile: string;
  /** Reads the host; called every poll. */
  collect: () => Promise<Figures>;
  /** A report is sent at least this often (default 60 s). */
  intervalMs?: number;
  /** How often figures are read to spot a change (default min(interval, 5 s)). */
  pollMs?: number;
  /** Backoff base and cap while the API is away (default 1 s and 60 s). */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Stops the loop (SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** One line per event; default text lines on stderr. */
  log?: Log;
  /** [0, 1) source for jitter. */
  random?: () => number;
  /** The clock: when a report is due, its seq and `reported_at` (default the system clock). */
  now?: () => Date;
}

/** Why a report was sent. */
export type ReportReason = 'start' | 'interval' | 'change' | 'retry' | 'stale' | 'once' | 'token';

/**
 * Full-jitter backoff (AWS Architecture Blog, "Exponential Backoff and Jitter"):
 * delay = random · min(cap, base · 2^failures), so within [0, min(cap, base·2^failures)].
 * `failures` counts consecutive failures before this one (0 for the first retry).
 */
export const backoffDelayMs = (failures: number, random: () => number = Math.random, baseMs = 1000, capMs = 60_000) =>
  random() * Math.min(capMs, baseMs * 2 ** Math.max(0, failures));

/** Memory moves by less than this share of the total without it counting as a change. */
export const MEMORY_JITTER = 0.01;

const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );

/**
 * True when `next` differs from the last sent figures in anything but memory jitter:
 * `memory_mb_used` counts only when it moved by at least 1 % of `memory_mb` (and 1 MiB),
 * since page cache and allocator churn move it every second; smaller drifts still reach
 * the API with the next interval report, and drift accumulates against the last *sent*
 * value so it cannot creep unreported past 1 %.
 */
export const figuresChanged = (prev: Figures, next: Figures): boolean => {
  const threshold = Math.max(1, next.memory_mb * MEMORY_JITTER);
  if (Math.abs(next.memory_mb_used - prev.memory_mb_used) >= threshold) return true;
  return canonical({ ...prev, memory_mb_used: 0 }) !== canonical({ ...next, memory_mb_used: 0 });
};

/** The fields of the one `report` line of a report attempt. */
export const reportFields = (
  report: Report,
  result: SendResult,
  extra: { reason?: ReportReason; retryInMs?: number } = {},
): LogFields => {
  const head = { host: report.hypervisor_hostname, seq: report.seq, status: result.status, reason: extra.reason };
  const tail =
    result.kind === 'ok'
      ? {
          vcpus: report.vcpus,
          vcpus_used: report.vcpus_used,
          free_ram_mb: report.memory_mb - report.memory_mb_used,
          free_disk_gb: report.local_gb - report.local_gb_used,
          running_vms: report.running_vms,
        }
      : {
          retry_in: extra.retryInMs === undefined ? undefined : `${(extra.retryInMs / 1000).toFixed(1)}s`,
          error: result.error,
        };
  return { ...head, ...tail };
};

const readToken = async (source: ReporterOptions['token']): Promise<string> =>
  typeof source === 'string' ? source : source();

/** One report exchange: seq handling, the state file, the PUT and 409 recovery. */
class Sender {
  private seq = 0;
  private loaded = false;
  /** The token the last request carried. */
  lastToken: string | undefined;

  constructor(
    private readonly o: ReporterOptions,
    private readonly log: Log,
    private readonly now: () => Date,
  ) {}

  private async load(): Promise<void> {
    if (this.loaded) return;
    this.seq = (await readState(this.o.stateFile, this.o.host)).seq;
    this.loaded = true;
  }

  /** Takes the next seq and stores it before sending, so a crash mid-request never reuses it. */
  private async takeSeq(): Promise<number> {
    this.seq = nextSeq(this.seq, this.now().getTime());
    try {
      await writeState(this.o.stateFile, { host: this.o.host, seq: this.seq });
    } catch (e) {
      this.log('state', { host: this.o.host, file: this.o.stateFile, error: errorText(e) });
    }
    return this.seq;
  }

  private async put(figures: Figures): Promise<{ report: Report; result: SendResult }> {
    const report: Report = { ...figures, seq: await this.takeSeq(), reported_at: this.now().toISOString() };
    let token: string;
    try {
      token = await readToken(this.o.token);
    } catch (e) {
      // A token file being replaced, or unreadable: nothing sent; retried with backoff like an outage.
      return { report, result: { kind: 'unavailable', status: 'error', error: `token: ${errorText(e)}` } };
    }
    this.lastToken = token;
    const result = await putReport(
      { apiUrl: this.o.apiUrl, token, timeoutMs: this.o.timeoutMs, signal: this.o.signal },
      report,
    );
    return { report, result };
  }

  /**
   * Sends `figures`; on 409 StaleReport moves seq past the server's and resends once.
   * `retryIn` gives the delay to log when the final answer is not a success.
   */
  async send(
    figures: Figures,
    reason: ReportReason,
    retryIn: (r: SendResult) => number | undefined,
  ): Promise<SendResult | undefined> {
    await this.load();
    let { report, result } = await this.put(figures);
    if (result.kind === 'stale') {
      this.log('report', reportFields(report, result, { reason }));
      this.seq = Math.max(this.seq, result.storedSeq ?? 0);
      ({ report, result } = await this.put(figures));
      reason = 'stale';
    }
    if (this.o.signal?.aborted) return undefined;
    this.log(
      'report',
      reportFields(report, result, { reason, retryInMs: result.kind === 'ok' ? undefined : retryIn(result) }),
    );
    return result;
  }
}

const systemClock = () => new Date();

/** Collects and sends one report (with the single 409 resend); the final result. */
export const reportOnce = async (o: ReporterOptions): Promise<SendResult> => {
  const sender = new Sender(o, o.log ?? createLog(), o.now ?? systemClock);
  const result = await sender.send(await o.collect(), 'once', () => undefined);
  return result ?? { kind: 'unavailable', status: 'error', error: 'aborted' };
};

/**
 * The agent loop: reports at start, every interval, and at once when a figure changes.
 * While the API is away (network error, timeout, 5xx) it retries with full-jitter
 * backoff, still collecting, and sends the latest figures when the API answers again.
 * A 4xx other than 409 is logged and retried at the next interval, never at once.
 * Resolves when `signal` aborts; never rejects for the API's sake.
 */
export const runReporter = async (o: ReporterOptions): Promise<void> => {
  const log = o.log ?? createLog();
  const clock = o.now ?? systemClock;
  const intervalMs = o.intervalMs ?? 60_000;
  const pollMs = o.pollMs ?? Math.min(intervalMs, 5000);
  const random = o.random ?? Math.random;
  const sender = new Sender(o, log, clock);
  let lastSent: Figures | undefined;
  let dueAt = 0;
  let holdUntil = 0;
  let retryAt: number | undefined;
  let failures = 0;
  /** The token a 401 refused: a token file that holds another one is sent at once, not an interval later. */
  let refusedToken: string | undefined;
  const tokenReplaced = async (): Promise<boolean> => {
    if (refusedToken === undefined || typeof o.token === 'string') return false;
    const now = await o.token().catch(() => refusedToken);
    return now !== refusedToken;
  };

  const decide = (now: number, figures: Figures, replaced: boolean): ReportReason | undefined => {
    if (replaced) return 'token';
    if (retryAt !== undefined) return now >= retryAt ? 'retry' : undefined;
    if (now >= dueAt) return lastSent ? 'interval' : 'start';
    if (now >= holdUntil && lastSent && figuresChanged(lastSent, figures)) return 'change';
    return undefined;
  };

  while (!o.signal?.aborted) {
    let figures: Figures | undefined;
    try {
      figures = await o.collect();
    } catch (e) {
      log('collect', { host: o.host, error: errorText(e) });
    }
    const reason = figures && decide(clock().getTime(), figures, await tokenReplaced());
    if (figures && reason) {
      let delay = 0;
      const result = await sender
        .send(figures, reason, (r) => {
          delay =
            r.kind === 'unavailable' ? backoffDelayMs(failures, random, o.backoffBaseMs, o.backoffCapMs) : intervalMs;
          return delay;
        })
        .catch((e: unknown): SendResult => {
          // Only a bug lands here (putReport never throws); keep going as if the API were away.
          log('report', { host: o.host, status: 'error', error: errorText(e) });
          delay = backoffDelayMs(failures, random, o.backoffBaseMs, o.backoffCapMs);
          return { kind: 'unavailable', status: 'error', error: errorText(e) };
        });
      const now = clock().getTime();
      refusedToken = result?.kind === 'rejected' && result.status === 401 ? sender.lastToken : undefined;
      if (result?.kind === 'ok') {
        lastSent = figures;
        dueAt = now + intervalMs;
        retryAt = undefined;
        failures = 0;
      } else if (result?.kind === 'unavailable') {
        retryAt = now + delay;
        failures += 1;
      } else if (result) {
        // Rejected (or stale twice): the same request would fail again; wait an interval.
        dueAt = now + intervalMs;
        holdUntil = dueAt;
        retryAt = undefined;
        failures = 0;
      }
    }
    const now = clock().getTime();
    const wakeAt = Math.min(now + pollMs, retryAt ?? dueAt);
    await sleep(Math.max(0, wakeAt - now), undefined, { signal: o.signal }).catch(() => undefined);
  }
};
