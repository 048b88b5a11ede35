/**
 * Errors a client can cause carry their HTTP status, a one-word code and details;
 * anything else reaching a handler is a bug and answers 500 without internals.
 * Shape after Powertools: one base class, `…Error` subclasses that keep `cause`.
 */
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
