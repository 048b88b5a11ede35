import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { authenticate, type Keyring, type Principal } from '../../core/auth';
import { ForbiddenError, QmError, RouteNotFoundError, ValidationError } from '../../core/errors';
import { logger } from './logger';
import { metricsMiddleware } from './metrics';

export { logger };

/**
 * API Gateway hands path parameters over percent-encoded; serverless-offline (which sets
 * IS_OFFLINE) has already decoded them once. Either way a parameter is decoded exactly once:
 * `/nodes/rt%252Da` names the host `rt%2Da` (and is refused as no hostname), never `rt-a`.
 */
const PATH_PARAMETERS_DECODED = process.env.IS_OFFLINE === 'true';

/** Who called: the token's principal, or nobody on a `public` route. */
export type Caller = Principal | { kind: 'anonymous' };

/** A route's view of the request once authenticated. */
export interface Request {
  event: APIGatewayProxyEvent;
  principal: Caller;
  params: Record<string, string>;
  query: Record<string, string>;
}

export interface Route {
  /** `METHOD /resource/{param}` as API Gateway names it. */
  key: string;
  /** Whether a node token may call it (for its own host only). */
  nodeMay?: boolean;
  /** Needs no token (the dashboard page, the OpenAPI document): its answer holds nothing a token guards. */
  public?: boolean;
  run(req: Request): Promise<RouteAnswer>;
}

/** JSON (`body`), or a text document sent as is (`text`, with its content-type among `headers`). */
export type RouteAnswer =
  | { status: number; body: unknown }
  | { status: number; text: string; headers: Record<string, string> };

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult => ({
  statusCode: status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

const errorBody = (code: string, message: string, details: Record<string, unknown> = {}) => ({
  error: { code, message, details },
});

/** Reads `Authorization: Bearer <token>` case-insensitively. */
export const bearer = (headers: Record<string, string | undefined> | null | undefined): string | undefined => {
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() === 'authorization' && v) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(v);
      return m?.[1];
    }
  }
  return undefined;
};

/**
 * Maps a thrown error to the contract's error body; internals of a 500 never leak.
 * Our own, not `@middy/http-error-handler`: the contract's body is
 * `{error: {code, message, details}}` with our codes, which that one does not write.
 */
export const errorMiddleware = (): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context> => ({
  onError: async (request) => {
    const e = request.error;
    if (e instanceof QmError) {
      // A 503 (the store away or throttling, a node busy) says when to come back.
      const retryAfter = e.status === 503 ? { 'retry-after': String(e.details.retry_after_s ?? 1) } : undefined;
      request.response = json(e.status, errorBody(e.code, e.message, e.details), retryAfter);
      if (e.status >= 500) logger.error('server error', { error: e });
      return;
    }
    logger.error('unhandled error', { error: e as Error });
    request.response = json(
      500,
      errorBody('InternalError', 'the request failed on the server; it has been logged', {
        request_id: request.context.awsRequestId,
      }),
    );
  },
});

/**
 * Builds an API Gateway handler from routes: authenticates the bearer token
 * against `keys` (current and previous secret) at `now`, checks the principal's
 * scope (a node token: only its own host's PUT), runs the route, and maps errors.
 */
export const httpHandler = (keys: () => Keyring | Promise<Keyring>, routes: Route[], now: () => number = Date.now) => {
  const byKey = new Map(routes.map((r) => [r.key, r]));
  const base = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const route = byKey.get(`${event.httpMethod} ${event.resource}`);
    // Unknown paths reach the catch-all routes (serverless.yml `{proxy+}`, `/`): 404 before any token check.
    if (!route) throw new RouteNotFoundError(event.httpMethod, event.path);
    const principal: Caller = route.public
      ? { kind: 'anonymous' }
      : authenticate(await keys(), bearer(event.headers), now());
    const params = Object.fromEntries(
      Object.entries(event.pathParameters ?? {}).map(([k, v]) => {
        try {
          return [k, PATH_PARAMETERS_DECODED ? (v ?? '') : decodeURIComponent(v ?? '')];
        } catch {
          throw new ValidationError(k, 'is not valid percent-encoded UTF-8');
        }
      }),
    );
    if (principal?.kind === 'node') {
      if (!route.nodeMay) throw new ForbiddenError('a node token may only report its own host (PUT /nodes/{host})');
      if (params.host !== principal.host) {
        throw new ForbiddenError(`this node token is for ${principal.host}, not ${params.host ?? 'this route'}`);
      }
    }
    const query = Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).map(([k, v]) => [k, v ?? '']));
    const out = await route.run({ event, principal, params, query });
    return 'text' in out
      ? { statusCode: out.status, headers: out.headers, body: out.text }
      : json(out.status, out.body);
  };
  // Errors are mapped (and logged) first, then metrics published, then the log keys reset.
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(base)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(metricsMiddleware())
    .use(errorMiddleware());
};
