import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchGetCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../adapters/dynamodb/client';
import { type DeadLetter, SqsDeadLetters } from '../adapters/sqs/dead-letters';
import { nodeToken } from '../core/auth';
import type { InvocationRecord } from '../scripts/lib/async-invoke';
import { type Stack, startStack } from '../scripts/lib/stack';
import { testPorts } from './global-setup';
import { makeReport } from './helpers';
import { startTcpGate, type TcpGate } from './tcp-gate';

/**
 * Lambda's async invocation in the local stack: a notify invocation that fails
 * (DynamoDB away) is retried twice, then its invocation record is parked in the
 * dead-letter queue; nothing is dropped. A stack of its own, whose functions
 * reach DynamoDB Local through a gate the test closes and opens.
 */
let stack: Stack;
let gate: TcpGate;
let sns: SNSClient;
let output = '';
const SECRET = 'notify-retry-secret';
const PORTS = testPorts({ httpPort: 3600, snsPort: 4602, dynamodbPort: 8600, sqsPort: 9924 });
const RETRY_DELAYS_MS = [1500, 3000];
const db = () => documentClient('us-east-1', stack.dynamodbUrl);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async <T>(what: string, f: () => Promise<T | undefined> | T | undefined, timeoutMs = 90_000) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
};

const notification = (host: string, message_id = randomUUID()) =>
  JSON.stringify({
    message_id,
    event_type: 'compute.instance.power_off.start',
    publisher_id: `compute.${host}`,
    timestamp: new Date().toISOString(),
    priority: 'INFO',
    payload: { instance_id: randomUUID() },
  });
const publish = async (body: string) =>
  (await sns.send(new PublishCommand({ TopicArn: stack.topicArn, Message: body }))).MessageId as string;

const addNode = async (host: string) => {
  const r = await fetch(`${stack.baseUrl}/nodes/${host}`, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${nodeToken(SECRET, host, { nowMs: Date.now() })}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(makeReport(host)),
  });
  expect(r.status).toBe(200);
};
const workload = async (host: string) => {
  const out = await db().send(new GetCommand({ TableName: stack.nodesTable, Key: { host }, ConsistentRead: true }));
  return Number(out.Item?.current_workload ?? Number.NaN);
};
/** Messages in the dead-letter queue (SQS's ApproximateNumberOfMessages). */
const queued = async () => {
  const sqs = new SQSClient({
    endpoint: stack.sqsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: stack.dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  sqs.destroy();
  return Number(out.Attributes?.ApproximateNumberOfMessages);
};
const deadLetters = () => new SqsDeadLetters('us-east-1', stack.dlqUrl, stack.sqsUrl);
/** The notifications inside the invocation records parked so far, by their message_id. */
const parkedRecords = async (max = 1000) => {
  const found = new Map<string, { letter: DeadLetter; record: InvocationRecord }>();
  for (const letter of await deadLetters().list(max)) {
    const record = JSON.parse(letter.body) as InvocationRecord & { message_id?: string };
    // A message notify itself parked (it can never apply) is its own body.
    if (record.message_id) found.set(record.message_id, { letter, record });
    const sns = (record.requestPayload as { Records?: { Sns: { Message: string } }[] } | undefined)?.Records ?? [];
    for (const r of sns) found.set(JSON.parse(r.Sns.Message).message_id as string, { letter, record });
  }
  return found;
};
/** The message_ids among `ids` that notify applied (their idempotency record exists). */
const appliedOf = async (ids: string[]) => {
  const applied = new Set<string>();
  for (let i = 0; i < ids.length; i += 100) {
    let keys: Record<string, unknown>[] | undefined = ids.slice(i, i + 100).map((id) => ({ id }));
    while (keys?.length) {
      const out = await db().send(
        new BatchGetCommand({ RequestItems: { [stack.eventsTable]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of out.Responses?.[stack.eventsTable] ?? []) applied.add(String(item.id));
      keys = out.UnprocessedKeys?.[stack.eventsTable]?.Keys as Record<string, unknown>[] | undefined;
    }
  }
  return applied;
};

beforeAll(async () => {
  // The gate's upstream is the DynamoDB Local the stack is about to start; it connects on demand.
  gate = await startTcpGate(PORTS.dynamodbPort);
  stack = await startStack({
    stage: 'retry',
    ...PORTS,
    secret: SECRET,
    buildDir: '.esbuild-retry',
    retryDelaysMs: RETRY_DELAYS_MS,
    env: { QM_DYNAMODB_ENDPOINT: gate.url, POWERTOOLS_LOG_LEVEL: 'CRITICAL' },
    output: (chunk) => {
      output += chunk;
    },
  });
  sns = new SNSClient({
    endpoint: stack.snsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}, 180_000);

afterAll(async () => {
  sns?.destroy();
  await stack?.stop();
  await gate?.stop();
});

describe('notify in the local stack, as Lambda invokes it asynchronously', () => {
  it('retries a message while DynamoDB is away twice, then parks Lambda’s invocation record; qm dlq list says why', async () => {
    const host = `retry-parked-${randomUUID().slice(0, 8)}`;
    await addNode(host);
    const body = notification(host);
    const id = JSON.parse(body).message_id as string;
    gate.close();
    const snsId = await publish(body);
    const { letter, record } = await until('the invocation record in the dead-letter queue', async () =>
      (await parkedRecords()).get(id),
    );
    gate.open();

    expect(record).toMatchObject({
      version: '1.0',
      requestContext: {
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
        functionArn: expect.stringMatching(/:function:quartermaster-retry-notify:\$LATEST$/),
      },
      responseContext: { functionError: 'Unhandled' },
      responsePayload: { errorType: expect.any(String), errorMessage: expect.stringMatching(/./) },
    });
    expect(Date.parse(record.timestamp)).toBeGreaterThan(0);
    expect((record.requestPayload as { Records: { Sns: { MessageId: string } }[] }).Records[0]?.Sns.MessageId).toBe(
      snsId,
    );
    for (const n of [1, 2, 3]) expect(output).toMatch(new RegExp(`sns ${snsId} .*attempt ${n} of 3 failed`));
    expect(letter.reason).toMatch(/^RetriesExhausted after 3 attempts: \w+: ./);
    // Parked, not applied: no idempotency record, and the node's workload did not move.
    expect((await appliedOf([id])).size).toBe(0);
    expect(await workload(host)).toBe(0);

    // The operator's view of it.
    const { QM_DLQ_URL: _u, QM_SQS_ENDPOINT: _e, ...env } = process.env;
    const qm = await promisify(execFile)(
      process.execPath,
      ['bin/qm.mjs', 'dlq', 'list', '--queue-url', stack.dlqUrl, '--json'],
      { env },
    );
    const listed = (JSON.parse(qm.stdout) as DeadLetter[]).find((m) => m.body.includes(id));
    expect(listed?.reason).toBe(letter.reason);
  });

  it('applies once a message whose first attempt failed and whose retry found DynamoDB back, and parks nothing', async () => {
    const host = `retry-applied-${randomUUID().slice(0, 8)}`;
    await addNode(host);
    const body = notification(host);
    const id = JSON.parse(body).message_id as string;
    gate.close();
    const snsId = await publish(body);
    await until('the first attempt to fail', () => new RegExp(`sns ${snsId} .*attempt 1 of 3 failed`).test(output));
    gate.open();
    await until('a retry to succeed', () => new RegExp(`sns ${snsId} .*succeeded on attempt [23] of 3`).test(output));
    expect(await workload(host)).toBe(1);
    expect((await appliedOf([id])).size).toBe(1);
    expect((await parkedRecords()).has(id)).toBe(false);
  });

  it('under load, with DynamoDB away for a while, applies every message exactly once or parks it: none is lost', async () => {
    const N = 3000;
    const RATE_PER_S = 250;
    const hosts = Array.from({ length: 10 }, (_, i) => `retry-load-${i}-${randomUUID().slice(0, 8)}`);
    for (const h of hosts) await addNode(h);
    const failedBefore = (output.match(/attempt 1 of 3 failed/g) ?? []).length;
    const refusedBefore = gate.refused();
    const ids: string[] = [];
    const snsIds = new Map<string, string>();
    const inFlight = new Set<Promise<unknown>>();
    const queuedBefore = await queued();
    let outage: Promise<void> | undefined;
    const t0 = Date.now();
    for (let i = 0; i < N; i++) {
      // After a third is sent the store goes away until the first message is parked: messages that failed
      // early in the outage are parked, those that failed late in it (or waited) are applied by a retry.
      if (i === Math.floor(N / 3)) {
        gate.close();
        outage = until('a message parked during the outage', async () => (await queued()) > queuedBefore, 300_000).then(
          () => gate.open(),
        );
      }
      const body = notification(hosts[i % hosts.length] as string);
      ids.push(JSON.parse(body).message_id as string);
      const id = ids[ids.length - 1] as string;
      const p = publish(body)
        .then((snsId) => snsIds.set(id, snsId))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 64) await Promise.race(inFlight);
      const due = t0 + (i * 1000) / RATE_PER_S;
      if (due > Date.now()) await sleep(due - Date.now());
    }
    await Promise.all(inFlight);
    await outage;

    const settle = async () => {
      const applied = await appliedOf(ids);
      const parked = await parkedRecords(N + 1000);
      const lost = ids.filter((id) => !applied.has(id) && !parked.has(id));
      return { applied, parked, lost };
    };
    const deadline = Date.now() + 240_000;
    for (let last = await settle(); last.lost.length; last = await settle()) {
      if (Date.now() > deadline) {
        const at = last.lost.map((id) => ids.indexOf(id));
        const silent = last.lost.filter((id) => !output.includes(`sns ${snsIds.get(id)} `)).length;
        throw new Error(
          `${last.lost.length} of ${N} neither applied nor parked (sent #${Math.min(...at)}..#${Math.max(...at)}; ` +
            `${silent} never reached the invoker); e.g. ${last.lost.slice(0, 3).map((id) => snsIds.get(id))}`,
        );
      }
      await sleep(2000);
    }
    // Retries still in flight may yet park a message that was applied: wait out the longest retry span.
    await sleep(RETRY_DELAYS_MS.reduce((a, b) => a + b, 0) + 5000);
    const { applied, parked, lost } = await settle();
    const sent = new Set(ids);
    const both = ids.filter((id) => applied.has(id) && parked.has(id)).length;
    const total = (await Promise.all(hosts.map(workload))).reduce((a, b) => a + b, 0);
    const retried = (output.match(/attempt 1 of 3 failed/g) ?? []).length - failedBefore;
    console.log(
      `load: ${N} sent, ${applied.size} applied, ${[...parked.keys()].filter((k) => sent.has(k)).length} parked, ` +
        `${both} both, ${lost.length} lost; ${retried} invocations failed at first; ${gate.refused() - refusedBefore} connections refused`,
    );
    expect(gate.refused() - refusedBefore).toBeGreaterThan(0);
    expect(retried).toBeGreaterThan(0);
    expect([...parked.keys()].filter((k) => sent.has(k)).length).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    // Exactly once: each applied message raised its host's workload by one, no more.
    expect(total).toBe(applied.size);
  }, 600_000);
});
