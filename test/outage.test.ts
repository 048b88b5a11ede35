import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeToken } from '../core/auth';
import { type Stack, startStack } from '../scripts/lib/stack';
import { testPorts } from './global-setup';
import { makeReport } from './helpers';

/**
 * A store outage is not a bug: with DynamoDB Local stopped under load, every
 * route that needs the store answers 503 StoreUnavailable with Retry-After,
 * never 500 (CONTRACT.md "Errors"). A stack of its own, since its DynamoDB is killed.
 */
let stack: Stack;
const SECRET = 'store-outage-secret';
const HOST = 'outage-store-host';

type Answer = { route: string; status: number; code?: string; retryAfter: string | null };

beforeAll(async () => {
  stack = await startStack({
    stage: 'storeout',
    ...testPorts({ httpPort: 3800, snsPort: 4802, dynamodbPort: 8800, sqsPort: 10124 }),
    secret: SECRET,
    buildDir: '.esbuild-storeout',
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

const send = async (route: string, method: string, path: string, body?: unknown, token = stack.operatorToken) => {
  const r = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await r.text();
  let code: string | undefined;
  try {
    code = JSON.parse(text)?.error?.code;
  } catch {
    code = `unparseable: ${text.slice(0, 80)}`;
  }
  return { route, status: r.status, code, retryAfter: r.headers.get('retry-after') } satisfies Answer;
};

let seq = 1;
const reportOnce = () =>
  send(
    'PUT /nodes/{host}',
    'PUT',
    `/nodes/${HOST}`,
    makeReport(HOST, { seq: ++seq }),
    nodeToken(SECRET, HOST, { nowMs: Date.now() }),
  );
const requests = () => [
  reportOnce(),
  send('GET /nodes', 'GET', '/nodes'),
  send('GET /nodes/{host}', 'GET', `/nodes/${HOST}`),
  send('PATCH /nodes/{host}', 'PATCH', `/nodes/${HOST}`, { disabled_reason: 'x' }),
  send('DELETE /nodes/{host}', 'DELETE', `/nodes/${HOST}-other`),
  send('POST /schedule', 'POST', '/schedule', {
    request_spec: { instance_type: { name: 't', vcpus: 1, memory_mb: 64, root_gb: 1 } },
  }),
  send('GET /decisions/{id}', 'GET', '/decisions/00000000-0000-4000-8000-000000000000'),
];

describe('with the store down under load', () => {
  it('answers 503 StoreUnavailable with Retry-After on every store route, and serves again once it is back', async () => {
    expect((await reportOnce()).status).toBe(200);
    // Load: every route, four rounds in flight at a time, while DynamoDB Local is stopped under it.
    const answers: Answer[] = [];
    let stopped = false;
    let running = true;
    const load = (async () => {
      while (running) answers.push(...(await Promise.all([...requests(), ...requests()])));
    })();
    await new Promise((r) => setTimeout(r, 500));
    await stack.stopDynamodb();
    stopped = true;
    const stoppedAt = answers.length;
    await new Promise((r) => setTimeout(r, 4000));
    running = false;
    await load;

    expect(stopped).toBe(true);
    const during = answers.slice(stoppedAt);
    expect(answers.filter((a) => a.status >= 500 && a.status !== 503)).toEqual([]);
    for (const route of new Set(during.map((a) => a.route))) {
      const mine = during.filter((a) => a.route === route && a.status === 503);
      expect(mine.length, `${route} answered 503 while the store was down`).toBeGreaterThan(0);
      for (const a of mine) {
        expect(a.code).toBe('StoreUnavailable');
        expect(Number(a.retryAfter)).toBeGreaterThan(0);
      }
    }
    // Once the first round after the stop is through, nothing but 503 comes back.
    expect(during.slice(14).filter((a) => a.status !== 503)).toEqual([]);

    await stack.startDynamodb();
    const back = await reportOnce();
    expect(back.status).toBe(200);
    expect((await send('GET', 'GET', `/nodes/${HOST}`)).status).toBe(200);
  }, 120_000);
});
