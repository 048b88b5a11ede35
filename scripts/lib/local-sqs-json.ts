import type { SqsReply } from './local-sqs-query';
import { type Action, SqsError } from './local-sqs-queues';

/**
 * The AWS JSON 1.0 codec for the local SQS (what @aws-sdk/client-sqs v3
 * speaks): the action in an `x-amz-target: AmazonSQS.<Action>` header, the
 * input a JSON object, the result JSON, an error `{__type, message}`.
 */
export const jsonReply = (actions: Record<string, Action>, target: string, raw: string): SqsReply => {
  const action = target.replace(/^AmazonSQS\./, '');
  const reply = (status: number, body: unknown): SqsReply => ({
    status,
    contentType: 'application/x-amz-json-1.0',
    body: JSON.stringify(body),
  });
  const run = actions[action];
  if (!run) return reply(400, { __type: 'com.amazonaws.sqs#InvalidAction', message: `unsupported ${action}` });
  try {
    const input = raw ? JSON.parse(raw) : {};
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new SqsError('InvalidParameterValue', 'the request body must be a JSON object');
    }
    return reply(200, run(input));
  } catch (e) {
    const code = e instanceof SqsError ? e.code : 'InvalidParameterValue';
    return reply(400, { __type: `com.amazonaws.sqs#${code}`, message: (e as Error).message });
  }
};
