import { describe, expect, it } from 'vitest';
import { asyncInvoker, type InvocationRecord, type InvokeContext } from './async-invoke';
import { snsDelivery } from './sns-delivery';

const event = { Records: [{ Sns: { MessageId: 'm-1', Message: '{}' } }] };
const harness = (
  handler: (e: unknown, c: InvokeContext) => Promise<unknown>,
  onFailure?: (r: InvocationRecord) => Promise<void>,
) => {
  const parked: InvocationRecord[] = [];
  const slept: number[] = [];
  const log: string[] = [];
  const invoker = asyncInvoker(handler, {
    functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:qm-notify:$LATEST',
    retryDelaysMs: [10, 20],
    concurrency: 2,
    onFailure: onFailure ?? (async (r) => void parked.push(r)),
    onFailureDelaysMs: [1, 1],
    log: (l) => log.push(l),
    now: () => new Date('2026-12-01T00:00:00Z'),
    sleep: async (ms) => void slept.push(ms),
    requestId: () => 'req-1',
  });
  return { invoker, parked, slept, log };
};

describe('asyncInvoker (Lambda async invocation in the local stack)', () => {
  it('retries a failed invocation after its delay, and parks nothing once a retry succeeds', async () => {
    let calls = 0;
    const h = harness(async () => {
      if (++calls === 1) throw new Error('connect ECONNREFUSED');
    });
    h.invoker.invoke(event);
    await h.invoker.idle();
    expect(calls).toBe(2);
    expect(h.slept).toEqual([10]);
    expect(h.parked).toEqual([]);
  });

  it('hands the handler a Lambda context whose request id is the same on every retry', async () => {
    const seen: InvokeContext[] = [];
    const h = harness(async (_e, c) => {
      seen.push(c);
      if (seen.length === 1) throw new Error('throttled');
    });
    h.invoker.invoke(event);
    await h.invoker.idle();
    expect(seen).toHaveLength(2);
    for (const c of seen) {
      expect(c).toMatchObject({
        awsRequestId: 'req-1',
        functionName: 'qm-notify',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:qm-notify:$LATEST',
      });
    }
  });

  it('after three failed attempts sends Lambda’s invocation record to the on-failure destination', async () => {
    let calls = 0;
    const h = harness(async () => {
      calls++;
      throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    });
    h.invoker.invoke(event);
    await h.invoker.idle();
    expect(calls).toBe(3);
    expect(h.slept).toEqual([10, 20]);
    expect(h.parked).toHaveLength(1);
    expect(h.parked[0]).toMatchObject({
      version: '1.0',
      timestamp: '2026-12-01T00:00:00.000Z',
      requestContext: { requestId: 'req-1', condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: event,
      responseContext: { functionError: 'Unhandled' },
      responsePayload: { errorType: 'TimeoutError', errorMessage: 'socket hang up' },
    });
  });

  it('retries the on-failure destination, and writes the record to the log if it never takes it', async () => {
    const h = harness(
      async () => {
        throw new Error('down');
      },
      async () => {
        throw new Error('SQS away');
      },
    );
    h.invoker.invoke(event);
    await h.invoker.idle();
    const lost = h.log.find((l) => l.includes('LOST'));
    expect(lost).toContain('"condition":"RetriesExhausted"');
    expect(lost).toContain('m-1');
  });

  it('runs at most `concurrency` attempts at once', async () => {
    let running = 0;
    let most = 0;
    const h = harness(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setImmediate(r));
      running--;
    });
    for (let i = 0; i < 10; i++) h.invoker.invoke(event);
    await h.invoker.idle();
    expect(most).toBe(2);
  });
});

describe('snsDelivery (SNS delivery in the local stack)', () => {
  it('retries a delivery on a network error or a 5xx, and gives a message up to the redrive policy only at the end', async () => {
    const answers: (number | Error)[] = [new Error('read ECONNRESET'), 500, 200];
    const sent: string[] = [];
    const given: string[] = [];
    const d = snsDelivery({
      concurrency: 1,
      delaysMs: [1, 1, 1],
      send: async (body) => {
        sent.push(body);
        const a = answers.shift() ?? 503;
        if (a instanceof Error) throw a;
        return a;
      },
      onGiveUp: async (_b, _e, reason) => void given.push(reason),
      log: () => {},
      sleep: async () => {},
    });
    await d.deliver('one', 'http://127.0.0.1/fn', false);
    expect(sent).toEqual(['one', 'one', 'one']);
    expect(given).toEqual([]);
    await d.deliver('two', 'http://127.0.0.1/fn', false);
    expect(sent.filter((b) => b === 'two')).toHaveLength(4);
    expect(given).toEqual([
      expect.stringMatching(/^SnsDeliveryFailed: 4 attempts to http:\/\/127\.0\.0\.1\/fn, last: HTTP 503$/),
    ]);
  });
});
