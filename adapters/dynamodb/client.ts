import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { StoreUnavailableError } from '../../core/errors';

/** What a client is told to wait before retrying: throttling clears within a second; an outage takes longer. */
const RETRY_AFTER_S = { throttled: 1, unreachable: 5 } as const;

/**
 * The store's own failures, after the SDK's retries: throttling (ProvisionedThroughputExceeded,
 * ThrottlingException, RequestLimitExceeded, a transaction cancelled for ThrottlingError), a
 * connection refused or reset, a timeout, a 5xx. The SDK's own classification decides (smithy's
 * isThrottlingError / isTransientError / isServerError, the same lists its retry strategy uses).
 */
export const storeFailure = (e: unknown): StoreUnavailableError | undefined => {
  if (e instanceof StoreUnavailableError) return e;
  if (!(e instanceof Error)) return undefined;
  const err = e as Parameters<typeof isThrottlingError>[0];
  const throttledTx =
    e instanceof TransactionCanceledException &&
    (e.CancellationReasons ?? []).some(
      (r) => r.Code === 'ThrottlingError' || r.Code === 'ProvisionedThroughputExceeded',
    );
  if (throttledTx || isThrottlingError(err) || e.name === 'RequestLimitExceeded') {
    return new StoreUnavailableError('throttled', RETRY_AFTER_S.throttled, { cause: e });
  }
  // A failed condition is the caller's to handle, even on an answer that corrected the SDK's clock
  // offset: smithy counts any error on such an answer transient, and once its retry quota is spent
  // one arrives flagged (seen in test/accounting.property.test.ts, whose clock runs months ahead).
  if (e instanceof ConditionalCheckFailedException || e instanceof TransactionCanceledException) return undefined;
  const code = (e as { code?: string }).code ?? '';
  if (
    isTransientError(err) ||
    isServerError(err) ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code)
  ) {
    return new StoreUnavailableError('unreachable', RETRY_AFTER_S.unreachable, { cause: e });
  }
  return undefined;
};

/** One document client per container; `endpoint` points at DynamoDB Local when set. */
export const documentClient = (region: string, endpoint?: string): DynamoDBDocumentClient => {
  const client = new DynamoDBClient({
    region,
    ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    maxAttempts: 3,
    // A stalled socket must fail and be retried, not hold the invocation until Lambda's timeout
    // (without throwOnRequestTimeout the SDK only logs a warning and waits on).
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
  });
  // Outermost step, so it sees what is left after the SDK's own retries: an outage or throttling
  // becomes StoreUnavailableError (503 with Retry-After), never a 500.
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (e) {
        throw storeFailure(e) ?? e;
      }
    },
    { step: 'initialize', name: 'qmStoreUnavailable' },
  );
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
};
