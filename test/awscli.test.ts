import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SqsDeadLetters } from '../adapters/sqs/dead-letters';
import { report, stack, uniqueHost } from './helpers';

const AWS = '/usr/bin/aws';

// Debian's awscli is a real, independent client of DynamoDB Local: it sees what the API stored.
describe.skipIf(!existsSync(AWS))('the stored node, read with /usr/bin/aws', () => {
  it('is one DynamoDB item per host with the reported columns', async () => {
    const host = uniqueHost('awscli');
    await report(host, { seq: 3, vcpus: 12 });
    const { stdout } = await promisify(execFile)(
      AWS,
      [
        'dynamodb',
        'get-item',
        '--endpoint-url',
        stack().dynamodbUrl,
        '--region',
        'us-east-1',
        '--table-name',
        stack().nodesTable,
        '--key',
        JSON.stringify({ host: { S: host } }),
        '--consistent-read',
      ],
      { env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_PAGER: '' } },
    );
    const item = JSON.parse(stdout).Item;
    expect(item.seq).toEqual({ N: '3' });
    expect(item.vcpus).toEqual({ N: '12' });
    expect(item.hypervisor_hostname).toEqual({ S: host });
  });
});

/** `/usr/bin/aws sqs …` against the stack's local SQS; awscli 2.9 speaks SQS's query (XML) protocol. */
const sqsCli = async (...args: string[]) => {
  const { stdout } = await promisify(execFile)(
    AWS,
    ['sqs', ...args, '--endpoint-url', stack().sqsUrl, '--region', 'us-east-1', '--output', 'json'],
    { env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_PAGER: '' } },
  );
  return (stdout.trim() ? JSON.parse(stdout) : {}) as Record<string, unknown>;
};
const count = async (queueUrl: string) =>
  (
    (await sqsCli(
      'get-queue-attributes',
      '--queue-url',
      queueUrl,
      '--attribute-names',
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
    )) as { Attributes: Record<string, string> }
  ).Attributes;

describe.skipIf(!existsSync(AWS))('the local dead-letter queue, read with /usr/bin/aws sqs', () => {
  it('receives what notify parked, with its reason, and leaves it there with --visibility-timeout 0', async () => {
    const tag = randomUUID();
    const body = JSON.stringify({ test: 'awscli', tag, note: 'a <tag> & "quotes"\r\nand a new line' });
    await new SqsDeadLetters('us-east-1', stack().dlqUrl, stack().sqsUrl).park(body, `UnknownHost: ${tag}`, {
      message_id: tag,
    });
    const seen = async () => {
      // The queue serves the least recently received first: receive until this test's message comes.
      for (let i = 0; i < 200; i++) {
        const out = (await sqsCli(
          'receive-message',
          '--queue-url',
          stack().dlqUrl,
          '--max-number-of-messages',
          '10',
          '--visibility-timeout',
          '0',
          '--attribute-names',
          'All',
          '--message-attribute-names',
          'All',
        )) as { Messages?: { Body: string; MessageAttributes?: Record<string, { StringValue: string }> }[] };
        const m = out.Messages?.find((x) => x.Body === body);
        if (m) return m;
      }
      return undefined;
    };
    const m = await seen();
    expect(m?.MessageAttributes?.reason?.StringValue).toBe(`UnknownHost: ${tag}`);
    expect(m?.MessageAttributes?.message_id?.StringValue).toBe(tag);
    expect(m).toMatchObject({ Attributes: { SentTimestamp: expect.stringMatching(/^\d+$/) } });
    // Still there: received with visibility 0, never deleted.
    expect(await seen()).toBeDefined();
    expect(Number((await count(stack().dlqUrl)).ApproximateNumberOfMessages)).toBeGreaterThan(0);
  });

  it('answers create-queue, get-queue-url, list-queues, send-message, get-queue-attributes, receive, delete and purge', async () => {
    const name = `awscli-${randomUUID()}`;
    const { QueueUrl } = (await sqsCli('create-queue', '--queue-name', name)) as { QueueUrl: string };
    expect((await sqsCli('get-queue-url', '--queue-name', name)).QueueUrl).toBe(QueueUrl);
    expect((await sqsCli('list-queues', '--queue-name-prefix', name)).QueueUrls).toEqual([QueueUrl]);
    // awscli checks MD5OfMessageBody and MD5OfMessageAttributes itself and fails on a mismatch.
    const sent = await sqsCli(
      'send-message',
      '--queue-url',
      QueueUrl,
      '--message-body',
      'first ünïcode',
      '--message-attributes',
      JSON.stringify({
        kind: { DataType: 'String', StringValue: 'test' },
        n: { DataType: 'Number', StringValue: '7' },
      }),
    );
    expect(sent).toMatchObject({ MessageId: expect.any(String), MD5OfMessageAttributes: expect.any(String) });
    await sqsCli('send-message', '--queue-url', QueueUrl, '--message-body', 'second');
    expect(await count(QueueUrl)).toEqual({
      ApproximateNumberOfMessages: '2',
      ApproximateNumberOfMessagesNotVisible: '0',
    });

    const got = (await sqsCli('receive-message', '--queue-url', QueueUrl, '--message-attribute-names', 'All')) as {
      Messages: { Body: string; ReceiptHandle: string }[];
    };
    expect(got.Messages).toHaveLength(1);
    expect(await count(QueueUrl)).toEqual({
      ApproximateNumberOfMessages: '1',
      ApproximateNumberOfMessagesNotVisible: '1',
    });
    await sqsCli('delete-message', '--queue-url', QueueUrl, '--receipt-handle', got.Messages[0]?.ReceiptHandle ?? '');
    expect(await count(QueueUrl)).toEqual({
      ApproximateNumberOfMessages: '1',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
    await sqsCli('purge-queue', '--queue-url', QueueUrl);
    expect(await count(QueueUrl)).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
    expect((await sqsCli('receive-message', '--queue-url', QueueUrl)).Messages).toBeUndefined();
  });

  it('says a queue does not exist as SQS does', async () => {
    await expect(sqsCli('get-queue-url', '--queue-name', `absent-${randomUUID()}`)).rejects.toMatchObject({
      stderr: expect.stringContaining('AWS.SimpleQueueService.NonExistentQueue'),
    });
  });
});
