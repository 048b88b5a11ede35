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
 */
interface Message {
  id: string;
  body: string;
  attributes: Record<string, { DataType: string; StringValue?: string }>;
  visibleAtMs: number;
  receipt?: string;
  sentAtMs: number;
}

export interface LocalSqs {
  url: string;
  queueUrl(name: string): string;
  close(): Promise<void>;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

export const startLocalSqs = async (port: number, accountId = '000000000000'): Promise<LocalSqs> => {
  const queues = new Map<string, Message[]>();
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
      };
      q.push(m);
      return { MessageId: m.id, MD5OfMessageBody: md5(body) };
    },
    ReceiveMessage: (i) => {
      const q = queueOf(i.QueueUrl);
      const now = Date.now();
      const max = Number(i.MaxNumberOfMessages ?? 1);
      const hideMs = Number(i.VisibilityTimeout ?? 30) * 1000;
      const out = q.filter((m) => m.visibleAtMs <= now).slice(0, max);
      for (const m of out) {
        m.visibleAtMs = now + hideMs;
        m.receipt = randomUUID();
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
