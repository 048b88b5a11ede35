/**
 * Lambda's asynchronous invocation, for the local stack. serverless-offline-sns
 * calls the notify handler once and drops a failure (it answers its own HTTP
 * POST with a 500 that nobody reads); on AWS, SNS invokes asynchronously, Lambda
 * retries a failed invocation `maximumRetryAttempts` times and then sends an
 * invocation record to the `onFailure` destination. This does the same around
 * the handler: attempts = 1 + retryDelaysMs.length, each retry after its delay,
 * then `onFailure(record)` with the record in Lambda's shape
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
 */

/** Lambda's invocation record for an event whose retries were exhausted. */
export interface InvocationRecord {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'RetriesExhausted';
    approximateInvokeCount: number;
  };
  requestPayload: unknown;
  responseContext: { statusCode: 200; executedVersion: '$LATEST'; functionError: 'Unhandled' };
  responsePayload: { errorType: string; errorMessage: string; trace: string[] };
}

export interface AsyncInvokeOptions {
  /** The function's ARN, as Lambda writes it in the record (…:function:<name>:$LATEST). */
  functionArn: string;
  /** One delay per retry (Lambda: 2 retries, about 1 and 2 minutes apart; locally seconds). */
  retryDelaysMs: readonly number[];
  /**
   * Attempts running at once; the others wait in order, as Lambda queues async events beyond its
   * concurrency. Without a bound, a burst starts hundreds of DynamoDB calls at once and they time out.
   */
  concurrency: number;
  /** Delivers the record to the on-failure destination; a rejection is retried (onFailureDelaysMs). */
  onFailure: (record: InvocationRecord) => Promise<void>;
  /** Delays between tries of onFailure itself; after the last, the record is written to `log` whole. */
  onFailureDelaysMs?: readonly number[];
  log: (line: string) => void;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  requestId: () => string;
}

/** Lambda's error payload for a thrown value: errorType is the error's name, as the Node runtime reports it. */
export const errorPayload = (err: unknown): InvocationRecord['responsePayload'] => {
  if (err instanceof Error) {
    return {
      errorType: err.name || 'Error',
      errorMessage: err.message || String(err.constructor?.name ?? 'Error'),
      trace: (err.stack ?? '').split('\n'),
    };
  }
  return { errorType: 'Error', errorMessage: String(err), trace: [] };
};

/** A short description of an event for the log: the SNS MessageIds it carries. */
const describe = (event: unknown): string => {
  const records = (event as { Records?: { Sns?: { MessageId?: string } }[] } | null)?.Records;
  const ids = Array.isArray(records) ? records.map((r) => r?.Sns?.MessageId ?? '?') : [];
  return ids.length ? `sns ${ids.join(',')}` : 'event';
};

export interface AsyncInvoker<E> {
  /** Accepts the event as Lambda's Invoke with InvocationType Event does (202), and runs it in the background. */
  invoke(event: E): void;
  /** Resolves when every accepted event has succeeded or reached onFailure (or the log). */
  idle(): Promise<void>;
  /** Events accepted and not yet finished. */
  pending(): number;
}

/** The parts of Lambda's context object a handler reads (the same request id on every retry, as Lambda's). */
export interface InvokeContext {
  awsRequestId: string;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
}

export const asyncInvoker = <E>(
  handler: (event: E, context: InvokeContext) => Promise<unknown>,
  o: AsyncInvokeOptions,
): AsyncInvoker<E> => {
  const inFlight = new Set<Promise<void>>();
  const waiting: (() => void)[] = [];
  let active = 0;
  /** Runs `f` in one of `concurrency` slots; a finishing run hands its slot to the next waiting. */
  const bounded = async <T>(f: () => Promise<T>): Promise<T> => {
    if (active < o.concurrency) active++;
    else await new Promise<void>((r) => waiting.push(r));
    try {
      return await f();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
  const attempts = 1 + o.retryDelaysMs.length;

  const deliver = async (record: InvocationRecord, what: string) => {
    const delays = o.onFailureDelaysMs ?? [100, 500, 2000, 5000];
    for (let i = 0; ; i++) {
      try {
        await o.onFailure(record);
        o.log(`${what}: retries exhausted after ${attempts} attempts; sent to the on-failure destination`);
        return;
      } catch (err) {
        if (i >= delays.length) {
          // Never silent: the whole record goes to the log, from which it can be republished.
          o.log(`${what}: LOST by the on-failure destination (${String(err)}); record: ${JSON.stringify(record)}`);
          return;
        }
        await o.sleep(delays[i] ?? 0);
      }
    }
  };

  const run = async (event: E) => {
    const requestId = o.requestId();
    const what = `${describe(event)} request ${requestId}`;
    const context: InvokeContext = {
      awsRequestId: requestId,
      // arn:aws:lambda:<region>:<account>:function:<name>:$LATEST
      functionName: o.functionArn.split(':')[6] ?? '',
      functionVersion: '$LATEST',
      invokedFunctionArn: o.functionArn,
      memoryLimitInMB: '512',
    };
    let last: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await bounded(() => handler(event, context));
        if (attempt > 1) o.log(`${what}: succeeded on attempt ${attempt} of ${attempts}`);
        return;
      } catch (err) {
        last = err;
        const delay = o.retryDelaysMs[attempt - 1];
        o.log(
          `${what}: attempt ${attempt} of ${attempts} failed (${String(err)})` +
            (delay === undefined ? '' : `; retrying in ${delay} ms`),
        );
        if (delay !== undefined) await o.sleep(delay);
      }
    }
    await deliver(
      {
        version: '1.0',
        timestamp: o.now().toISOString(),
        requestContext: {
          requestId,
          functionArn: o.functionArn,
          condition: 'RetriesExhausted',
          approximateInvokeCount: attempts,
        },
        requestPayload: event,
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: errorPayload(last),
      },
      what,
    );
  };

  return {
    invoke: (event) => {
      const p = run(event).catch((err) => o.log(`${describe(event)}: async invoker failed: ${String(err)}`));
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    },
    idle: async () => {
      while (inFlight.size) await Promise.all([...inFlight]);
    },
    pending: () => inFlight.size,
  };
};
