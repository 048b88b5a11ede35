import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jsonReply } from './local-sqs-json';
import { queryReply, type SqsReply } from './local-sqs-query';
import { queueActions } from './local-sqs-queues';

/**
 * A minimal in-memory SQS for the local stack. It speaks both of SQS's wire
 * protocols: AWS JSON 1.0 (an `x-amz-target: AmazonSQS.<Action>` header and a
 * JSON body), which @aws-sdk/client-sqs v3 uses (local-sqs-json.ts), and the
 * query protocol (a form-encoded `Action=…` body, XML replies), which Debian's
 * `/usr/bin/aws` 2.9 uses (local-sqs-query.ts); both drive the same queues
 * (local-sqs-queues.ts). Only what the notify function's dead-letter queue
 * needs: no FIFO, no long polling, no redrive. No npm package ships ElasticMQ,
 * and sqslite speaks only the query protocol.
 */
export interface LocalSqs {
  url: string;
  queueUrl(name: string): string;
  close(): Promise<void>;
}

/** Starts the local SQS on 127.0.0.1:`port` (0: any free port), its queues empty. */
export const startLocalSqs = async (port: number, accountId = '000000000000'): Promise<LocalSqs> => {
  let base = '';
  const queueUrl = (name: string) => `${base}/${accountId}/${name}`;
  const actions = queueActions(queueUrl, accountId);
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => {
      raw += d;
    });
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      const requestId = randomUUID();
      // Query: Action and its parameters in a form body (or the URL's query string).
      const reply: SqsReply =
        target !== undefined
          ? jsonReply(actions, String(target), raw)
          : queryReply(actions, new URLSearchParams(raw || new URL(req.url ?? '/', 'http://x').search), requestId);
      res.writeHead(reply.status, { 'content-type': reply.contentType, 'x-amzn-requestid': requestId });
      res.end(reply.body);
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
