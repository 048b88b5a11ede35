import { randomUUID } from 'node:crypto';
import type { Instance } from '../core/nodes';
import { createLog, errorText, type Log } from './log';
import { diffDomains, type Notification, noteFields } from './notifications';
import type { FlushResult, Outbox, Publish } from './outbox';
import { backoffDelayMs } from './reporter';
import { canonicalDomains, readSeen, type Seen, seenFile, writeSeen } from './seen';

/**
 * The agent as Nova's compute manager: it looks at the domains when libvirt says
 * something happened (or every few seconds when libvirt cannot say), and turns
 * what appeared and vanished since the last look into notifications.
 *
 * `DomainTracker` does one look: list → diff against the last-seen set (kept on
 * disk, `seen.ts`) → outbox → flush. `watchLibvirt` (`watch.ts`) decides when to look.
 */

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
  /** Default text lines on stderr. */
  log?: Log;
  /** The clock: notification timestamps and the last-seen file's `updated_at`. */
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
  /** The last failure to list the domains, logged once until a look succeeds or the reason changes. */
  private lastError: string | undefined;
  private readonly log: Log;
  private readonly now: () => Date;

  constructor(private readonly o: TrackerOptions) {
    this.log = o.log ?? createLog();
    this.now = o.now ?? (() => new Date());
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(f, f);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async save(seen: Seen): Promise<void> {
    await writeSeen(seenFile(this.o.stateFile), this.o.host, seen, this.now());
    this.seen = seen;
  }

  /** Loads the last-seen set once. */
  private async load(): Promise<void> {
    if (this.loaded) return;
    const file = seenFile(this.o.stateFile);
    const got = await readSeen(file);
    if (got === 'unreadable') this.log('domains', { host: this.o.host, file, error: 'unreadable; starting afresh' });
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

  private logNote(n: Notification, status: string, reason?: string): void {
    this.log('notify', { ...noteFields(this.o.host, n, status), reason });
  }

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
        if (error !== this.lastError) this.log('domains', { host: this.o.host, reason, error });
        this.lastError = error;
        return { kind: 'failed', notifications: [], flush: await this.flushUnlessBackingOff(false) };
      }
      this.lastError = undefined;
      if (!this.seen) {
        await this.save({ domains: after, pending: [] });
        this.log('domains', {
          host: this.o.host,
          count: after.length,
          reason,
          note: 'first look: what already runs is not announced',
        });
        return { kind: 'baseline', notifications: [], flush: await this.flushUnlessBackingOff(false) };
      }
      const notes = diffDomains(this.seen.domains, after, this.o.host, this.now(), this.o.newId ?? randomUUID);
      if (notes.length > 0) {
        // Journal first: from here on a crash replays exactly these messages.
        await this.save({ domains: after, pending: notes });
        await this.o.outbox.enqueue(notes);
        await this.save({ domains: after, pending: [] });
        for (const n of notes) this.logNote(n, 'queued', reason);
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
    for (const n of result.sent) this.logNote(n, 'sent');
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
    this.log('notify', {
      host: this.o.host,
      status: 'error',
      pending: result.pending,
      retry_in: `${(delay / 1000).toFixed(1)}s`,
      error: result.error,
    });
    if (!this.stopped) {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.flush().catch((e: unknown) => this.log('notify', { error: errorText(e) }));
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
