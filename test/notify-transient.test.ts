import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { Context, SNSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsDeadLetters } from '../adapters/sqs/dead-letters';
import { stack } from './helpers';

/**
 * A transient DynamoDB failure must fail the invocation (Lambda's async retry
 * policy then retries it, serverless.yml) and must not dead-letter the message
 * at once. The real notify handler, in-process, with DynamoDB unreachable.
 */
let handler: (e: SNSEvent, c: Context) => Promise<void>;

// The handlers read their config from process.env at import; the worker's env is restored after.
let savedEnv: NodeJS.ProcessEnv = {};
beforeAll(async () => {
  // A port nobody listens on: connections are refused, as when DynamoDB is unreachable.
  const port = await new Promise<number>((done) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => done(p));
    });
  });
  savedEnv = { ...process.env };
  Object.assign(process.env, {
    QM_NODES_TABLE: stack().nodesTable,
    QM_EVENTS_TABLE: stack().eventsTable,
    QM_DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}`,
    QM_SECRET: stack().secret,
    QM_DLQ_URL: stack().dlqUrl,
    QM_SQS_ENDPOINT: stack().sqsUrl,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    POWERTOOLS_LOG_LEVEL: 'CRITICAL',
  });
  handler = (await import('../functions/notify/handler')).handler as never;
});

afterAll(() => {
  process.env = savedEnv;
});

describe('notify, when DynamoDB is unreachable', () => {
  it('fails the invocation for Lambda to retry, and keeps nothing in the dead-letter queue', async () => {
    const body = JSON.stringify({
      message_id: randomUUID(),
      event_type: 'compute.instance.delete.start',
      publisher_id: 'compute.transient-host',
      timestamp: new Date().toISOString(),
      priority: 'INFO',
      payload: {},
    });
    const event = { Records: [{ Sns: { Message: body, MessageId: randomUUID() } }] } as unknown as SNSEvent;
    await expect(handler(event, {} as Context)).rejects.toThrow();
    const parked = await new SqsDeadLetters('us-east-1', stack().dlqUrl, stack().sqsUrl).list();
    expect(parked.find((m) => m.body === body)).toBeUndefined();
  }, 60_000);
});
