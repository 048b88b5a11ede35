/**
 * What serverless-offline-sns loads as the notify handler in the local stack
 * (bundled by scripts/lib/local-notify.ts into the directory the plugin's
 * `location` names): the real notify bundle wrapped in Lambda's async
 * invocation — retries, then the invocation record in the dead-letter queue.
 * The plugin awaits the returned promise only to answer its own HTTP POST, so
 * the handler accepts the event at once, as Lambda does (202).
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { asyncInvoker, type InvokeContext } from './async-invoke';

/** Baked in by esbuild `define` at stack start (scripts/lib/local-notify.ts). */
declare const __QM_LOCAL_NOTIFY__: {
  bundle: string;
  functionArn: string;
  retryDelaysMs: number[];
  concurrency: number;
  sqsEndpoint: string;
  dlqUrl: string;
  region: string;
};
const cfg = __QM_LOCAL_NOTIFY__;

const real = (await import(cfg.bundle)) as {
  handler: (event: unknown, context: InvokeContext) => Promise<unknown>;
};
const sqs = new SQSClient({
  region: cfg.region,
  endpoint: cfg.sqsEndpoint,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

const invoker = asyncInvoker(real.handler, {
  functionArn: cfg.functionArn,
  retryDelaysMs: cfg.retryDelaysMs,
  concurrency: cfg.concurrency,
  // Lambda's destination record carries no message attributes: its body says why (`qm dlq list` reads it).
  onFailure: async (record) => {
    await sqs.send(new SendMessageCommand({ QueueUrl: cfg.dlqUrl, MessageBody: JSON.stringify(record) }));
  },
  log: (line) => console.error(`[qm-local-lambda] notify ${line}`),
  now: () => new Date(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  requestId: randomUUID,
});

export const handler = async (event: unknown): Promise<void> => {
  invoker.invoke(event);
};
