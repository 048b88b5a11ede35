import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTrace } from '../core/simulate/inputs';
import { call, report, stack, uniqueHost } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'qm-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const flavor = { name: 'm1.small', vcpus: 1, memory_mb: 512, root_gb: 1 };

describe('GET /decisions and qm trace export', () => {
  it('lists stored decisions a page at a time, operator only, and refuses a bad next', async () => {
    const since = new Date().toISOString();
    await report(uniqueHost('tr'));
    const made = await call<{ decision_id: string }>('POST', '/schedule', {
      body: { request_spec: { instance_type: flavor } },
    });
    expect(made.status).toBe(200);
    const seen: Array<{ decision_id: string; request?: unknown }> = [];
    let next: string | undefined;
    do {
      const page = await call<{ decisions: typeof seen; next?: string }>(
        'GET',
        `/decisions?since=${encodeURIComponent(since)}&limit=5${next ? `&next=${next}` : ''}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.decisions);
      next = page.body.next;
    } while (next);
    expect(seen.map((d) => d.decision_id)).toContain(made.body.decision_id);
    expect((await call('GET', '/decisions?next=bogus')).body).toMatchObject({ error: { details: { field: 'next' } } });
    expect((await call('GET', '/decisions?limit=0')).status).toBe(400);
    expect((await call('GET', '/decisions', { token: null })).status).toBe(401);
  });

  it('writes a trace of the decisions since a time that qm simulate replays', async () => {
    const since = new Date().toISOString();
    await report(uniqueHost('tr'));
    const one = randomUUID();
    const pair = [randomUUID(), randomUUID()];
    for (const uuids of [[one], pair]) {
      const r = await call('POST', '/schedule', {
        body: { request_spec: { instance_type: flavor, instance_uuids: uuids } },
      });
      expect(r.status).toBe(200);
    }
    const out = join(dir, 'trace.jsonl');
    const s = stack();
    const { stderr } = await promisify(execFile)(
      process.execPath,
      [
        'bin/qm.mjs',
        'trace',
        'export',
        '--api-url',
        s.baseUrl,
        '--token',
        s.operatorToken,
        '--since',
        since,
        '--out',
        out,
      ],
      { env: { ...process.env } },
    );
    expect(stderr).toMatch(/2 creates/);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.op, l.id === one ? 'one' : 'pair', l.num_instances ?? 1])).toEqual([
      ['create', 'one', 1],
      ['create', 'pair', 2],
    ]);
    expect(lines[0]).toMatchObject({ t: 0, flavor: { vcpus: 1, memory_mb: 512, root_gb: 1 } });
    // What qm simulate reads: three instances, the pair as one multi-create.
    expect(parseTrace(readFileSync(out, 'utf8')).instances).toBe(3);
  });
});
