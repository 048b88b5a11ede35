import { createHash, randomUUID } from 'node:crypto';

/**
 * The local SQS's queues and what each action does to them, free of either
 * wire protocol: an action takes and returns the JSON protocol's shapes
 * (local-sqs-json.ts passes them through, local-sqs-query.ts translates the
 * query protocol's form and XML). Like a standard queue, ReceiveMessage
 * promises no order: it serves the visible messages received least recently
 * first, so repeated receives with VisibilityTimeout 0 (`qm dlq list`) reach
 * every message, not the same ten.
 */

/** A message attribute as both protocols carry it (the JSON protocol's shape). */
export interface MessageAttribute {
  DataType: string;
  StringValue?: string;
  /** Base64, as both protocols carry it. */
  BinaryValue?: string;
}

interface Message {
  id: string;
  body: string;
  attributes: Record<string, MessageAttribute>;
  visibleAtMs: number;
  receipt?: string;
  sentAtMs: number;
  /** When a ReceiveMessage last returned it (a sequence number, not a time); 0: never. */
  receivedSeq: number;
  receiveCount: number;
  firstReceivedAtMs: number;
}

interface Queue {
  name: string;
  createdAtMs: number;
  messages: Message[];
}

/** An SQS error: `code` is the JSON protocol's type, `queryCode` the query protocol's code where it differs. */
export class SqsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly queryCode = code,
  ) {
    super(message);
  }
}

const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');

/**
 * SQS's MD5OfMessageAttributes: over the attributes sorted by name, each as its
 * name, data type (each a 4-byte big-endian length and UTF-8 bytes), a
 * transport byte (1 string, 2 binary) and the value (length and bytes). Both
 * the SDK and awscli check it.
 */
export const md5OfAttributes = (attrs: Record<string, MessageAttribute>): string => {
  const parts: Buffer[] = [];
  const field = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  };
  for (const name of Object.keys(attrs).sort()) {
    const a = attrs[name] as MessageAttribute;
    field(Buffer.from(name, 'utf8'));
    field(Buffer.from(a.DataType, 'utf8'));
    const binary = a.DataType.startsWith('Binary');
    parts.push(Buffer.from([binary ? 2 : 1]));
    field(binary ? Buffer.from(a.BinaryValue ?? '', 'base64') : Buffer.from(a.StringValue ?? '', 'utf8'));
  }
  return md5(Buffer.concat(parts));
};

/** Attributes named by `names` (SQS: 'All' or '.*' for every one). */
const pick = <T>(all: Record<string, T>, names: unknown): Record<string, T> => {
  const wanted = Array.isArray(names) ? names.map(String) : [];
  if (wanted.includes('All') || wanted.includes('.*')) return all;
  return Object.fromEntries(Object.entries(all).filter(([k]) => wanted.includes(k)));
};

const intIn = (name: string, v: unknown, def: number, min: number, max: number) => {
  const n = v === undefined || v === '' ? def : Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SqsError('InvalidParameterValue', `${name} must be an integer from ${min} to ${max}`);
  }
  return n;
};

/** An action: the JSON protocol's input in, its result out; a client's mistake throws an `SqsError`. */
export type Action = (input: Record<string, unknown>) => Record<string, unknown>;

/**
 * Fresh, empty queues and the actions on them (CreateQueue, GetQueueUrl, ListQueues, SendMessage,
 * ReceiveMessage, DeleteMessage, GetQueueAttributes, PurgeQueue). `queueUrl` names a queue's URL.
 */
export const queueActions = (queueUrl: (name: string) => string, accountId: string): Record<string, Action> => {
  const queues = new Map<string, Queue>();
  let receives = 0;
  const named = (name: string): Queue => {
    const q = queues.get(name);
    if (!q) {
      throw new SqsError(
        'QueueDoesNotExist',
        'The specified queue does not exist.',
        'AWS.SimpleQueueService.NonExistentQueue',
      );
    }
    return q;
  };
  const required = (i: Record<string, unknown>, field: string): string => {
    const v = i[field];
    if (v === undefined || v === '')
      throw new SqsError('MissingParameter', `The request must contain the parameter ${field}.`);
    return String(v);
  };
  const queueOf = (i: Record<string, unknown>): Queue => named(required(i, 'QueueUrl').split('/').pop() ?? '');

  return {
    CreateQueue: (i) => {
      const name = required(i, 'QueueName');
      if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
        throw new SqsError('InvalidParameterValue', 'QueueName: 1 to 80 letters, digits, hyphens and underscores');
      }
      if (!queues.has(name)) queues.set(name, { name, createdAtMs: Date.now(), messages: [] });
      return { QueueUrl: queueUrl(name) };
    },
    GetQueueUrl: (i) => ({ QueueUrl: queueUrl(named(required(i, 'QueueName')).name) }),
    ListQueues: (i) => {
      const prefix = String(i.QueueNamePrefix ?? '');
      const urls = [...queues.keys()].filter((n) => n.startsWith(prefix)).map(queueUrl);
      return urls.length ? { QueueUrls: urls } : {};
    },
    SendMessage: (i) => {
      const q = queueOf(i);
      const body = required(i, 'MessageBody');
      const attributes = (i.MessageAttributes ?? {}) as Message['attributes'];
      const now = Date.now();
      const m: Message = {
        id: randomUUID(),
        body,
        attributes,
        visibleAtMs: now + intIn('DelaySeconds', i.DelaySeconds, 0, 0, 900) * 1000,
        sentAtMs: now,
        receivedSeq: 0,
        receiveCount: 0,
        firstReceivedAtMs: 0,
      };
      q.messages.push(m);
      return {
        MessageId: m.id,
        MD5OfMessageBody: md5(body),
        ...(Object.keys(attributes).length ? { MD5OfMessageAttributes: md5OfAttributes(attributes) } : {}),
      };
    },
    ReceiveMessage: (i) => {
      const q = queueOf(i);
      const now = Date.now();
      const max = intIn('MaxNumberOfMessages', i.MaxNumberOfMessages, 1, 1, 10);
      // 30 s: the queue's default visibility timeout; 0 leaves what is received visible.
      const hideS = intIn('VisibilityTimeout', i.VisibilityTimeout, 30, 0, 43_200);
      const seq = ++receives;
      const out = q.messages
        .filter((m) => m.visibleAtMs <= now)
        .sort((a, b) => a.receivedSeq - b.receivedSeq)
        .slice(0, max);
      // System attributes: AttributeNames (deprecated) and MessageSystemAttributeNames both ask for them.
      const sysNames = [
        ...((i.AttributeNames as unknown[]) ?? []),
        ...((i.MessageSystemAttributeNames as unknown[]) ?? []),
      ];
      return {
        Messages: out.map((m) => {
          m.visibleAtMs = now + hideS * 1000;
          m.receipt = randomUUID();
          m.receivedSeq = seq;
          m.receiveCount++;
          m.firstReceivedAtMs ||= now;
          const user = pick(m.attributes, i.MessageAttributeNames);
          const sys = pick(
            {
              SentTimestamp: String(m.sentAtMs),
              ApproximateReceiveCount: String(m.receiveCount),
              ApproximateFirstReceiveTimestamp: String(m.firstReceivedAtMs),
              SenderId: accountId,
            },
            sysNames,
          );
          return {
            MessageId: m.id,
            ReceiptHandle: m.receipt,
            Body: m.body,
            MD5OfBody: md5(m.body),
            ...(Object.keys(user).length
              ? { MessageAttributes: user, MD5OfMessageAttributes: md5OfAttributes(user) }
              : {}),
            ...(Object.keys(sys).length ? { Attributes: sys } : {}),
          };
        }),
      };
    },
    DeleteMessage: (i) => {
      const q = queueOf(i);
      const receipt = required(i, 'ReceiptHandle');
      const at = q.messages.findIndex((m) => m.receipt === receipt);
      if (at >= 0) q.messages.splice(at, 1);
      return {};
    },
    GetQueueAttributes: (i) => {
      const q = queueOf(i);
      const now = Date.now();
      const hidden = q.messages.filter((m) => m.visibleAtMs > now);
      return {
        Attributes: pick(
          {
            ApproximateNumberOfMessages: String(q.messages.length - hidden.length),
            ApproximateNumberOfMessagesNotVisible: String(hidden.filter((m) => m.receiveCount > 0).length),
            ApproximateNumberOfMessagesDelayed: String(hidden.filter((m) => m.receiveCount === 0).length),
            CreatedTimestamp: String(Math.floor(q.createdAtMs / 1000)),
            QueueArn: `arn:aws:sqs:us-east-1:${accountId}:${q.name}`,
            VisibilityTimeout: '30',
            MessageRetentionPeriod: '1209600',
          },
          i.AttributeNames ?? ['All'],
        ),
      };
    },
    PurgeQueue: (i) => {
      queueOf(i).messages.length = 0;
      return {};
    },
  };
};
