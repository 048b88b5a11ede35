import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal in-memory SQS for the local stack, speaking the AWS JSON 1.0
 * protocol that @aws-sdk/client-sqs uses (CreateQueue, GetQueueUrl,
 * SendMessage, ReceiveMessage, DeleteMessage, GetQueueAttributes, PurgeQueue).
 * Only what the notify function's dead-letter queue needs: no FIFO, no
 * long polling, no redrive. No npm package ships ElasticMQ, and sqslite
 * speaks only the XML query protocol that SDK v3 no longer sends.
 * Like a standard queue, ReceiveMessage promises no order: it serves the
 * visible messages received least recently first, so repeated receives with
 * VisibilityTimeout 0 (`qm dlq list`) reach every message, not the same ten.
 */
interface Message {
  id: string;
  body: string;
  attributes: Record<string, { DataType: string; StringValue?: string }>;
  visibleAtMs: number;
  receipt?: string;
  sentAtMs: number;
  /** When a ReceiveMessage last returned it (a sequence number, not a time); 0: never. */
  receivedSeq: number;
}

export interface LocalSqs {
  url: string;
  queueUrl(name: string): string;
  close(): Promise<void>;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

export const startLocalSqs = async (port: number, accountId = '000000000000'): Promise<LocalSqs> => {
  const queues = new Map<string, Message[]>();
  let receives = 0;
  let base = '';
  const queueUrl = (name: string) => `${base}/${accountId}/${name}`;
  const queueOf = (url: unknown): Message[] => {
    const name =
      String(url ?? '')
        .split('/')
        .pop() ?? '';
    const q = queues.get(name);
    if (!q) throw Object.assign(new Error(`queue ${name} does not exist`), { type: 'QueueDoesNotExist' });
    return q;
  };
  const actions: Record<string, (input: Record<string, unknown>) => unknown> = {
    CreateQueue: (i) => {
      const name = String(i.QueueName);
      if (!queues.has(name)) queues.set(name, []);
      return { QueueUrl: queueUrl(name) };
    },
    GetQueueUrl: (i) => {
      queueOf(i.QueueName);
      return { QueueUrl: queueUrl(String(i.QueueName)) };
    },
    SendMessage: (i) => {
      const q = queueOf(i.QueueUrl);
      const body = String(i.MessageBody ?? '');
      const m: Message = {
        id: randomUUID(),
        body,
        attributes: (i.MessageAttributes ?? {}) as Message['attributes'],
        visibleAtMs: Date.now() + Number(i.DelaySeconds ?? 0) * 1000,
        sentAtMs: Date.now(),
        receivedSeq: 0,
      };
      q.push(m);
      return { MessageId: m.id, MD5OfMessageBody: md5(body) };
    },
    ReceiveMessage: (i) => {
      const q = queueOf(i.QueueUrl);
      const now = Date.now();
      const max = Number(i.MaxNumberOfMessages ?? 1);
      // 30 s: the queue's default visibility timeout; 0 leaves what is received visible.
      const hideS = Number(i.VisibilityTimeout ?? 30);
      if (!Number.isInteger(max) || max < 1 || max > 10) {
        throw new Error('MaxNumberOfMessages must be an integer from 1 to 10');
      }
      if (!Number.isInteger(hideS) || hideS < 0 || hideS > 43_200) {
        throw new Error('VisibilityTimeout must be an integer from 0 to 43200');
      }
      const seq = ++receives;
      const out = q
        .filter((m) => m.visibleAtMs <= now)
        .sort((a, b) => a.receivedSeq - b.receivedSeq)
        .slice(0, max);
      for (const m of out) {
        m.visibleAtMs = now + hideS * 1000;
        m.receipt = randomUUID();
        m.receivedSeq = seq;
      }
      return {
        Messages: out.map((m) => ({
          MessageId: m.id,
          ReceiptHandle: m.receipt,
          Body: m.body,
          MD5OfBody: md5(m.body),
          MessageAttributes: m.attributes,
          Attributes: { SentTimestamp: String(m.sentAtMs) },
        })),
      };
    },
    DeleteMessage: (i) => {
      const q = queueOf(i.QueueUrl);
      const at = q.findIndex((m) => m.receipt === i.ReceiptHandle);
      if (at >= 0) q.splice(at, 1);
      return {};
    },
    GetQueueAttributes: (i) => {
      const q = queueOf(i.QueueUrl);
      const now = Date.now();
      return {
        Attributes: {
          ApproximateNumberOfMessages: String(q.filter((m) => m.visibleAtMs <= now).length),
          ApproximateNumberOfMessagesNotVisible: String(q.filter((m) => m.visibleAtMs > now).length),
        },
      };
    },
    PurgeQueue: (i) => {
      queueOf(i.QueueUrl).length = 0;
      return {};
    },
  };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => {
      raw += d;
    });
    req.on('end', () => {
      const action = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(body));
      };
      const run = actions[action];
      if (!run) return reply(400, { __type: 'com.amazonaws.sqs#InvalidAction', message: `unsupported ${action}` });
      try {
        reply(200, run(raw ? JSON.parse(raw) : {}));
      } catch (e) {
        const type = (e as { type?: string }).type ?? 'InvalidParameterValue';
        reply(400, { __type: `com.amazonaws.sqs#${type}`, message: (e as Error).message });
      }
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    queueUrl,
    close: () => new Promise((r) => server.close(() => r())),
  };
};
