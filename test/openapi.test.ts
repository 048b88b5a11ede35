import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Answer, call, report, stack, uniqueHost } from './helpers';
import { checkAnswer } from './openapi-check';

type Json = Record<string, any>;

let doc: Json;
let ajv: Ajv2020;

/** The schema the document gives the answer of `method path` with `status`; JSON Pointer escapes `/` as `~1`. */
const pointer = (path: string, method: string, status: number) =>
  `openapi.json#/paths/${path.replaceAll('/', '~1')}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;

/** Checks a real answer against the document's response schema for its route and status. */
const conforms = (path: string, method: string, answer: Answer<unknown>) => {
  const validate = ajv.getSchema(pointer(path, method, answer.status));
  expect(validate, `the document describes ${method} ${path} answering ${answer.status}`).toBeDefined();
  const ok = validate?.(answer.body);
  expect(
    validate?.errors ?? [],
    `${method} ${path} ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`,
  ).toEqual([]);
  expect(ok).toBe(true);
};

const fleetIn = async (az: string, n: number, over: (i: number) => Json = () => ({})) => {
  const hosts: string[] = [];
  for (let i = 0; i < n; i++) {
    const host = uniqueHost('oa');
    expect((await report(host, { availability_zone: az, ...over(i) })).status).toBe(200);
    hosts.push(host);
  }
  return hosts;
};
const spec = (az: string, memory_mb = 2048) => ({
  request_spec: {
    instance_type: { vcpus: 1, memory_mb, root_gb: 10 },
    instance_properties: { availability_zone: az },
  },
});

describe('GET /openapi.json', () => {
  beforeAll(async () => {
    const r = await call<Json>('GET', '/openapi.json', { token: null });
    expect(r.status).toBe(200);
    doc = r.body;
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(doc, 'openapi.json');
  });

  it('is served with no token, and is a valid OpenAPI 3.1 document by a maintained validator', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    // The validator can fail: the same document with a response missing its description is refused.
    const broken = structuredClone(doc);
    delete broken.paths['/nodes'].get.responses['200'].description;
    expect((await new Validator().validate(broken as never)).valid).toBe(false);
  });

  it('describes every route serverless.yml declares, the bearer scheme, and no token for itself and the dashboard', () => {
    const functions = parse(readFileSync('serverless.yml', 'utf8')).functions as Json;
    const declared = Object.values(functions)
      .flatMap((f: Json) => f.events ?? [])
      .filter((e: Json) => e.http && e.http.method !== 'any')
      .map((e: Json) => `${e.http.method.toUpperCase()} /${e.http.path.replace(/^\//, '')}`);
    expect(declared.length).toBeGreaterThanOrEqual(8);
    for (const route of declared) {
      const [method, path] = route.split(' ') as [string, string];
      expect(doc.paths[path]?.[method.toLowerCase()], route).toBeDefined();
    }
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/openapi.json'].get.security).toEqual([]);
    expect(doc.paths['/dashboard'].get.security).toEqual([]);
    expect(Object.keys(doc.paths['/dashboard'].get.responses['200'].content)).toEqual(['text/html']);
  });

  it("takes the request bodies from the handlers' own schemas: what the API refuses, the document refuses", async () => {
    const body = ajv.compile({ $ref: 'openapi.json#/components/schemas/NodePatch' });
    expect(body({ disabled: true, metadata: { a: '1', b: null } })).toBe(true);
    // Unknown fields are refused by PATCH (400) and by the document alike.
    expect(body({ disabeld: true })).toBe(false);
    const r = await call('PATCH', `/nodes/${uniqueHost('oa')}`, { body: { disabeld: true } });
    expect(r.status).toBe(400);
    const schedule = ajv.compile({ $ref: 'openapi.json#/components/schemas/ScheduleRequest' });
    expect(schedule(spec('nova'))).toBe(true);
    expect(schedule({ request_spec: { instance_type: { vcpus: 0, memory_mb: 1, root_gb: 0 } } })).toBe(false);
  });

  it('matches the real answers of the node routes, errors included', async () => {
    const host = uniqueHost('oa');
    conforms('/nodes/{host}', 'PUT', await report(host));
    conforms('/nodes/{host}', 'PUT', await report(host, { seq: 1 }));
    conforms('/nodes/{host}', 'GET', await call('GET', `/nodes/${host}`));
    conforms('/nodes', 'GET', await call('GET', '/nodes?limit=2'));
    conforms('/nodes/{host}', 'PATCH', await call('PATCH', `/nodes/${host}`, { body: { metadata: { k: 'v' } } }));
    conforms('/nodes/{host}', 'PATCH', await call('PATCH', `/nodes/${host}`, { body: { disabled: 'yes' } }));
    conforms('/nodes/{host}', 'GET', await call('GET', `/nodes/${host}`, { token: null }));
    conforms('/nodes/{host}', 'GET', await call('GET', `/nodes/${uniqueHost('none')}`));
    conforms('/nodes/{host}', 'DELETE', await call('DELETE', `/nodes/${host}`));
  });

  it('matches the real answers of scheduling: picks, a dry run, NoValidHost, decisions and verdicts', async () => {
    const az = `az-${randomUUID().slice(0, 8)}`;
    const hosts = await fleetIn(az, 2, (i) => ({ memory_mb_used: [8_000, 64_000][i] }));
    const placed = await call<Json>('POST', '/schedule', { body: spec(az) });
    conforms('/schedule', 'POST', placed);
    conforms('/decisions/{id}', 'GET', await call('GET', `/decisions/${placed.body.decision_id}`));
    const dry = await call<Json>('POST', '/schedule', { body: { ...spec(az), dry_run: true } });
    conforms('/schedule', 'POST', dry);
    const none = await call<Json>('POST', '/schedule', { body: spec(az, 60_000) });
    expect(none.status).toBe(409);
    conforms('/schedule', 'POST', none);
    const id = none.body.error.details.decision_id;
    conforms('/decisions/{id}', 'GET', await call('GET', `/decisions/${id}`));
    conforms('/decisions/{id}', 'GET', await call('GET', `/decisions/${id}?host=${hosts[1]}`));
    conforms('/decisions/{id}', 'GET', await call('GET', `/decisions/${placed.body.decision_id}?host=${hosts[0]}`));
    conforms('/decisions/{id}', 'GET', await call('GET', `/decisions/${dry.body.decision_id}?host=${hosts[0]}`));
    conforms('/decisions/{id}', 'GET', await call('GET', `/decisions/${id}?host=${uniqueHost('none')}`));
    conforms('/decisions/{id}', 'GET', await call('GET', `/decisions/${randomUUID()}`));
    conforms('/schedule', 'POST', await call('POST', '/schedule', { body: { request_spec: {} } }));
  });

  it('checks every answer call() receives, and the check can fail', async () => {
    const base = stack().baseUrl;
    await expect(checkAnswer(base, 'GET', '/nodes/h1', 200, { host: 1 })).rejects.toThrow(
      /does not match openapi.json/,
    );
    await expect(
      checkAnswer(base, 'POST', '/schedule', 409, { error: { code: 'StaleReport', message: 'm', details: {} } }),
    ).rejects.toThrow(/does not match/);
    await expect(checkAnswer(base, 'GET', '/openapi.json', 404, {})).rejects.toThrow(/does not describe/);
    await expect(checkAnswer(base, 'GET', '/no/such/route', 404, {})).resolves.toBeUndefined();
  });

  it("has a server URL that reaches the API from the document's own location", async () => {
    const base = new URL(stack().baseUrl);
    const api = new URL(doc.servers[0].url, `${base.origin}${base.pathname}/openapi.json`);
    expect(api.href.replace(/\/$/, '')).toBe(stack().baseUrl.replace(/\/$/, ''));
  });
});
