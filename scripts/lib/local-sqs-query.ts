import { type Action, type MessageAttribute, SqsError } from './local-sqs-queues';

/**
 * The query protocol's codec for the local SQS (what Debian's `/usr/bin/aws`
 * 2.9 speaks): a form-encoded `Action=…` body in, XML out. It translates to
 * and from the JSON protocol's shapes the actions take (local-sqs-queues.ts).
 */

/** The namespace of every query-protocol reply. */
const NS = 'xmlns="http://queue.amazonaws.com/doc/2012-11-05/"';

/** What the server writes back: status, content type and body. */
export interface SqsReply {
  status: number;
  contentType: string;
  body: string;
}

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

/** A map of (queue or system) attributes as `<Attribute><Name/><Value/></Attribute>` elements. */
const attributesXml = (attrs: unknown): string =>
  Object.entries((attrs as Record<string, string> | undefined) ?? {})
    .map(([k, v]) => el('Attribute', text('Name', k) + text('Value', v)))
    .join('');

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
      result = attributesXml(r.Attributes);
      break;
    case 'ReceiveMessage':
      result = ((r.Messages as Record<string, unknown>[] | undefined) ?? [])
        .map((m) => {
          const sys = attributesXml(m.Attributes);
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
  const meta = el('ResponseMetadata', text('RequestId', requestId));
  const body = action === 'DeleteMessage' || action === 'PurgeQueue' ? '' : el(`${action}Result`, result);
  return `<?xml version="1.0"?><${action}Response ${NS}>${body}${meta}</${action}Response>`;
};

const errorXml = (code: string, message: string, requestId: string): string =>
  `<?xml version="1.0"?><ErrorResponse ${NS}>` +
  el('Error', `${text('Type', 'Sender')}${text('Code', code)}${text('Message', message)}<Detail/>`) +
  `${text('RequestId', requestId)}</ErrorResponse>`;

/** The reply to a query-protocol request: `form` holds Action and its parameters. */
export const queryReply = (actions: Record<string, Action>, form: URLSearchParams, requestId: string): SqsReply => {
  const action = form.get('Action') ?? '';
  const xml = (status: number, body: string): SqsReply => ({ status, contentType: 'text/xml', body });
  const run = actions[action];
  if (!run) {
    return xml(
      400,
      errorXml('InvalidAction', `The action ${action || '(none)'} is not valid for this endpoint.`, requestId),
    );
  }
  try {
    return xml(200, toXml(action, run(queryToJson(form)), requestId));
  } catch (e) {
    const code = e instanceof SqsError ? e.queryCode : 'InvalidParameterValue';
    return xml(400, errorXml(code, (e as Error).message, requestId));
  }
};
