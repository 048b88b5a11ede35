import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

/** Where messages that cannot be applied are kept, with the reason. One implementation: SQS. */
export interface DeadLetters {
  park(body: string, reason: string, attributes?: Record<string, string>): Promise<void>;
}

/** The SQS dead-letter queue (QM_DLQ_URL); `endpoint` points at a local SQS when set. */
export class SqsDeadLetters implements DeadLetters {
  private readonly sqs: SQSClient;
  constructor(
    region: string,
    private readonly queueUrl: string | undefined,
    endpoint?: string,
  ) {
    this.sqs = new SQSClient({
      region,
      requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
      ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    });
  }

  async park(body: string, reason: string, attributes: Record<string, string> = {}): Promise<void> {
    if (!this.queueUrl) throw new Error('QM_DLQ_URL is not configured: cannot keep the message');
    const attrs = { reason, ...attributes };
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        MessageAttributes: Object.fromEntries(
          Object.entries(attrs).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
        ),
      }),
    );
  }
}
