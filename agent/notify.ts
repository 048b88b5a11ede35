import { randomUUID } from 'node:crypto';
import { errorText, type Log } from './log';
import { type Notification, noteFields, notification } from './notifications';
import { Outbox, snsPublisher } from './outbox';
import type { NotifyConfig } from './settings';

/** How `qm-agent notify` ended: sent; queued in the outbox for a later flush; or not even queued. */
export interface NotifyOutcome {
  kind: 'sent' | 'queued' | 'unwritten';
  messageId: string;
}

/**
 * `qm-agent notify`: queues one notification in the outbox of the state file, then
 * sends the outbox in order (older messages first). Not sent, it stays queued: the next
 * flush of the same outbox sends it, with the same id.
 */
export const notifyOnce = async (c: NotifyConfig, log: Log, now: () => Date): Promise<NotifyOutcome> => {
  const n: Notification = notification(c.host, c.eventType, c.payload, now(), randomUUID);
  const outbox = Outbox.forStateFile(c.stateFile, { log });
  const sns = snsPublisher(c.sns);
  try {
    try {
      await outbox.enqueue([n]);
    } catch (e) {
      // Not even on disk (permissions, a full disk): say so; the caller may retry.
      log('notify', { ...noteFields(c.host, n, 'error'), outbox: outbox.dir, error: errorText(e) });
      return { kind: 'unwritten', messageId: n.message_id };
    }
    const result = await outbox.flush(sns.publish);
    for (const s of result.sent) log('notify', noteFields(c.host, s, 'sent'));
    const sent = result.sent.some((s) => s.message_id === n.message_id);
    if (!sent) {
      log('notify', {
        ...noteFields(c.host, n, 'queued'),
        pending: result.pending,
        outbox: outbox.dir,
        error: result.error ?? 'not sent',
      });
    }
    return { kind: sent ? 'sent' : 'queued', messageId: n.message_id };
  } finally {
    sns.close();
  }
};
