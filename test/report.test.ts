import { describe, expect, it } from 'vitest';
import { call, makeReport, report, stack, tokenFor, uniqueHost } from './helpers';

type Node = Record<string, unknown>;
const NOVA_COLUMNS = [
  'id',
  'service_id',
  'created_at',
  'updated_at',
  'deleted_at',
  'deleted',
  'vcpus',
  'memory_mb',
  'local_gb',
  'vcpus_used',
  'memory_mb_used',
  'local_gb_used',
  'hypervisor_type',
  'hypervisor_version',
  'cpu_info',
  'disk_available_least',
  'free_ram_mb',
  'free_disk_gb',
  'current_workload',
  'running_vms',
  'hypervisor_hostname',
];

const read = async (host: string) => (await call<Node>('GET', `/nodes/${host}`)).body;

describe('PUT /nodes/{host} round trip', () => {
  it('stores every compute_nodes column and reads it back', async () => {
    const host = uniqueHost();
    const sent = makeReport(host, { availability_zone: 'az1', running_vms: 3, current_workload: 2 });
    const put = await call<Node>('PUT', `/nodes/${host}`, { token: tokenFor(host), body: sent });
    expect(put.status).toBe(200);
    const node = await read(host);
    expect(node).toEqual(put.body);
    for (const c of NOVA_COLUMNS) expect(node, c).toHaveProperty(c);
    expect(node).toMatchObject({
      hypervisor_hostname: host,
      hypervisor_type: 'QEMU',
      hypervisor_version: 6_002_000,
      cpu_info: sent.cpu_info,
      vcpus: 40,
      memory_mb: 65_536,
      local_gb: 1000,
      vcpus_used: 4,
      memory_mb_used: 8192,
      local_gb_used: 100,
      disk_available_least: 880,
      running_vms: 3,
      current_workload: 2,
      free_ram_mb: 65_536 - 8192,
      free_disk_gb: 1000 - 100,
      deleted: 0,
      deleted_at: null,
      availability_zone: 'az1',
      status: 'up',
      disabled: false,
      claims: [],
      seq: 1,
    });
    expect(typeof node.id).toBe('number');
    expect(node.service_id).toBe(node.id);
    expect(Date.parse(String(node.created_at))).toBeGreaterThan(Date.now() - 60_000);
  });

  it('keeps id and created_at across reports and moves updated_at', async () => {
    const host = uniqueHost();
    const first = (await report(host, { seq: 10 })).body;
    await new Promise((r) => setTimeout(r, 5));
    const second = await report(host, { seq: 11, memory_mb_used: 10_000 });
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.id);
    expect(second.body.created_at).toBe(first.created_at);
    expect(Date.parse(String(second.body.updated_at))).toBeGreaterThan(Date.parse(String(first.updated_at)));
    expect(second.body.free_ram_mb).toBe(65_536 - 10_000);
  });

  it('gives every new host its own id', async () => {
    const a = (await report(uniqueHost())).body;
    const b = (await report(uniqueHost())).body;
    expect(a.id).not.toBe(b.id);
  });

  it('answers 409 StaleReport to a seq that does not increase, and changes nothing', async () => {
    const host = uniqueHost();
    await report(host, { seq: 5 });
    const before = await read(host);
    for (const seq of [5, 4, 0]) {
      const r = await report(host, { seq, memory_mb_used: 1 });
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ error: { code: 'StaleReport', details: { stored_seq: 5, seq } } });
    }
    expect(await read(host)).toEqual({ ...before, status: 'up' });
  });

  it('lets exactly one of many racing reports with the same seq land', async () => {
    const host = uniqueHost();
    await report(host, { seq: 1 });
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => report(host, { seq: 2, memory_mb_used: 1000 + i })),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(7);
  });
});

describe('GET, PATCH and DELETE /nodes', () => {
  it('lists nodes, and 404s an unknown host', async () => {
    const host = uniqueHost();
    await report(host);
    const list = await call<{ nodes: Node[] }>('GET', '/nodes');
    expect(list.status).toBe(200);
    expect(list.body.nodes.map((n) => n.hypervisor_hostname)).toContain(host);
    const missing = await call('GET', `/nodes/${uniqueHost('nope')}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: 'NodeNotFound' } });
  });

  it('lets the operator disable, set the zone and merge metadata; the operator wins over reports', async () => {
    const host = uniqueHost();
    await report(host, { seq: 1, availability_zone: 'reported-az' });
    const p = await call<Node>('PATCH', `/nodes/${host}`, {
      body: { disabled: true, disabled_reason: 'maintenance', availability_zone: 'az9', metadata: { a: '1', b: '2' } },
    });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ disabled: true, disabled_reason: 'maintenance', availability_zone: 'az9' });
    await call('PATCH', `/nodes/${host}`, { body: { metadata: { a: null, c: '3' } } });
    const after = await report(host, { seq: 2, availability_zone: 'reported-az' });
    expect(after.body).toMatchObject({
      disabled: true,
      availability_zone: 'az9',
      metadata: { b: '2', c: '3' },
    });
    expect(after.body.metadata).not.toHaveProperty('a');
    const cleared = await call<Node>('PATCH', `/nodes/${host}`, { body: { availability_zone: null, disabled: false } });
    expect(cleared.body).toMatchObject({ availability_zone: 'reported-az', disabled: false });
  });

  it('404s PATCH and DELETE of an unknown host', async () => {
    const host = uniqueHost('nope');
    expect((await call('PATCH', `/nodes/${host}`, { body: { disabled: true } })).status).toBe(404);
    expect((await call('DELETE', `/nodes/${host}`)).status).toBe(404);
  });

  it('soft-deletes a node, hides it from the list, and a later report revives it', async () => {
    const host = uniqueHost();
    const created = (await report(host, { seq: 1 })).body;
    const del = await call<Node>('DELETE', `/nodes/${host}`);
    expect(del.status).toBe(200);
    expect(del.body.deleted).toBe(created.id);
    expect(typeof del.body.deleted_at).toBe('string');
    const list = await call<{ nodes: Node[] }>('GET', '/nodes');
    expect(list.body.nodes.map((n) => n.hypervisor_hostname)).not.toContain(host);
    const withDeleted = await call<{ nodes: Node[] }>('GET', '/nodes?deleted=true');
    expect(withDeleted.body.nodes.map((n) => n.hypervisor_hostname)).toContain(host);
    const revived = await report(host, { seq: 2 });
    expect(revived.status).toBe(200);
    expect(revived.body).toMatchObject({
      deleted: 0,
      deleted_at: null,
      id: created.id,
      created_at: created.created_at,
    });
  });
});

describe('bad input gets a 4xx naming the field and changes nothing', () => {
  const cases: Array<[string, (host: string) => { body?: unknown; token?: string | null }, number, string?]> = [
    ['malformed JSON', () => ({ body: '{"vcpus": ' }), 400, 'body'],
    ['an empty body', () => ({ body: '' }), 400, 'body'],
    ['a JSON array', () => ({ body: '[]' }), 400, 'body'],
    ['a wrong type', (h) => ({ body: { ...makeReport(h, { seq: 9 }), vcpus: 'eight' } }), 400, 'vcpus'],
    ['a fractional count', (h) => ({ body: { ...makeReport(h, { seq: 9 }), memory_mb: 1.5 } }), 400, 'memory_mb'],
    ['a negative size', (h) => ({ body: makeReport(h, { seq: 9, local_gb: -1 }) }), 400, 'local_gb'],
    [
      'a negative nested size',
      (h) => ({
        body: makeReport(h, {
          seq: 9,
          instances: [{ uuid: '1b4e28ba-2fa1-11d2-883f-0016d3cca427', vcpus: -2, memory_mb: 1, disk_gb: 1 }],
        }),
      }),
      400,
      'instances.0.vcpus',
    ],
    [
      'a missing field',
      (h) => {
        const { vcpus: _v, ...rest } = makeReport(h, { seq: 9 });
        return { body: rest };
      },
      400,
      'vcpus',
    ],
    ['an unknown field', (h) => ({ body: { ...makeReport(h, { seq: 9 }), vcpu: 4 } }), 400, 'vcpu'],
    [
      'a bad timestamp',
      (h) => ({ body: { ...makeReport(h, { seq: 9 }), reported_at: 'yesterday' } }),
      400,
      'reported_at',
    ],
    [
      'a host in the body that is not the path',
      (h) => ({ body: makeReport(`${h}-other`, { seq: 9 }) }),
      400,
      'hypervisor_hostname',
    ],
    [
      'an oversized body',
      (h) => ({
        body: { ...makeReport(h, { seq: 9 }), cpu_info: { ...makeReport(h).cpu_info, model: 'x'.repeat(300_000) } },
      }),
      400,
      'body',
    ],
    ['no token', (h) => ({ body: makeReport(h, { seq: 9 }), token: null }), 401],
    ['a forged token', (h) => ({ body: makeReport(h, { seq: 9 }), token: `${tokenFor(h)}x` }), 401],
    ['a node token for another host', (h) => ({ body: makeReport(h, { seq: 9 }), token: tokenFor(`${h}-x`) }), 403],
  ];

  it.each(cases)('%s', async (_name, make, status, field) => {
    const host = uniqueHost('bad');
    await report(host, { seq: 1 });
    const before = await read(host);
    const { body, token } = make(host);
    const r = await call<{ error: { code: string; message: string; details: { field?: string } } }>(
      'PUT',
      `/nodes/${host}`,
      { body, token: token === undefined ? tokenFor(host) : token },
    );
    expect(r.status).toBe(status);
    expect(typeof r.body.error.message).toBe('string');
    if (field) {
      expect(r.body.error.details.field).toBe(field);
      expect(r.body.error.message).toContain(field);
    }
    expect(await read(host)).toEqual(before);
  });

  it('rejects a bad PATCH naming the field', async () => {
    const host = uniqueHost('bad');
    await report(host);
    const before = await read(host);
    const r = await call<{ error: { details: { field: string } } }>('PATCH', `/nodes/${host}`, {
      body: { metadata: { k: 5 } },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe('metadata.k');
    expect(await read(host)).toEqual(before);
  });

  it('forbids a node token on operator routes', async () => {
    const host = uniqueHost();
    await report(host);
    for (const [method, path] of [
      ['GET', '/nodes'],
      ['GET', `/nodes/${host}`],
      ['PATCH', `/nodes/${host}`],
      ['DELETE', `/nodes/${host}`],
      ['POST', '/schedule'],
    ] as const) {
      const r = await call(method, path, { token: tokenFor(host), body: method === 'GET' ? undefined : {} });
      expect(r.status, `${method} ${path}`).toBe(403);
    }
    expect((await call('GET', '/nodes', { token: null })).status).toBe(401);
    expect(stack().baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:/);
  });
});

describe('GET /nodes pages', () => {
  it('pages with limit and next until every node is listed once', async () => {
    const mine = [uniqueHost('page'), uniqueHost('page'), uniqueHost('page')];
    for (const h of mine) await report(h);
    const seen: string[] = [];
    let next: string | undefined;
    for (let i = 0; i < 1000; i++) {
      const page = await call<{ nodes: Array<{ hypervisor_hostname: string }>; next?: string }>(
        'GET',
        `/nodes?limit=2${next ? `&next=${next}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.nodes.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.nodes.map((n) => n.hypervisor_hostname));
      next = page.body.next;
      if (!next) break;
    }
    for (const h of mine) expect(seen.filter((s) => s === h)).toHaveLength(1);
    expect((await call('GET', '/nodes?limit=0')).status).toBe(400);
    expect((await call('GET', '/nodes?bogus=1')).status).toBe(400);
  });

  it('answers 400, not 500, to a host that is not valid percent-encoding', async () => {
    // serverless-offline refuses it before the function; API Gateway hands it over (functions/shared/http.test.ts).
    const r = await fetch(`${stack().baseUrl}/nodes/%FF`, {
      headers: { authorization: `Bearer ${stack().operatorToken}` },
    });
    expect(r.status).toBe(400);
  });
});
