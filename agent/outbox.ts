import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { networkError } from './client';
import type { Log } from './log';
import type { Notification } from './notifications';

/**
 * The agent's outbox: notifications waiting for the topic, kept on disk so none is
 * lost when SNS (or the network, or the agent) is down. One file per message,
 * `<seq>.json`, where seq grows by one per message; a message is written once, with
 * its message_id, and deleted only after SNS accepted it, so a resend after a crash
 * repeats the same id (notify drops the duplicate) and never invents a new one.
 */

/** Sends one message; resolves when the topic accepted it, rejects otherwise. */
export type Publish = (body: string, n: Notification) => Promise<void>;

/** How one flush ended. */
export interface FlushResult {
  /** The messages SNS accepted, in the order sent. */
  sent: Notification[];
  /** Messages still queued after the flush. */
  pending: number;
  /** Why the flush stopped early: the first publish error, or that another process holds the outbox. */
  error?: string;
}

const SEQ_DIGITS = 16;
const MESSAGE = /^(\d{16})\.json$/;
const LOCK = '.lock';

const errorText = (e: unknown): string => {
  if (e instanceof Error && e.name !== 'Error' && e.name !== 'TypeError') return `${e.name}: ${e.message}`;
  return networkError(e);
};

const fsyncDir = async (dir: string): Promise<void> => {
  const fd = await open(dir, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
};

/** Writes `text` to a new temporary file in `dir` and fsyncs it; returns its path. */
const writeTemp = async (dir: string, text: string): Promise<string> => {
  const tmp = join(dir, `.tmp.${process.pid}.${randomBytes(6).toString('hex')}`);
  const fd = await open(tmp, 'wx', 0o600);
  try {
    await fd.writeFile(text);
    await fd.sync();
  } finally {
    await fd.close();
  }
  return tmp;
};

/** Replaces `file` with `text` atomically and durably: temp file, fsync, rename(2), fsync of the directory. */
export const writeFileAtomic = async (file: string, text: string): Promise<void> => {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = await writeTemp(dirname(file), text);
  try {
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dirname(file));
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Options of an outbox; times in milliseconds. */
export interface OutboxOptions {
  /** How long a flush waits for another process's flush to finish (default 20 s). */
  lockWaitMs?: number;
  /** A lock untouched this long is taken over even if its pid lives (pid reuse; default 120 s). */
  lockStaleMs?: number;
  /** One `outbox` line per message set aside as unreadable. */
  log?: Log;
}

/** A durable FIFO of notifications in one directory. */
export class Outbox {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly o: OutboxOptions = {},
  ) {}

  /** The outbox that belongs to a state file: `<stateFile>.outbox/`. */
  static forStateFile(stateFile: string, o: OutboxOptions = {}): Outbox {
    return new Outbox(`${stateFile}.outbox`, o);
  }

  /** Runs `f` after every earlier enqueue/flush of this object (one at a time within the process). */
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(f, f);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** The queued file names, oldest first. */
  private async names(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => MESSAGE.test(n)).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  private async read(name: string): Promise<{ text: string; n: Notification } | 'gone' | 'corrupt'> {
    let text: string;
    try {
      text = await readFile(join(this.dir, name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      throw e;
    }
    try {
      const n = JSON.parse(text) as Notification;
      if (typeof n?.message_id !== 'string' || typeof n.event_type !== 'string') return 'corrupt';
      return { text, n };
    } catch {
      return 'corrupt';
    }
  }

  /** The queued messages, oldest first. */
  async list(): Promise<Notification[]> {
    const out: Notification[] = [];
    for (const name of await this.names()) {
      const m = await this.read(name);
      if (typeof m === 'object') out.push(m.n);
    }
    return out;
  }

  /** How many messages wait. */
  async size(): Promise<number> {
    return (await this.names()).length;
  }

  /**
   * Appends `msgs` in order, each durable before this resolves. A message whose
   * message_id is already queued is skipped, so a replayed enqueue (crash recovery)
   * adds nothing twice. Safe against other processes enqueueing at the same time:
   * a name is claimed with link(2), which fails rather than overwrite.
   */
  enqueue(msgs: readonly Notification[]): Promise<void> {
    return this.serial(async () => {
      if (msgs.length === 0) return;
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const queued = new Set((await this.list()).map((n) => n.message_id));
      const names = await this.names();
      let seq = names.length > 0 ? Number(MESSAGE.exec(names.at(-1) ?? '')?.[1] ?? 0) : 0;
      for (const n of msgs) {
        if (queued.has(n.message_id)) continue;
        const tmp = await writeTemp(this.dir, `${JSON.stringify(n)}\n`);
        try {
          for (;;) {
            seq += 1;
            try {
              await link(tmp, join(this.dir, `${String(seq).padStart(SEQ_DIGITS, '0')}.json`));
              break;
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
            }
          }
        } finally {
          await unlink(tmp).catch(() => undefined);
        }
        queued.add(n.message_id);
      }
      await fsyncDir(this.dir);
    });
  }

  /** Takes the cross-process lock, waiting for a live holder; undefined when it stays held. */
  private async lock(): Promise<(() => Promise<void>) | undefined> {
    const file = join(this.dir, LOCK);
    const deadline = Date.now() + (this.o.lockWaitMs ?? 20_000);
    for (;;) {
      try {
        const fd = await open(file, 'wx', 0o600);
        await fd.writeFile(`${process.pid}\n`);
        await fd.close();
        return () => unlink(file).catch(() => undefined);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = await Promise.all([readFile(file, 'utf8'), stat(file)]).catch(() => undefined);
      const pid = Number.parseInt(holder?.[0] ?? '', 10);
      const stale =
        holder !== undefined &&
        (!Number.isSafeInteger(pid) || !alive(pid) || Date.now() - holder[1].mtimeMs > (this.o.lockStaleMs ?? 120_000));
      if (stale) {
        await unlink(file).catch(() => undefined);
        continue;
      }
      if (Date.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /**
   * Sends the queued messages oldest first, deleting each once `publish` resolved;
   * stops at the first failure so the order holds. Another process flushing the same
   * outbox is waited for (one flusher at a time keeps the order across processes).
   */
  flush(publish: Publish): Promise<FlushResult> {
    return this.serial(async () => {
      const sent: Notification[] = [];
      if ((await this.names()).length === 0) return { sent, pending: 0 };
      const release = await this.lock();
      if (!release) return { sent, pending: await this.size(), error: 'another process is flushing the outbox' };
      try {
        for (const name of await this.names()) {
          const m = await this.read(name);
          if (m === 'gone') continue;
          if (m === 'corrupt') {
            // Written atomically, so this is damage from outside; keep it, out of the way of the queue.
            await rename(join(this.dir, name), join(this.dir, `${name}.corrupt`));
            this.o.log?.('outbox', {
              file: join(this.dir, name),
              error: 'not a notification',
              renamed_to: `${name}.corrupt`,
            });
            continue;
          }
          try {
            await publish(m.text.trimEnd(), m.n);
          } catch (e) {
            return { sent, pending: await this.size(), error: errorText(e) };
          }
          await unlink(join(this.dir, name));
          sent.push(m.n);
          const now = new Date();
          await utimes(join(this.dir, LOCK), now, now).catch(() => undefined);
        }
        await fsyncDir(this.dir);
        return { sent, pending: await this.size() };
      } finally {
        await release();
      }
    });
  }
}

/** Where and how to publish. */
export interface SnsTarget {
  topicArn: string;
  region: string;
  /** A local SNS (serverless-offline-sns); loopback endpoints get dummy credentials. */
  endpoint?: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}

/** True for an endpoint on this machine (a local stack), where credentials are a formality. */
export const isLoopback = (endpoint: string): boolean => {
  try {
    const h = new URL(endpoint).hostname;
    return h === 'localhost' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h);
  } catch {
    return false;
  }
};

/**
 * A publisher to an SNS topic: the message body is the notification's JSON. Credentials
 * come from the SDK's default chain, except for a loopback endpoint (`local`/`local`).
 */
export const snsPublisher = (t: SnsTarget): { publish: Publish; close: () => void } => {
  const client = new SNSClient({
    region: t.region,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 3000, requestTimeout: t.timeoutMs ?? 10_000 },
    ...(t.endpoint ? { endpoint: t.endpoint } : {}),
    ...(t.endpoint && isLoopback(t.endpoint)
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  return {
    publish: async (body) => {
      await client.send(new PublishCommand({ TopicArn: t.topicArn, Message: body }));
    },
    close: () => client.destroy(),
  };
};
