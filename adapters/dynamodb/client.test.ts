import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { storeFailure } from './client';

/** What counts as the store being away (503) and what is the request's own outcome (pure: errors built by hand). */
const meta = (httpStatusCode: number, clockSkewCorrected = false) => ({
  $metadata: { httpStatusCode, clockSkewCorrected },
});

const cancelled = (codes: string[], clockSkewCorrected = false) =>
  Object.assign(
    new TransactionCanceledException({
      message: 'Transaction cancelled',
      CancellationReasons: codes.map((Code) => ({ Code })),
      $metadata: {},
    }),
    meta(400, clockSkewCorrected),
  );

describe('storeFailure', () => {
  it('leaves a failed condition alone, even after the SDK corrected a clock skew', () => {
    expect(storeFailure(cancelled(['None', 'ConditionalCheckFailed'], true))).toBeUndefined();
    expect(
      storeFailure(
        Object.assign(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }), meta(400, true)),
      ),
    ).toBeUndefined();
    expect(storeFailure(Object.assign(new Error('bad'), { name: 'ValidationException' }, meta(400)))).toBeUndefined();
    expect(storeFailure('not an error')).toBeUndefined();
  });

  it('calls throttling throttled: the exceptions, a 429 and a transaction cancelled for throttling', () => {
    for (const name of ['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']) {
      expect(storeFailure(Object.assign(new Error('slow down'), { name }, meta(400)))?.reason, name).toBe('throttled');
    }
    expect(storeFailure(cancelled(['None', 'ThrottlingError']))?.reason).toBe('throttled');
    expect(storeFailure(cancelled(['ThrottlingError']))?.retryAfterS).toBe(1);
  });

  it('calls a refused or reset connection, a timeout and a 5xx unreachable', () => {
    expect(storeFailure(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))?.reason).toBe('unreachable');
    expect(storeFailure(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))?.reason).toBe('unreachable');
    expect(storeFailure(Object.assign(new Error('late'), { name: 'TimeoutError' }))?.reason).toBe('unreachable');
    expect(
      storeFailure(Object.assign(new Error('oops'), { name: 'InternalServerError' }, meta(500)))?.retryAfterS,
    ).toBe(5);
    const wrapped = new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'ETIMEDOUT' }) });
    expect(storeFailure(wrapped)?.reason).toBe('unreachable');
  });
});
