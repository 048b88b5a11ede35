import { randomUUID } from 'node:crypto';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { stack } from './helpers';

const creds = { accessKeyId: 'local', secretAccessKey: 'local' };

// Until the notifications issue lands, notify keeps every message in the
// dead-letter queue with the reason, rather than pretending to apply it.
describe('notify, before notifications are implemented', () => {
  it('parks each published message in the dead-letter queue with the reason NotImplemented', async () => {
    const s = stack();
    const sns = new SNSClient({ endpoint: s.snsUrl, region: 'us-east-1', credentials: creds });
    const sqs = new SQSClient({ endpoint: s.sqsUrl, region: 'us-east-1', credentials: creds });
    const messageId = randomUUID();
    const body = JSON.stringify({
      message_id: messageId,
      event_type: 'compute.instance.create.end',
      publisher_id: 'compute.host-a',
      timestamp: new Date().toISOString(),
      priority: 'INFO',
      payload: { instance_id: randomUUID(), vcpus: 1, memory_mb: 2048, disk_gb: 20 },
    });
    await sns.send(new PublishCommand({ TopicArn: s.topicArn, Message: body }));
    let found: { Body?: string; MessageAttributes?: Record<string, { StringValue?: string }> } | undefined;
    for (let i = 0; i < 40 && !found; i++) {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: s.dlqUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
      );
      found = out.Messages?.find((m) => m.Body === body);
      if (!found) await new Promise((r) => setTimeout(r, 100));
    }
    expect(found?.MessageAttributes?.reason?.StringValue).toMatch(/^NotImplemented/);
    sns.destroy();
    sqs.destroy();
  });
});
