import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isThrottlingError } from '@smithy/core/retry';
import { StoreUnavailableError } from '../../core/errors';

/** What a client is told to wait before retrying: throttling clears within a second; an outage takes longer. */
const RETRY_AFTER_S = { throttled: 1, unreachable: 5 } as const;

/** Connection-level failures (Node's error codes) and the SDK's own timeouts: the store did not answer. */
const NETWORK_CODES = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'];
const TIMEOUT_NAMES = ['TimeoutError', 'RequestTimeout', 'RequestTimeoutException'];

const unreachable = (e: unknown, depth = 0): boolean => {
  if (!(e instanceof Error) || depth > 5) return false;
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  // The service answered: a 4xx is about the request (a failed condition, a validation), never an outage.
  if (status !== undefined && status < 500) return false;
  return (
    (status !== undefined && status >= 500) ||
    TIMEOUT_NAMES.includes(e.name) ||
    NETWORK_CODES.includes((e as { code?: string }).code ?? '') ||
    unreachable((e as { cause?: unknown }).cause, depth + 1)
  );
};

/**
 * The store's own failures, after the SDK's retries: throttling (ProvisionedThroughputExceeded,
 * ThrottlingException, RequestLimitExceeded, a transaction cancelled for ThrottlingError — smithy's
 * isThrottlingError, the list the SDK's retry strategy uses), a connection refused or reset, a
 * timeout, a 5xx. Not smithy's isTransientError: it also counts any error after a clock-skew
 * correction, a failed condition included.
 */
export const storeFailure = (e: unknown): StoreUnavailableError | undefined => {
  if (e instanceof StoreUnavailableError) return e;
  if (!(e instanceof Error)) return undefined;
  const throttledTx =
    e instanceof TransactionCanceledException &&
    (e.CancellationReasons ?? []).some(
      (r) => r.Code === 'ThrottlingError' || r.Code === 'ProvisionedThroughputExceeded',
    );
  if (
    throttledTx ||
    isThrottlingError(e as Parameters<typeof isThrottlingError>[0]) ||
    e.name === 'RequestLimitExceeded'
  ) {
    return new StoreUnavailableError('throttled', RETRY_AFTER_S.throttled, { cause: e });
  }
  if (unreachable(e)) return new StoreUnavailableError('unreachable', RETRY_AFTER_S.unreachable, { cause: e });
  return undefined;
};

let clientHook: ((client: DynamoDBClient) => void) | undefined;

/**
 * Opt-in instrumentation of every client built from now on (the capacity accounting of
 * capacity.ts sets it; nothing else does). Unset, `documentClient` adds nothing: production
 * clients carry no extra middleware.
 */
export const setClientHook = (hook: ((client: DynamoDBClient) => void) | undefined): void => {
  clientHook = hook;
};

/**
 * One document client per container; `endpoint` points at DynamoDB Local when set. A call that
 * has not answered in `requestTimeoutMs` (QM_DYNAMODB_TIMEOUT_MS) fails and is retried.
 */
export const documentClient = (region: string, endpoint?: string, requestTimeoutMs = 5_000): DynamoDBDocumentClient => {
  const client = new DynamoDBClient({
    region,
    ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    maxAttempts: 3,
    // A stalled socket must fail and be retried, not hold the invocation until Lambda's timeout
    // (without throwOnRequestTimeout the SDK only logs a warning and waits on).
    requestHandler: { connectionTimeout: 2_000, requestTimeout: requestTimeoutMs, throwOnRequestTimeout: true },
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
  clientHook?.(client);
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
};
