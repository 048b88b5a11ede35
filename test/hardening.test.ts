import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { call, makeReport, report, tokenFor, uniqueHost } from './helpers';

type Json = Record<string, any>;

/**
 * Inputs that once broke a node or answered 500 (issue 10), through the real
 * local stack: serverless-offline over HTTP in front of DynamoDB Local.
 */

const scheduleBody = (az: string) => ({
  request_spec: {
    instance_type: { name: 'm1.tiny', vcpus: 1, memory_mb: 512, root_gb: 1, ephemeral_gb: 0, swap: 0 },
    instance_properties: { availability_zone: az },
    num_instances: 1,
  },
});

describe('report seq', () => {
  it('refuses a seq above 2^50 with a 400 naming seq, and stores nothing', async () => {
    const host = uniqueHost('seq');
    expect((await report(host, { seq: 5 })).status).toBe(200);
    const r = await report(host, { seq: 2 ** 53 - 1 });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'ValidationError', details: { field: 'seq' } });
    expect((await call<Json>('GET', `/nodes/${host}`)).body.seq).toBe(5);
    // The next ordinary report still lands: the host is not locked out.
    expect((await report(host, { seq: 6 })).status).toBe(200);
  });

  it('takes any seq on the report that revives a soft-deleted node', async () => {
    const host = uniqueHost('seq');
    expect((await report(host, { seq: 2 ** 50 })).status).toBe(200);
    expect((await report(host, { seq: 2 ** 50 })).status).toBe(409);
    expect((await call('DELETE', `/nodes/${host}`)).status).toBe(200);
    // A token issued after the delete (a token from before it is revoked by it).
    await new Promise((r) => setTimeout(r, 5));
    const revived = await call<Json>('PUT', `/nodes/${host}`, {
      token: tokenFor(host),
      body: makeReport(host, { seq: 1 }),
    });
    expect(revived.status).toBe(200);
    expect(revived.body).toMatchObject({ seq: 1, deleted: 0, deleted_at: null });
    expect((await report(host, { seq: 2 })).status).toBe(200);
  });
});

describe('report instances', () => {
  it('refuses an instance uuid listed twice (in another case too), naming the repeat, and stores nothing', async () => {
    const host = uniqueHost('dup');
    expect((await report(host, { seq: 1 })).status).toBe(200);
    const u = randomUUID();
    const inst = (uuid: string) => ({ uuid, vcpus: 1, memory_mb: 512, disk_gb: 1 });
    const r = await report(host, { seq: 2, instances: [inst(u), inst(randomUUID()), inst(u.toUpperCase())] });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'ValidationError', details: { field: 'instances.2.uuid' } });
    const node = (await call<Json>('GET', `/nodes/${host}`)).body;
    expect(node.seq).toBe(1);
    expect(node.instances).toEqual([]);
  });
});

describe('node metadata keys', () => {
  it('stores and reads back keys named like Object.prototype members', async () => {
    const host = uniqueHost('md');
    expect((await report(host)).status).toBe(200);
    const r = await call<Json>('PATCH', `/nodes/${host}`, {
      body: '{"metadata":{"constructor":"c","toString":"t","hasOwnProperty":"h","valueOf":"v"}}',
    });
    expect(r.status).toBe(200);
    const want = { constructor: 'c', toString: 't', hasOwnProperty: 'h', valueOf: 'v' };
    expect(r.body.metadata).toEqual(want);
    expect((await call<Json>('GET', `/nodes/${host}`)).body.metadata).toEqual(want);
    // The node stays writable and schedulable with them.
    expect((await report(host, { seq: 2 })).status).toBe(200);
    const cleared = await call<Json>('PATCH', `/nodes/${host}`, { body: '{"metadata":{"constructor":null}}' });
    expect(cleared.body.metadata).toEqual({ toString: 't', hasOwnProperty: 'h', valueOf: 'v' });
  });

  it('refuses __proto__ with a 400 naming it, and changes nothing', async () => {
    const host = uniqueHost('md');
    expect((await report(host)).status).toBe(200);
    expect((await call('PATCH', `/nodes/${host}`, { body: { metadata: { a: '1' } } })).status).toBe(200);
    const r = await call<Json>('PATCH', `/nodes/${host}`, { body: '{"metadata":{"__proto__":"x","b":"2"}}' });
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe('metadata.__proto__');
    expect((await call<Json>('GET', `/nodes/${host}`)).body.metadata).toEqual({ a: '1' });
  });
});

describe('bodies of the wrong JSON type', () => {
  it('answers 400 naming body for false, 0, -0, true, null, a string and an array on every body route', async () => {
    const host = uniqueHost('body');
    expect((await report(host)).status).toBe(200);
    const before = (await call<Json>('GET', `/nodes/${host}`)).body;
    const routes: Array<[string, string, string | undefined]> = [
      ['PUT', `/nodes/${host}`, tokenFor(host)],
      ['PATCH', `/nodes/${host}`, undefined],
      ['POST', '/schedule', undefined],
    ];
    for (const [method, path, token] of routes) {
      for (const body of ['false', '0', '-0', 'true', 'null', '"x"', '[]', '[{}]', '1e400']) {
        const r = await call<Json>(method, path, { body, ...(token ? { token } : {}) });
        expect(r.status, `${method} ${path} with body ${body}`).toBe(400);
        expect(r.body.error.code).toBe('ValidationError');
        expect(r.body.error.details.field).toBe('body');
      }
    }
    expect((await call<Json>('GET', `/nodes/${host}`)).body).toEqual(before);
  });
});

describe('routes and paths', () => {
  it('answers 404 RouteNotFound in the contract shape for a path or method that is no route', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['GET', '/'],
      ['POST', '/nodes/some-host'],
      ['GET', '/nodes/a/b/c'],
      ['DELETE', '/schedule'],
      ['PUT', '/decisions/x'],
    ] as const) {
      const r = await call<Json>(method, path, {
        token: null,
        ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }),
      });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body.error).toMatchObject({ code: 'RouteNotFound', details: { method } });
      expect(typeof r.body.error.message).toBe('string');
    }
  });

  it('decodes a path parameter exactly once', async () => {
    const host = `rt-${randomUUID().slice(0, 8)}`;
    expect((await report(host)).status).toBe(200);
    // %2D is '-': once decoded, the path names `rt-…`.
    const once = await call<Json>('GET', `/nodes/${host.replace('-', '%2D')}`);
    expect(once.status).toBe(200);
    expect(once.body.hypervisor_hostname).toBe(host);
    // %252D is '%2D' once decoded: no hostname, never `rt-…`.
    const twice = await call<Json>('GET', `/nodes/${host.replace('-', '%252D')}`);
    expect(twice.status).toBe(400);
    expect(twice.body.error.details.field).toBe('host');
  });
});

describe('GET /nodes pages', () => {
  it('fills every page but the last, skipping deleted nodes, and refuses a malformed next', async () => {
    const az = `pages-${randomUUID().slice(0, 8)}`;
    const hosts: string[] = [];
    for (let i = 0; i < 12; i++) {
      const host = uniqueHost('pg');
      hosts.push(host);
      expect((await report(host, { availability_zone: az })).status).toBe(200);
    }
    const deleted = new Set(hosts.filter((_, i) => i % 3 !== 0));
    for (const h of deleted) expect((await call('DELETE', `/nodes/${h}`)).status).toBe(200);

    const seen: string[] = [];
    const sizes: number[] = [];
    let next: string | undefined;
    do {
      const r = await call<Json>('GET', `/nodes?limit=3${next ? `&next=${next}` : ''}`);
      expect(r.status).toBe(200);
      sizes.push(r.body.nodes.length);
      for (const n of r.body.nodes) seen.push(n.hypervisor_hostname);
      next = r.body.next;
    } while (next);
    expect(sizes.slice(0, -1).every((s) => s === 3)).toBe(true);
    expect(sizes.at(-1)).toBeGreaterThan(0);
    expect(new Set(seen).size).toBe(seen.length);
    for (const h of hosts) expect(seen.includes(h)).toBe(!deleted.has(h));

    const all = await call<Json>('GET', '/nodes?limit=1000&deleted=true');
    const listed = new Set(all.body.nodes.map((n: Json) => n.hypervisor_hostname));
    for (const h of hosts) expect(listed.has(h)).toBe(true);

    const first = await call<Json>('GET', '/nodes?limit=1');
    for (const bad of ['A', 'AAAA', first.body.next.slice(0, -1), `${first.body.next}=`, '%2F', 'bjE6']) {
      const r = await call<Json>('GET', `/nodes?limit=1&next=${bad}`);
      expect(r.status, `next=${bad}`).toBe(400);
      expect(r.body.error.details.field).toBe('next');
    }
  });
});

describe('the schedule route stays usable', () => {
  it('places on a node whose metadata has prototype-named keys', async () => {
    const host = uniqueHost('mds');
    const az = `mds-${randomUUID().slice(0, 8)}`;
    expect((await report(host, { availability_zone: az })).status).toBe(200);
    expect((await call('PATCH', `/nodes/${host}`, { body: '{"metadata":{"constructor":"x"}}' })).status).toBe(200);
    const r = await call<Json>('POST', '/schedule', { body: scheduleBody(az) });
    expect(r.status).toBe(200);
    expect(r.body.selections[0].host).toBe(host);
  });
});
