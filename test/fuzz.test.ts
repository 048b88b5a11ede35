import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { call, makeReport, report, tokenFor, uniqueHost } from './helpers';

type Json = Record<string, any>;

/**
 * Whatever a client sends, the API answers in the contract's error shape and
 * never 500, and a refused request changes nothing stored (CONTRACT.md
 * "Errors"). Seeded, so a failure replays.
 */
const RUNS = Number(process.env.QM_FUZZ_RUNS ?? 100);
const SEED = Number(process.env.QM_FUZZ_SEED ?? 20261201);

/** Top-level JSON of every type, raw text that is not JSON, and near-miss objects. */
const bodies = (host: string) =>
  fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
    fc.constantFrom('false', '0', '-0', 'true', 'null', '""', '[]', '{}', '1e400', '{"a":', '\u0000', ' '),
    fc.string({ maxLength: 40 }),
    // A valid report with one field replaced by an arbitrary JSON value, or an unusual key added.
    fc
      .tuple(
        fc.constantFrom(...Object.keys(makeReport(host))),
        fc.jsonValue({ maxDepth: 2 }),
        fc.constantFrom('constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'x'),
      )
      .map(([field, value, key]) => JSON.stringify({ ...makeReport(host, { seq: 1 }), [field]: value, [key]: 1 })),
    // Metadata with keys a JavaScript object finds special.
    fc
      .dictionary(
        fc.oneof(fc.constantFrom('constructor', '__proto__', 'toString', 'prototype', ''), fc.string({ maxLength: 8 })),
        fc.oneof(fc.string({ maxLength: 8 }), fc.constant(null), fc.integer()),
        { maxKeys: 4 },
      )
      .map(
        (md) =>
          `{"metadata":{${Object.entries(md)
            .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
            .join(',')}}}`,
      ),
  );

describe('the API under arbitrary input', () => {
  it('never answers 500, always in the error shape, and a refused request changes nothing', async () => {
    const host = uniqueHost('fuzz');
    expect((await report(host, { seq: 10 })).status).toBe(200);
    const read = async () => (await call<Json>('GET', `/nodes/${host}`)).body;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          ['PUT', `/nodes/${host}`, 'node'],
          ['PATCH', `/nodes/${host}`, 'operator'],
          ['POST', '/schedule', 'operator'],
          ['PUT', `/nodes/${host}`, 'operator'],
        ),
        bodies(host),
        async ([method, path, who], body) => {
          const before = await read();
          const r = await call<Json>(method, path, { body, ...(who === 'node' ? { token: tokenFor(host) } : {}) });
          expect(r.status, `${method} ${path} ${body}`).toBeLessThan(500);
          if (r.status >= 400) {
            expect(typeof r.body.error?.code).toBe('string');
            expect(typeof r.body.error?.message).toBe('string');
            if (method !== 'POST') expect(await read()).toEqual(before);
          }
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  }, 600_000);

  it('answers every odd path with a 4xx in the error shape', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'POST'),
        fc.oneof(
          fc.webPath(),
          fc.string({ maxLength: 20 }).map((s) => `/nodes/${encodeURIComponent(s)}`),
          fc.constantFrom(
            '/nodes/%25',
            '/nodes/%2e%2e',
            '/nodes/a%2Fb',
            '/decisions/%00',
            '/nodes?limit=-1',
            '/nodes?next=%FF',
            '/nodes/%FF',
            '/%zz',
            '/nodes/%E0%A4%A',
          ),
        ),
        async (method, path) => {
          const a = await call<Json>(method, path.startsWith('/') ? path : `/${path}`, {
            ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }),
          }).catch((e) => ({ status: 0, body: { error: String(e) } }));
          expect(a.status, `${method} ${path}`).toBeGreaterThanOrEqual(200);
          expect(a.status, `${method} ${path}`).toBeLessThan(500);
          if (a.status >= 400) expect(typeof a.body.error?.code, `${method} ${path}`).toBe('string');
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  }, 600_000);
});
