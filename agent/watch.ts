import { createLog, errorText, type Log } from './log';
import { oneAtATime, Waker } from './timer';
import type { LookReason } from './tracker';
import { type EventStream, eventsUsable, startEventStream } from './virsh';

/** When to look; times in milliseconds. */
export interface WatchOptions {
  uri: string;
  /** Environment for virsh (its PATH decides whether virsh is found). */
  env?: NodeJS.ProcessEnv;
  /** Without an event stream: look this often. */
  pollMs: number;
  /** With an event stream: look this often anyway, for anything the stream missed (default 60 s). */
  resyncMs?: number;
  /** Lifecycle events closer together than this make one look (default 250 ms). */
  debounceMs?: number;
  /** After the stream ended: poll, and try the stream again this much later, doubling to 10 min (default 30 s). */
  eventRetryMs?: number;
  /** Takes one look; looks never overlap, and requests during one make one more after it. */
  look: (reason: LookReason) => Promise<unknown>;
  signal: AbortSignal;
  /** Default text lines on stderr. */
  log?: Log;
  /** The program for the event stream (default `virsh`). */
  virsh?: string;
  /** The clock the schedule of looks and stream retries is kept by (default the system clock). */
  now?: () => Date;
}

/** A stream that ran this long had worked: its end is an incident, not a setup that keeps failing. */
const STREAM_WORKED_MS = 10_000;
/** The longest wait before the stream is tried again. */
const MAX_EVENT_RETRY_MS = 600_000;

/**
 * Watches libvirt until `signal` aborts: `virsh --readonly -c <uri> event --loop --all`
 * (no shell) triggers a look on each lifecycle line (debounced), plus a resync look
 * every `resyncMs`; while the stream is unavailable (virsh missing, the driver cannot
 * send events, libvirtd restarting) it looks every `pollMs` and retries the stream.
 * Looks once at start.
 */
export const watchLibvirt = async (o: WatchOptions): Promise<void> => {
  const log = o.log ?? createLog();
  const clock = o.now ?? (() => new Date());
  const now = () => clock().getTime();
  const resyncMs = o.resyncMs ?? 60_000;
  const debounceMs = o.debounceMs ?? 250;
  const baseRetryMs = o.eventRetryMs ?? 30_000;
  const waker = new Waker(o.signal);
  const looks = oneAtATime<LookReason>(o.look, o.signal, (reason, e) =>
    log('watch', { uri: o.uri, reason, error: errorText(e) }),
  );

  let stream: EventStream | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let retryMs = baseRetryMs;
  let eventsAt = eventsUsable(o.uri) ? 0 : Number.POSITIVE_INFINITY;
  let nextLookAt = now();
  let firstLook = true;

  const startStream = (): EventStream => {
    const startedAt = now();
    const s = startEventStream({
      uri: o.uri,
      env: o.env,
      virsh: o.virsh,
      onLifecycle: () => {
        clearTimeout(debounce);
        debounce = setTimeout(() => looks.request('event'), debounceMs);
      },
      onEnd: (why) => {
        if (stream === s) stream = undefined;
        if (o.signal.aborted) return;
        // A stream that ran a while had worked: retry soon. One that keeps failing: back off.
        const ranLong = now() - startedAt > STREAM_WORKED_MS;
        const retryIn = ranLong ? baseRetryMs : retryMs;
        retryMs = ranLong ? baseRetryMs : Math.min(retryMs * 2, MAX_EVENT_RETRY_MS);
        eventsAt = now() + retryIn;
        nextLookAt = now();
        log('watch', {
          uri: o.uri,
          mode: 'poll',
          every: `${o.pollMs / 1000}s`,
          events_retry_in: `${Math.round(retryIn / 1000)}s`,
          reason: why,
        });
        waker.wake();
      },
    });
    return s;
  };

  if (eventsAt === Number.POSITIVE_INFINITY) {
    log('watch', { uri: o.uri, mode: 'poll', every: `${o.pollMs / 1000}s`, reason: 'test driver' });
  }
  while (!o.signal.aborted) {
    const t = now();
    if (!stream && t >= eventsAt) {
      stream = startStream();
      log('watch', { uri: o.uri, mode: 'events', resync: `${resyncMs / 1000}s` });
      // Anything that happened while nobody listened: look now.
      looks.request(firstLook ? 'start' : 'watch');
      firstLook = false;
      nextLookAt = t + resyncMs;
    }
    if (t >= nextLookAt) {
      looks.request(firstLook ? 'start' : stream ? 'resync' : 'poll');
      firstLook = false;
      nextLookAt = t + (stream ? resyncMs : o.pollMs);
    }
    await waker.wait(Math.min(nextLookAt, stream ? Number.POSITIVE_INFINITY : eventsAt) - now());
  }
  clearTimeout(debounce);
  await stream?.stop();
  await looks.idle();
};
