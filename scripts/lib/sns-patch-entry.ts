/**
 * Preloaded (`node --import`) into the local stack's serverless process only
 * (scripts/lib/local-notify.ts bundles it, scripts/lib/stack.ts sets
 * NODE_OPTIONS): replaces serverless-offline-sns's one-shot HTTP delivery
 * (`SNSServer.prototype.publishHttp`) with SNS's retries, bounded concurrency
 * and redrive to the dead-letter queue (sns-delivery.ts). Applied at every
 * start, so nothing in node_modules is edited.
 */
import { isMainThread } from 'node:worker_threads';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { snsDelivery } from './sns-delivery';

declare const __QM_SNS_PATCH__: {
  /** file: URL of serverless-offline-sns's dist/sns-server.js in this checkout. */
  snsServer: string;
  concurrency: number;
  delaysMs: number[];
  sqsEndpoint: string;
  dlqUrl: string;
  region: string;
};
const cfg = __QM_SNS_PATCH__;

// serverless-offline's function workers inherit NODE_OPTIONS; they have nothing to patch.
if (isMainThread) {
  const { SNSServer } = (await import(cfg.snsServer)) as {
    SNSServer: {
      prototype: { publishHttp: (event: string, sub: { Endpoint: string }, raw: boolean) => Promise<void> };
    };
  };
  const sqs = new SQSClient({
    region: cfg.region,
    endpoint: cfg.sqsEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const delivery = snsDelivery({
    concurrency: cfg.concurrency,
    delaysMs: cfg.delaysMs,
    send: async (body, endpoint, raw) => {
      // The headers the plugin sends; Node's fetch keeps connections alive, as the plugin's node-fetch does not.
      const r = await fetch(endpoint, {
        method: 'POST',
        body,
        headers: { 'x-amz-sns-rawdelivery': String(raw), 'content-type': 'text/plain; charset=UTF-8' },
      });
      await r.arrayBuffer();
      return r.status;
    },
    onGiveUp: async (body, _endpoint, reason) => {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: cfg.dlqUrl,
          MessageBody: body,
          MessageAttributes: { reason: { DataType: 'String', StringValue: reason } },
        }),
      );
    },
    log: (line) => console.error(`[qm-local-sns] ${line}`),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  });
  SNSServer.prototype.publishHttp = (event, sub, raw) => delivery.deliver(event, sub.Endpoint, raw);
}
