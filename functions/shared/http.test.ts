import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { nodeToken, operatorToken } from '../../core/auth';
import { bearer, httpHandler } from './http';

const SECRET = 's';
const NOW = Date.UTC(2026, 10, 30);
const at = { nowMs: NOW };
const handler = httpHandler(
  () => ({ current: SECRET }),
  [
    { key: 'GET /nodes/{host}', run: async (req) => ({ status: 200, body: { host: req.params.host } }) },
    { key: 'PUT /nodes/{host}', nodeMay: true, run: async () => ({ status: 200, body: {} }) },
    { key: 'GET /open', public: true, run: async (req) => ({ status: 200, body: { caller: req.principal.kind } }) },
    {
      key: 'GET /boom',
      run: async () => {
        throw new Error('secret internals');
      },
    },
  ],
  () => NOW,
);

const event = (method: string, resource: string, host: string | undefined, token?: string) =>
  ({
    httpMethod: method,
    resource,
    path: resource,
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    pathParameters: host === undefined ? null : { host },
    queryStringParameters: null,
    body: null,
    isBase64Encoded: false,
  }) as unknown as APIGatewayProxyEvent;

const call = async (e: APIGatewayProxyEvent) => {
  const r = await handler(e, { awsRequestId: 'req-1' } as Context);
  return { status: r.statusCode, body: JSON.parse(r.body) };
};

describe('the HTTP wrapper (pure: a handler called with API Gateway events)', () => {
  it('decodes path parameters, and answers 400 naming the field when they are not UTF-8', async () => {
    expect(await call(event('GET', '/nodes/{host}', 'a%2Db', operatorToken(SECRET, at)))).toEqual({
      status: 200,
      body: { host: 'a-b' },
    });
    const bad = await call(event('GET', '/nodes/{host}', '%FF', operatorToken(SECRET, at)));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'ValidationError', details: { field: 'host' } });
  });

  it('answers 401 without a token and 403 for a node token off its host or route', async () => {
    expect((await call(event('GET', '/nodes/{host}', 'h'))).status).toBe(401);
    expect((await call(event('PUT', '/nodes/{host}', 'other', nodeToken(SECRET, 'h', at)))).status).toBe(403);
    expect((await call(event('GET', '/nodes/{host}', 'h', nodeToken(SECRET, 'h', at)))).status).toBe(403);
    expect((await call(event('PUT', '/nodes/{host}', 'h', nodeToken(SECRET, 'h', at)))).status).toBe(200);
  });

  it('serves a public route with no token, or any token, as an anonymous caller', async () => {
    expect(await call(event('GET', '/open', undefined))).toEqual({ status: 200, body: { caller: 'anonymous' } });
    expect(await call(event('GET', '/open', undefined, 'qmo.garbage.x'))).toEqual({
      status: 200,
      body: { caller: 'anonymous' },
    });
    expect(await call(event('GET', '/open', undefined, nodeToken(SECRET, 'h', at)))).toEqual({
      status: 200,
      body: { caller: 'anonymous' },
    });
  });

  it('answers 401 TokenExpired to an expired token and 401 Unauthorized to a non-canonical one', async () => {
    const expired = await call(
      event('GET', '/nodes/{host}', 'h', operatorToken(SECRET, { nowMs: NOW - 61_000, ttlS: 60 })),
    );
    expect(expired).toMatchObject({ status: 401, body: { error: { code: 'TokenExpired' } } });
    const [kind, claims, sig] = operatorToken(SECRET, at).split('.');
    const padded = await call(event('GET', '/nodes/{host}', 'h', `${kind}.${claims}=.${sig}`));
    expect(padded).toMatchObject({ status: 401, body: { error: { code: 'Unauthorized' } } });
  });

  it('accepts tokens of the previous secret from the keyring', async () => {
    const rotated = httpHandler(
      () => Promise.resolve({ current: 'new', previous: SECRET }),
      [{ key: 'GET /nodes/{host}', run: async () => ({ status: 200, body: {} }) }],
    );
    const r = await rotated(event('GET', '/nodes/{host}', 'h', operatorToken(SECRET, { nowMs: Date.now() })), {
      awsRequestId: 'r',
    } as Context);
    expect(r.statusCode).toBe(200);
  });

  it('answers 500 to a bug without leaking its message, and 404 to an unknown route', async () => {
    const r = await call(event('GET', '/boom', undefined, operatorToken(SECRET, at)));
    expect(r.status).toBe(500);
    expect(JSON.stringify(r.body)).not.toContain('secret internals');
    expect(r.body.error.details.request_id).toBe('req-1');
    expect((await call(event('GET', '/nope', undefined, operatorToken(SECRET, at)))).status).toBe(404);
  });
});

describe('bearer', () => {
  it('reads the bearer token from any header casing', () => {
    expect(bearer({ Authorization: 'Bearer abc' })).toBe('abc');
    expect(bearer({ authorization: 'bearer abc' })).toBe('abc');
    expect(bearer({ authorization: 'Basic abc' })).toBeUndefined();
    expect(bearer(null)).toBeUndefined();
  });
});
