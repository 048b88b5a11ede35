import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { type Instance, InstanceSchema } from '../core/nodes';
import { diffDomains, type Notification } from './notifications';
import { type FlushResult, type Outbox, type Publish, writeFileAtomic } from './outbox';
import { backoffDelayMs, fields, stamp } from './reporter';

/**
 * The agent as Nova's compute manager: it looks at the domains when libvirt says
 * something happened (or every few seconds when libvirt cannot say), and turns
 * what appeared and vanished since the last look into notifications.
 *
 * `DomainTracker` does one look: list → diff against the last-seen set (kept on
 * disk) → outbox → flush. `watchLibvirt` decides when to look.
 */

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const stderrLine = (line: string) => {
  process.stderr.write(`${line}\n`);
};

/** What the agent remembers of the domains between looks and across restarts. */
interface Seen {
  domains: Instance[];
  /** Notifications of the last diff not yet known to be in the outbox (a crash journal). */
  pending: Notification[];
}

const SeenSchema = z.object({
  domains: z.array(InstanceSchema),
  pending: z.array(z.looseObject({ message_id: z.string(), event_type: z.string() })).default([]),
});

/** `<stateFile>.domains.json`: the last-seen domain set. */
export const seenFile = (stateFile: string): string => `${stateFile}.domains.json`;

const readSeen = async (file: string): Promise<Seen | 'none' | 'unreadable'> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'none' : 'unreadable';
  }
  try {
    const parsed = SeenSchema.parse(JSON.parse(text));
    return { domains: parsed.domains, pending: parsed.pending as unknown as Notification[] };
  } catch {
    return 'unreadable';
  }
};

const canonicalDomains = (ds: readonly Instance[]): string =>
  JSON.stringify(
    [...ds]
      .map((d) => ({ uuid: d.uuid.toLowerCase(), vcpus: d.vcpus, memory_mb: d.memory_mb, disk_gb: d.disk_gb }))
      .sort((a, b) => a.uuid.localeCompare(b.uuid)),
  );

/** Why a look was taken. */
export type LookReason = 'start' | 'event' | 'poll' | 'resync' | 'watch' | 'retry';

/** How one look ended. */
export interface LookResult {
  /** `baseline`: the first look ever, which publishes nothing; `failed`: libvirt could not be read. */
  kind: 'baseline' | 'changed' | 'same' | 'failed';
  notifications: Notification[];
  flush?: FlushResult;
}

/** What the tracker needs; times in milliseconds. */
export interface TrackerOptions {
  host: string;
  /** The agent's state file; the last-seen set lives beside it (`seenFile`). */
  stateFile: string;
  outbox: Outbox;
  publish: Publish;
  /** The active domains now; rejects when libvirt cannot be read. */
  list: () => Promise<Instance[]>;
  /**
   * The UUIDs libvirt lists as active, asked only when a domain seems to have vanished:
   * `list` skips a domain it could not describe, and that must not read as a delete.
   */
  listed?: () => Promise<Set<string>>;
  log?: (line: string) => void;
  now?: () => Date;
  newId?: () => string;
  /** Resend backoff while the topic is away (full jitter; default 1 s to 60 s). */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  random?: () => number;
}

/**
 * Looks at the domains and publishes what changed, durably: each diff is journaled
 * in the last-seen file before it goes to the outbox, so a crash at any point neither
 * loses a notification nor makes one anew with another message_id.
 */
export class DomainTracker {
  private seen: Seen | undefined;
  private loaded = false;
  private chain: Promise<unknown> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  private readonly log: (line: string) => void;

  constructor(private readonly o: TrackerOptions) {
    this.log = o.log ?? stderrLine;
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(f, f);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async save(seen: Seen): Promise<void> {
    await writeFileAtomic(
      seenFile(this.o.stateFile),
      `${JSON.stringify({ host: this.o.host, ...seen, updated_at: new Date().toISOString() })}\n`,
    );
    this.seen = seen;
  }

  /** Loads the last-seen set once. */
  private async load(): Promise<void> {
    if (this.loaded) return;
    const file = seenFile(this.o.stateFile);
    const got = await readSeen(file);
    if (got === 'unreadable') {
      this.log(`${stamp()} domains ${fields({ host: this.o.host, file, error: 'unreadable; starting afresh' })}`);
    }
    this.seen = typeof got === 'object' ? got : undefined;
    this.loaded = true;
  }

  /** Moves a journaled diff (left by a crash, or an enqueue that failed) into the outbox. */
  private async replayJournal(): Promise<void> {
    await this.load();
    if (!this.seen || this.seen.pending.length === 0) return;
    await this.o.outbox.enqueue(this.seen.pending);
    await this.save({ domains: this.seen.domains, pending: [] });
  }

  /** Domains that seem gone but libvirt still lists stay, as last seen. */
  private async confirmVanished(after: Instance[]): Promise<Instance[]> {
    const before = this.seen?.domains ?? [];
    const now = new Set(after.map((i) => i.uuid.toLowerCase()));
    const vanished = before.filter((i) => !now.has(i.uuid.toLowerCase()));
    if (vanished.length === 0 || !this.o.listed) return after;
    const listed = new Set([...(await this.o.listed())].map((u) => u.toLowerCase()));
    return [...after, ...vanished.filter((i) => listed.has(i.uuid.toLowerCase()))];
  }

  private noteLine(n: Notification, status: string, reason?: string): string {
    return `${stamp()} notify ${fields({
      host: this.o.host,
      event: n.event_type,
      instance: String(n.payload.instance_id ?? ''),
      message_id: n.message_id,
      status,
      reason,
    })}`;
  }

  /** The last failure to list the domains, logged once until a look succeeds or the reason changes. */
  private lastError: string | undefined;

  /** Looks at the domains once, publishes what changed since the last look, and flushes the outbox. */
  look(reason: LookReason = 'poll'): Promise<LookResult> {
    return this.serial(async () => {
      await this.replayJournal();
      let after: Instance[];
      try {
        after = await this.confirmVanished(await this.o.list());
      } catch (e) {
        // Once per distinct failure: libvirt that does not answer is not news every poll.
        const error = errorText(e);
        if (error !== this.lastError) this.log(`${stamp()} domains ${fields({ host: this.o.host, reason, error })}`);
        this.lastError = error;
        return { kind: 'failed', notifications: [], flush: await this.flushUnlessBackingOff(false) };
      }
      this.lastError = undefined;
      if (!this.seen) {
        await this.save({ domains: after, pending: [] });
        this.log(
          `${stamp()} domains ${fields({ host: this.o.host, count: after.length, reason, note: 'first look: what already runs is not announced' })}`,
        );
        return { kind: 'baseline', notifications: [], flush: await this.flushUnlessBackingOff(false) };
      }
      const notes = diffDomains(
        this.seen.domains,
        after,
        this.o.host,
        this.o.now?.() ?? new Date(),
        this.o.newId ?? randomUUID,
      );
      if (notes.length > 0) {
        // Journal first: from here on a crash replays exactly these messages.
        await this.save({ domains: after, pending: notes });
        await this.o.outbox.enqueue(notes);
        await this.save({ domains: after, pending: [] });
        for (const n of notes) this.log(this.noteLine(n, 'queued', reason));
      } else if (canonicalDomains(after) !== canonicalDomains(this.seen.domains)) {
        await this.save({ domains: after, pending: [] });
      }
      const flush = await this.flushUnlessBackingOff(notes.length > 0);
      return { kind: notes.length > 0 ? 'changed' : 'same', notifications: notes, flush };
    });
  }

  /**
   * A look sends the outbox (a `notify` run may have left messages in it), but while a
   * resend is scheduled it leaves that to the backoff, unless it queued something new.
   */
  private async flushUnlessBackingOff(queuedNew: boolean): Promise<FlushResult | undefined> {
    return this.retryTimer && !queuedNew ? undefined : this.flushNow();
  }

  private async flushNow(): Promise<FlushResult> {
    const result = await this.o.outbox.flush(this.o.publish);
    for (const n of result.sent) this.log(this.noteLine(n, 'sent'));
    if (result.error === undefined) {
      this.failures = 0;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      return result;
    }
    const delay = Math.max(
      100,
      backoffDelayMs(this.failures, this.o.random, this.o.backoffBaseMs ?? 1000, this.o.backoffCapMs ?? 60_000),
    );
    this.failures += 1;
    this.log(
      `${stamp()} notify ${fields({ host: this.o.host, status: 'error', pending: result.pending, retry_in: `${(delay / 1000).toFixed(1)}s`, error: result.error })}`,
    );
    if (!this.stopped) {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.flush().catch((e: unknown) => this.log(`${stamp()} notify ${fields({ error: errorText(e) })}`));
      }, delay);
    }
    return result;
  }

  /** Sends what waits in the outbox (after the journal, if any); retries with backoff on failure. */
  flush(): Promise<FlushResult> {
    return this.serial(async () => {
      await this.replayJournal();
      return this.flushNow();
    });
  }

  /** Stops retrying; waits for a look or flush in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.chain;
  }
}

const virshArgs = (uri: string, args: string[]) => ['--readonly', '-c', uri, ...args];

/** The UUIDs of the active domains (`virsh list --uuid`); rejects when libvirt cannot be read. */
export const listedUuids = (uri: string, env?: NodeJS.ProcessEnv, timeoutMs = 5000): Promise<Set<string>> =>
  new Promise((resolve, reject) => {
    execFile(
      'virsh',
      virshArgs(uri, ['--quiet', 'list', '--uuid']),
      { timeout: timeoutMs, env: { ...(env ?? process.env), LC_ALL: 'C' } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`virsh list: ${stderr.trim() || error.message}`, { cause: error }));
        else
          resolve(
            new Set(
              stdout
                .split('\n')
                .map((l) => l.trim().toLowerCase())
                .filter(Boolean),
            ),
          );
      },
    );
  });

/**
 * Whether libvirt's event stream can tell this agent about changes. The test driver
 * (`test:///default`, `test:///path/node.xml`) keeps its state per connection: another
 * connection's changes, or a new XML file, never raise an event on ours; so poll.
 */
export const eventsUsable = (uri: string): boolean => !/^test(\+[a-z]+)?:/i.test(uri.trim());

/** A lifecycle event line of `virsh event --loop --all`: `event 'lifecycle' for domain 'vm1': Started Booted`. */
export const isLifecycleLine = (line: string): boolean => /^event 'lifecycle' for domain /.test(line.trim());

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
  log?: (line: string) => void;
  /** The program for the event stream (default `virsh`). */
  virsh?: string;
}

/** A sleep that ends early on wake() or abort. */
class Waker {
  private wakeUp: (() => void) | undefined;
  constructor(private readonly signal: AbortSignal) {}
  wait(ms: number): Promise<void> {
    if (this.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.signal.removeEventListener('abort', done);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
      this.signal.addEventListener('abort', done, { once: true });
      this.wakeUp = done;
    });
  }
  wake(): void {
    this.wakeUp?.();
  }
}

/**
 * Watches libvirt until `signal` aborts: `virsh --readonly -c <uri> event --loop --all`
 * (no shell) triggers a look on each lifecycle line (debounced), plus a resync look
 * every `resyncMs`; while the stream is unavailable (virsh missing, the driver cannot
 * send events, libvirtd restarting) it looks every `pollMs` and retries the stream.
 * Looks once at start.
 */
export const watchLibvirt = async (o: WatchOptions): Promise<void> => {
  const log = o.log ?? stderrLine;
  const resyncMs = o.resyncMs ?? 60_000;
  const debounceMs = o.debounceMs ?? 250;
  const baseRetryMs = o.eventRetryMs ?? 30_000;
  const waker = new Waker(o.signal);

  let running: Promise<void> | undefined;
  let queued: LookReason | undefined;
  const request = (reason: LookReason): void => {
    if (o.signal.aborted) return;
    if (running) {
      queued = reason;
      return;
    }
    running = (async () => {
      try {
        await o.look(reason);
      } catch (e) {
        log(`${stamp()} watch ${fields({ uri: o.uri, reason, error: errorText(e) })}`);
      }
      running = undefined;
      const next = queued;
      queued = undefined;
      if (next) request(next);
    })();
  };

  let child: ChildProcess | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let retryMs = baseRetryMs;
  let eventsAt = eventsUsable(o.uri) ? 0 : Number.POSITIVE_INFINITY;
  let nextLookAt = Date.now();
  let firstLook = true;

  const startStream = (): ChildProcess => {
    const startedAt = Date.now();
    const c = spawn(o.virsh ?? 'virsh', virshArgs(o.uri, ['event', '--loop', '--all']), {
      env: { ...(o.env ?? process.env), LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-500);
    });
    createInterface({ input: c.stdout! }).on('line', (line) => {
      if (!isLifecycleLine(line)) return;
      clearTimeout(debounce);
      debounce = setTimeout(() => request('event'), debounceMs);
    });
    let ended = false;
    const end = (why: string) => {
      if (ended) return;
      ended = true;
      if (child === c) child = undefined;
      if (o.signal.aborted) return;
      // A stream that ran a while had worked: retry soon. One that keeps failing: back off.
      const ranLong = Date.now() - startedAt > 10_000;
      const retryIn = ranLong ? baseRetryMs : retryMs;
      retryMs = ranLong ? baseRetryMs : Math.min(retryMs * 2, 600_000);
      eventsAt = Date.now() + retryIn;
      nextLookAt = Date.now();
      log(
        `${stamp()} watch ${fields({ uri: o.uri, mode: 'poll', every: `${o.pollMs / 1000}s`, events_retry_in: `${Math.round(retryIn / 1000)}s`, reason: `virsh event ${why}${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1)}` : ''}` })}`,
      );
      waker.wake();
    };
    c.once('error', (e) => end(`failed: ${e.message}`));
    c.once('exit', (code, signal) => end(`exited with ${code ?? signal}`));
    return c;
  };

  if (eventsAt === Number.POSITIVE_INFINITY) {
    log(
      `${stamp()} watch ${fields({ uri: o.uri, mode: 'poll', every: `${o.pollMs / 1000}s`, reason: 'test driver' })}`,
    );
  }
  while (!o.signal.aborted) {
    const now = Date.now();
    if (!child && now >= eventsAt) {
      child = startStream();
      log(`${stamp()} watch ${fields({ uri: o.uri, mode: 'events', resync: `${resyncMs / 1000}s` })}`);
      // Anything that happened while nobody listened: look now.
      request(firstLook ? 'start' : 'watch');
      firstLook = false;
      nextLookAt = now + resyncMs;
    }
    if (now >= nextLookAt) {
      request(firstLook ? 'start' : child ? 'resync' : 'poll');
      firstLook = false;
      nextLookAt = now + (child ? resyncMs : o.pollMs);
    }
    await waker.wait(Math.min(nextLookAt, child ? Number.POSITIVE_INFINITY : eventsAt) - Date.now());
  }
  clearTimeout(debounce);
  const c = child;
  if (c && c.exitCode === null && c.signalCode === null) {
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    await exited;
  }
  while (running) await running;
};
