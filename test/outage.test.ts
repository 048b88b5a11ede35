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

type Answer = { route: string; status: number; code?: string; retryAfter: string | null; sentAt: number };

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
  const sentAt = Date.now();
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
  return { route, status: r.status, code, retryAfter: r.headers.get('retry-after'), sentAt } satisfies Answer;
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

/** How many routes `requests()` sends. */
const ROUTES = 7;

describe('with the store down under load', () => {
  it('answers 503 StoreUnavailable with Retry-After on every store route, and serves again once it is back', async () => {
    expect((await reportOnce()).status).toBe(200);
    // Load: every route, two rounds in flight at a time, while DynamoDB Local is stopped under it.
    // A request sent before the stop may still be answered 200; one sent after it (once the stop has
    // returned) must be a 503. The load runs until every route has had two such answers, whatever a
    // round takes on a busy machine (a fixed wait once saw only the round in flight at the stop).
    const answers: Answer[] = [];
    let running = true;
    const load = (async () => {
      while (running) answers.push(...(await Promise.all([...requests(), ...requests()])));
    })();
    await new Promise((r) => setTimeout(r, 500));
    await stack.stopDynamodb();
    const stoppedAt = Date.now();
    const sentAfterStop = () => answers.filter((a) => a.sentAt >= stoppedAt);
    const enough = () =>
      new Set(sentAfterStop().map((a) => a.route)).size === ROUTES && sentAfterStop().length >= 2 * 2 * ROUTES;
    for (const deadline = Date.now() + 60_000; !enough() && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    running = false;
    await load;

    expect(answers.filter((a) => a.status >= 500 && a.status !== 503)).toEqual([]);
    const during = sentAfterStop();
    expect(new Set(during.map((a) => a.route)).size).toBe(ROUTES);
    for (const a of during) {
      expect({ route: a.route, status: a.status, code: a.code }).toEqual({
        route: a.route,
        status: 503,
        code: 'StoreUnavailable',
      });
      expect(Number(a.retryAfter)).toBeGreaterThan(0);
    }

    await stack.startDynamodb();
    const back = await reportOnce();
    expect(back.status).toBe(200);
    expect((await send('GET', 'GET', `/nodes/${HOST}`)).status).toBe(200);
  }, 120_000);
});
