import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

/** Where messages that cannot be applied are kept, with the reason. One implementation: SQS. */
export interface DeadLetters {
  park(body: string, reason: string, attributes?: Record<string, string>): Promise<void>;
}

/** One parked message, as an operator sees it. */
export interface DeadLetter {
  /** The queue's MessageId. */
  id: string;
  /** The `reason` attribute given to `park`; for Lambda's invocation record, failureReason of its body; else ''. */
  reason: string;
  /** The other message attributes given to `park` (e.g. `message_id`). */
  attributes: Record<string, string>;
  body: string;
  /** When the message was parked (ISO 8601), from SQS's SentTimestamp; null if the queue did not say. */
  sent_at: string | null;
}

/** Reads the parked messages without consuming them (`qm dlq list`). */
export interface DeadLetterReader {
  list(max?: number): Promise<DeadLetter[]>;
}

/**
 * Why Lambda's on-failure destination kept an invocation record (it sets no
 * message attribute, the body says why): `RetriesExhausted after 3 attempts:
 * TimeoutError: …`; '' for any other body.
 */
export const failureReason = (body: string): string => {
  let record: unknown;
  try {
    record = JSON.parse(body);
  } catch {
    return '';
  }
  const r = record as {
    requestContext?: { condition?: unknown; approximateInvokeCount?: unknown };
    responsePayload?: { errorType?: unknown; errorMessage?: unknown } | null;
  } | null;
  const condition = r?.requestContext?.condition;
  if (typeof condition !== 'string' || !condition) return '';
  const count = r?.requestContext?.approximateInvokeCount;
  const error = r?.responsePayload;
  const why = [error?.errorType, error?.errorMessage].filter((x) => typeof x === 'string' && x).join(': ');
  return `${condition}${typeof count === 'number' ? ` after ${count} attempts` : ''}${why ? `: ${why}` : ''}`;
};

/** Receives that bring no message not already seen before `list` concludes it has them all. */
const IDLE_ROUNDS = 3;

/** The SQS dead-letter queue (QM_DLQ_URL); `endpoint` points at a local SQS when set. */
export class SqsDeadLetters implements DeadLetters, DeadLetterReader {
  private readonly sqs: SQSClient;
  constructor(
    region: string,
    private readonly queueUrl: string | undefined,
    endpoint?: string,
  ) {
    this.sqs = new SQSClient({
      region,
      requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
      ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    });
  }

  async park(body: string, reason: string, attributes: Record<string, string> = {}): Promise<void> {
    if (!this.queueUrl) throw new Error('QM_DLQ_URL is not configured: cannot keep the message');
    const attrs = { reason, ...attributes };
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        MessageAttributes: Object.fromEntries(
          Object.entries(attrs).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
        ),
      }),
    );
  }

  /**
   * Up to `max` parked messages, oldest first, left in the queue: each receive
   * uses VisibilityTimeout 0, so what it returns stays visible, and receives
   * repeat until IDLE_ROUNDS in a row bring no message not already seen (a
   * short receive samples part of the queue and may miss some). Each receive
   * still counts toward a message's ApproximateReceiveCount, so this queue must
   * not have a redrive policy of its own. Messages another consumer holds
   * invisible at the time are not listed.
   */
  async list(max = 1000): Promise<DeadLetter[]> {
    if (!this.queueUrl) throw new Error('QM_DLQ_URL is not configured: no dead-letter queue to read');
    const seen = new Map<string, DeadLetter>();
    for (let idle = 0; idle < IDLE_ROUNDS && seen.size < max; ) {
      const out = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 0,
          MessageAttributeNames: ['All'],
          // AttributeNames' replacement; its type no longer admits SentTimestamp.
          MessageSystemAttributeNames: ['SentTimestamp'],
        }),
      );
      let fresh = 0;
      for (const m of out.Messages ?? []) {
        if (!m.MessageId || seen.has(m.MessageId) || seen.size >= max) continue;
        const attrs: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) {
          attrs[k] = v.StringValue ?? (v.BinaryValue ? Buffer.from(v.BinaryValue).toString('base64') : '');
        }
        const { reason = failureReason(m.Body ?? ''), ...attributes } = attrs;
        const sentMs = Number(m.Attributes?.SentTimestamp);
        seen.set(m.MessageId, {
          id: m.MessageId,
          reason,
          attributes,
          body: m.Body ?? '',
          sent_at: Number.isFinite(sentMs) && sentMs > 0 ? new Date(sentMs).toISOString() : null,
        });
        fresh++;
      }
      idle = fresh ? 0 : idle + 1;
    }
    // ISO 8601 UTC strings sort as times; unknown times last, then by id for a stable order.
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return [...seen.values()].sort((a, b) => cmp(a.sent_at ?? '~', b.sent_at ?? '~') || cmp(a.id, b.id));
  }
}
