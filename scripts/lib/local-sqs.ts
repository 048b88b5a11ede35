import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal in-memory SQS for the local stack. It speaks both of SQS's wire
 * protocols: AWS JSON 1.0 (an `x-amz-target: AmazonSQS.<Action>` header and a
 * JSON body), which @aws-sdk/client-sqs v3 uses, and the query protocol (a
 * form-encoded `Action=…` body, XML replies), which Debian's `/usr/bin/aws`
 * 2.9 uses. Actions: CreateQueue, GetQueueUrl, ListQueues, SendMessage,
 * ReceiveMessage, DeleteMessage, GetQueueAttributes, PurgeQueue. Only what the
 * notify function's dead-letter queue needs: no FIFO, no long polling, no
 * redrive. No npm package ships ElasticMQ, and sqslite speaks only the query
 * protocol. Like a standard queue, ReceiveMessage promises no order: it
 * serves the visible messages received least recently first, so repeated
 * receives with VisibilityTimeout 0 (`qm dlq list`) reach every message, not
 * the same ten.
 */
interface MessageAttribute {
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

export interface LocalSqs {
  url: string;
  queueUrl(name: string): string;
  close(): Promise<void>;
}

/** An SQS error: `code` is the JSON protocol's type, `queryCode` the query protocol's code where it differs. */
class SqsError extends Error {
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

/**
 * The query protocol's form (`AttributeName.1=All`, `MessageAttribute.1.Name=…`)
 * as the JSON protocol's input (`AttributeNames: ['All']`, `MessageAttributes: {…}`).
 */
export const queryToJson = (form: URLSearchParams): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  const lists: Record<string, string[]> = {};
  const attrs: Record<string, Record<string, string>> = {};
  for (const [k, v] of form) {
    const list = /^(AttributeName|MessageAttributeName|MessageSystemAttributeName)\.(\d+)$/.exec(k);
    const attr = /^MessageAttribute\.(\d+)\.(Name|Value\.DataType|Value\.StringValue|Value\.BinaryValue)$/.exec(k);
    if (list) {
      const key = `${list[1]}s`;
      lists[key] ??= [];
      lists[key][Number(list[2])] = v;
    } else if (attr) {
      const n = attr[1] as string;
      attrs[n] ??= {};
      attrs[n][attr[2] as string] = v;
    } else if (k !== 'Action' && k !== 'Version') out[k] = v;
  }
  for (const [k, v] of Object.entries(lists)) out[k] = v.filter((x) => x !== undefined);
  const entries = Object.values(attrs).filter((a) => a.Name);
  if (entries.length) {
    out.MessageAttributes = Object.fromEntries(
      entries.map((a) => [
        a.Name,
        {
          DataType: a['Value.DataType'] ?? 'String',
          ...(a['Value.StringValue'] !== undefined ? { StringValue: a['Value.StringValue'] } : {}),
          ...(a['Value.BinaryValue'] !== undefined ? { BinaryValue: a['Value.BinaryValue'] } : {}),
        },
      ]),
    );
  }
  return out;
};

const esc = (s: string) =>
  s.replace(
    /[&<>"'\r]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' })[c] as string,
  );
const el = (name: string, inner: string) => `<${name}>${inner}</${name}>`;
const text = (name: string, v: unknown) => (v === undefined ? '' : el(name, esc(String(v))));

/** The query protocol's XML reply to `action`, from the JSON protocol's result. */
const toXml = (action: string, r: Record<string, unknown>, requestId: string): string => {
  let result = '';
  switch (action) {
    case 'CreateQueue':
    case 'GetQueueUrl':
      result = text('QueueUrl', r.QueueUrl);
      break;
    case 'ListQueues':
      result = ((r.QueueUrls as string[] | undefined) ?? []).map((u) => text('QueueUrl', u)).join('');
      break;
    case 'SendMessage':
      result = text('MessageId', r.MessageId) + text('MD5OfMessageBody', r.MD5OfMessageBody);
      result += text('MD5OfMessageAttributes', r.MD5OfMessageAttributes);
      break;
    case 'GetQueueAttributes':
      result = Object.entries((r.Attributes as Record<string, string>) ?? {})
        .map(([k, v]) => el('Attribute', text('Name', k) + text('Value', v)))
        .join('');
      break;
    case 'ReceiveMessage':
      result = ((r.Messages as Record<string, unknown>[] | undefined) ?? [])
        .map((m) => {
          const sys = Object.entries((m.Attributes as Record<string, string>) ?? {})
            .map(([k, v]) => el('Attribute', text('Name', k) + text('Value', v)))
            .join('');
          const user = Object.entries((m.MessageAttributes as Record<string, MessageAttribute>) ?? {})
            .map(([k, a]) =>
              el(
                'MessageAttribute',
                text('Name', k) +
                  el(
                    'Value',
                    text('StringValue', a.StringValue) +
                      text('BinaryValue', a.BinaryValue) +
                      text('DataType', a.DataType),
                  ),
              ),
            )
            .join('');
          return el(
            'Message',
            text('MessageId', m.MessageId) +
              text('ReceiptHandle', m.ReceiptHandle) +
              text('MD5OfBody', m.MD5OfBody) +
              text('Body', m.Body) +
              sys +
              user +
              text('MD5OfMessageAttributes', m.MD5OfMessageAttributes),
          );
        })
        .join('');
      break;
  }
  const ns = 'xmlns="http://queue.amazonaws.com/doc/2012-11-05/"';
  const meta = el('ResponseMetadata', text('RequestId', requestId));
  const body = action === 'DeleteMessage' || action === 'PurgeQueue' ? '' : el(`${action}Result`, result);
  return `<?xml version="1.0"?><${action}Response ${ns}>${body}${meta}</${action}Response>`;
};

export const startLocalSqs = async (port: number, accountId = '000000000000'): Promise<LocalSqs> => {
  const queues = new Map<string, Queue>();
  let receives = 0;
  let base = '';
  const queueUrl = (name: string) => `${base}/${accountId}/${name}`;
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

  const actions: Record<string, (input: Record<string, unknown>) => Record<string, unknown>> = {
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

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => {
      raw += d;
    });
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      const requestId = randomUUID();
      if (target !== undefined) {
        // JSON 1.0: the action in the header, the input as a JSON object.
        const action = String(target).replace(/^AmazonSQS\./, '');
        const reply = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId });
          res.end(JSON.stringify(body));
        };
        const run = actions[action];
        if (!run) return reply(400, { __type: 'com.amazonaws.sqs#InvalidAction', message: `unsupported ${action}` });
        try {
          const input = raw ? JSON.parse(raw) : {};
          if (typeof input !== 'object' || input === null || Array.isArray(input)) {
            throw new SqsError('InvalidParameterValue', 'the request body must be a JSON object');
          }
          reply(200, run(input));
        } catch (e) {
          const code = e instanceof SqsError ? e.code : 'InvalidParameterValue';
          reply(400, { __type: `com.amazonaws.sqs#${code}`, message: (e as Error).message });
        }
        return;
      }
      // Query: Action and its parameters in a form body (or the URL's query string), XML replies.
      const form = new URLSearchParams(raw || new URL(req.url ?? '/', 'http://x').search);
      const action = form.get('Action') ?? '';
      const fail = (status: number, code: string, message: string) => {
        res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
        res.end(
          `<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">` +
            el('Error', `${text('Type', 'Sender')}${text('Code', code)}${text('Message', message)}<Detail/>`) +
            `${text('RequestId', requestId)}</ErrorResponse>`,
        );
      };
      const run = actions[action];
      if (!run) return fail(400, 'InvalidAction', `The action ${action || '(none)'} is not valid for this endpoint.`);
      try {
        const xml = toXml(action, run(queryToJson(form)), requestId);
        res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
        res.end(xml);
      } catch (e) {
        if (e instanceof SqsError) fail(400, e.queryCode, e.message);
        else fail(400, 'InvalidParameterValue', (e as Error).message);
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
