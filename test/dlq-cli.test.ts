import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { type DeadLetter, SqsDeadLetters } from '../adapters/sqs/dead-letters';
import { stack } from './helpers';

const root = fileURLToPath(new URL('..', import.meta.url));
// The queue and endpoint come from the flags alone, never from this shell.
const { QM_DLQ_URL: _url, QM_SQS_ENDPOINT: _endpoint, ...env } = process.env;
const qm = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['bin/qm.mjs', 'dlq', 'list', ...args], { cwd: root, env });

/** Parks two messages of this test's own (other tests park in the same queue). */
const parkTwo = async () => {
  const s = stack();
  const tag = randomUUID();
  const first = { body: JSON.stringify({ test: 'dlq-cli', tag, n: 1 }), reason: `NotImplemented: ${tag}` };
  const second = { body: JSON.stringify({ test: 'dlq-cli', tag, n: 2 }), reason: `Malformed: ${tag}` };
  const dlq = new SqsDeadLetters('us-east-1', s.dlqUrl, s.sqsUrl);
  await dlq.park(first.body, first.reason, { message_id: `${tag}-1` });
  await dlq.park(second.body, second.reason);
  return { tag, first, second };
};

describe('npx qm dlq list', () => {
  it('lists parked messages with their reasons as JSON, and consumes none', async () => {
    const { tag, first, second } = await parkTwo();
    const mine = async () => {
      const out = await qm('--queue-url', stack().dlqUrl, '--json');
      return (JSON.parse(out.stdout) as DeadLetter[]).filter((m) => m.body.includes(tag));
    };
    const once = await mine();
    expect(once).toHaveLength(2);
    // Oldest first; the two may share a millisecond, so their order is not asserted.
    const one = once.find((m) => m.body === first.body);
    const two = once.find((m) => m.body === second.body);
    expect(one).toMatchObject({ reason: first.reason, attributes: { message_id: `${tag}-1` } });
    expect(two).toMatchObject({ reason: second.reason, attributes: {} });
    expect(two?.attributes).toEqual({});
    for (const m of once) expect(Date.parse(m.sent_at ?? '')).toBeGreaterThan(Date.now() - 10 * 60_000);
    // Listed, not received: a second run sees the same messages.
    expect(await mine()).toEqual(once);
  });

  it('prints one line per message with the reason, the message_id and the body', async () => {
    const { tag, first, second } = await parkTwo();
    const lines = (await qm('--queue-url', stack().dlqUrl)).stdout.split('\n').filter((l) => l.includes(tag));
    expect(lines).toHaveLength(2);
    const one = lines.find((l) => l.includes(first.body));
    const two = lines.find((l) => l.includes(second.body));
    expect(one).toContain(`  ${first.reason}  message_id=${tag}-1  `);
    expect(two).toContain(`  ${second.reason}  `);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z {2}/);
  });

  it('says so, and succeeds, when the queue is empty', async () => {
    const s = stack();
    const sqs = new SQSClient({
      endpoint: s.sqsUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `dlq-cli-empty-${randomUUID()}` }));
    sqs.destroy();
    const out = await qm('--queue-url', QueueUrl!, '--json');
    expect(JSON.parse(out.stdout)).toEqual([]);
    expect(out.stderr).toContain('dead-letter queue is empty');
  });

  it('exits 2 with a clear error when no queue URL is given', async () => {
    await expect(qm()).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--queue-url') });
  });
});
