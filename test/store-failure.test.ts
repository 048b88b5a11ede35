import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { storeFailure } from '../adapters/dynamodb/client';

/** The metadata of an answer on which the SDK corrected its clock offset (a container's clock off DynamoDB's). */
const skewed = { httpStatusCode: 400, clockSkewCorrected: true };

describe('storeFailure: what counts as the store being away', () => {
  it.each([
    [
      'a failed condition',
      new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: skewed }),
    ],
    [
      'a transaction cancelled on a condition',
      new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: skewed,
        CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
      }),
    ],
  ])('leaves %s to the caller, also on an answer that corrected the clock (never a 503)', (_, e) => {
    // smithy counts any error on such an answer transient; once the SDK's retry quota is spent it
    // reaches us flagged, and the event store must still see the cancellation and re-choose its step.
    expect(storeFailure(e)).toBeUndefined();
  });

  it('still calls a cancellation for throttling a throttled store', () => {
    const e = new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: { httpStatusCode: 400 },
      CancellationReasons: [{ Code: 'ThrottlingError' }],
    });
    expect(storeFailure(e)?.reason).toBe('throttled');
  });
});
