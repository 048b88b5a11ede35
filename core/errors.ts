/**
 * Errors a client can cause carry their HTTP status, a one-word code and details;
 * anything else reaching a handler is a bug and answers 500 without internals.
 * Shape after Powertools: one base class, `…Error` subclasses that keep `cause`.
 * Every error core throws is one of these (a notification's and a store
 * conflict's too), so a handler maps them in one place.
 */
import type { Versioned } from './ports';

export class QmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = `${code}Error`;
  }
}

/** 400: the request is malformed; `field` names the offending part. */
export class ValidationError extends QmError {
  constructor(field: string, message: string, details: Record<string, unknown> = {}) {
    super(400, 'ValidationError', `${field}: ${message}`, { field, ...details });
  }
}

/** 401: no token, or one that does not verify. */
export class UnauthorizedError extends QmError {
  constructor(message = 'a valid bearer token is required') {
    super(401, 'Unauthorized', message);
  }
}

/** 403: a valid token used outside its scope. */
export class ForbiddenError extends QmError {
  constructor(message: string) {
    super(403, 'Forbidden', message);
  }
}

/** 404: the host has no record. */
export class NodeNotFoundError extends QmError {
  constructor(host: string) {
    super(404, 'NodeNotFound', `compute node ${host} does not exist`, { host });
  }
}

/** 404: a path and method that are no route of the API (CONTRACT.md "Errors"). */
export class RouteNotFoundError extends QmError {
  constructor(method: string, path: string) {
    super(404, 'RouteNotFound', `${method} ${path} is not a route of this API`, { method, path });
  }
}

/** 404: no such resource other than a node. */
export class NotFoundError extends QmError {
  constructor(what: string) {
    super(404, 'NotFound', `${what} does not exist`);
  }
}

/** 409: a report whose seq does not move the stored one forward. */
export class StaleReportError extends QmError {
  constructor(host: string, seq: number, storedSeq: number | undefined) {
    super(
      409,
      'StaleReport',
      `report seq ${seq} for ${host} is not greater than the stored seq ${storedSeq ?? 'unknown'}`,
      { host, seq, stored_seq: storedSeq },
    );
  }
}

/**
 * 503: the store is unreachable, timing out or throttling. Not the client's fault and not a bug:
 * the client retries after `retryAfterS` (sent as `Retry-After`).
 */
export class StoreUnavailableError extends QmError {
  constructor(
    readonly reason: 'throttled' | 'unreachable',
    readonly retryAfterS: number,
    options?: { cause?: unknown },
  ) {
    super(
      503,
      'StoreUnavailable',
      reason === 'throttled'
        ? 'the store is throttling requests; retry after a moment'
        : 'the store cannot be reached; retry after a moment',
      { reason, retry_after_s: retryAfterS },
      options,
    );
  }
}

/** 401 `TokenExpired`: the token verified but its lifetime is over. */
export class TokenExpiredError extends QmError {
  constructor(expiresAtMs: number) {
    const at = new Date(expiresAtMs).toISOString();
    super(401, 'TokenExpired', `this token expired at ${at}; mint a new one (npx qm token …)`, { expired_at: at });
  }
}

/** 401 `TokenRevoked`: a node token issued before its host's tokens were revoked (or the node deleted). */
export class TokenRevokedError extends QmError {
  constructor(host: string, revokedAt: string) {
    super(
      401,
      'TokenRevoked',
      `node tokens for ${host} issued before ${revokedAt} are revoked; mint a new one (npx qm token node ${host})`,
      { host, revoked_at: revokedAt },
    );
  }
}

/** 503 `NodeBusy`: the node kept changing under every attempt (claims landing on it); the client retries. */
export class NodeBusyError extends QmError {
  constructor(host: string, attempts: number, options?: { cause?: unknown }) {
    super(503, 'NodeBusy', `compute node ${host} changed under ${attempts} attempts; retry`, { host }, options);
  }
}

/**
 * A conditional write lost a race; `current` is the item as it is now (if it exists).
 * The node service retries on it; should one ever reach a handler, it is a 503 to retry.
 */
export class WriteConflictError extends QmError {
  constructor(readonly current: Versioned | undefined) {
    super(503, 'WriteConflict', 'the node changed underneath the write; retry', { retry_after_s: 1 });
  }
}

/**
 * A notification that can never apply (not JSON, an unknown event type, a missing field):
 * notify parks it in the dead-letter queue with `message` as the reason; never retried.
 */
export class BadNotificationError extends QmError {
  constructor(message: string) {
    super(400, 'BadNotification', message);
  }
}
