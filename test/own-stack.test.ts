import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeToken } from '../core/auth';
import { type Stack, startStack, stopChild } from '../scripts/lib/stack';
import { testPorts } from './global-setup';

// A stack of its own: the outage test stops the API under the agent, and the expiry test needs a
// claim_ttl of seconds; the shared stack's other tests must see neither.
let stack: Stack;
let agent: ChildProcess | undefined;
const SECRET = 'agent-outage-secret';
const HOST = 'outage-host';
const CLAIM_TTL_S = 3;

const readNode = async () => {
  const r = await fetch(`${stack.baseUrl}/nodes/${HOST}`, {
    headers: { authorization: `Bearer ${stack.operatorToken}` },
  });
  return r.status === 200 ? ((await r.json()) as { seq: number; updated_at: string }) : undefined;
};

const until = async <T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('on a stack of its own', () => {
  beforeAll(async () => {
    stack = await startStack({
      stage: 'outage',
      ...testPorts({ httpPort: 3400, snsPort: 4402, dynamodbPort: 8400, sqsPort: 9724 }),
      secret: SECRET,
      buildDir: '.esbuild-outage',
      env: { QM_CLAIM_TTL: String(CLAIM_TTL_S) },
    });
  }, 180_000);

  afterAll(async () => {
    await stopChild(agent);
    await stack?.stop();
  });

  it('the agent keeps running, backs off, and reports again once the API is back', async () => {
    let log = '';
    agent = spawn(
      process.execPath,
      [
        resolve('bin/qm-agent.mjs'),
        '--api-url',
        stack.baseUrl,
        '--token',
        nodeToken(SECRET, HOST, { nowMs: Date.now() }),
        '--host',
        HOST,
        '--interval',
        '2',
        '--instances-path',
        tmpdir(),
        '--state-file',
        join(mkdtempSync(join(tmpdir(), 'qm-agent-')), 'state.json'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    agent.stderr?.on('data', (d) => {
      log += d;
    });
    const first = await until('the first report', readNode);

    await stack.stopApi();
    const downAt = log.length;
    // The agent tries, fails and backs off; it must not exit.
    await until('failed attempts while the API is down', async () =>
      (log.slice(downAt).match(/status=error/g)?.length ?? 0) >= 2 ? true : undefined,
    );
    expect(agent.exitCode).toBeNull();

    await stack.startApi();
    const after = await until('a report after the outage', async () => {
      const n = await readNode();
      return n && n.seq > first.seq ? n : undefined;
    });
    expect(after.seq).toBeGreaterThan(first.seq);
    expect(Date.parse(after.updated_at)).toBeGreaterThan(Date.parse(first.updated_at));
    expect(agent.exitCode).toBeNull();
  }, 180_000);

  it('lets a claim that nothing confirms expire after claim_ttl (rule 4)', async () => {
    const host = 'expiry-host';
    const az = 'expiry-az';
    const headers = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
    const reportAs = (seq: number) =>
      fetch(`${stack.baseUrl}/nodes/${host}`, {
        method: 'PUT',
        headers: headers(nodeToken(SECRET, host, { nowMs: Date.now() })),
        body: JSON.stringify({
          hypervisor_hostname: host,
          hypervisor_type: 'QEMU',
          hypervisor_version: 6_002_000,
          cpu_info: {
            arch: 'x86_64',
            vendor: 'v',
            model: 'm',
            features: [],
            topology: { sockets: 1, cores: 4, threads: 1 },
          },
          vcpus: 4,
          memory_mb: 4096,
          local_gb: 100,
          vcpus_used: 0,
          memory_mb_used: 0,
          local_gb_used: 0,
          disk_available_least: 100,
          running_vms: 0,
          current_workload: 0,
          availability_zone: az,
          seq,
          reported_at: new Date().toISOString(),
        }),
      });
    expect((await reportAs(1)).status).toBe(200);
    const node = async () =>
      (await (await fetch(`${stack.baseUrl}/nodes/${host}`, { headers: headers(stack.operatorToken) })).json()) as {
        free_ram_mb: number;
        claims: unknown[];
        drift: { kind: string; memory_mb: number }[];
      };
    const schedule = () =>
      fetch(`${stack.baseUrl}/schedule`, {
        method: 'POST',
        headers: headers(stack.operatorToken),
        body: JSON.stringify({
          request_spec: {
            instance_type: { name: 'big', vcpus: 1, memory_mb: 3000, root_gb: 1 },
            instance_properties: { availability_zone: az },
          },
        }),
      });
    // 4096 − 512 reserved = 3584 MB: room for one 3000 MB instance, not two.
    expect((await schedule()).status).toBe(200);
    expect((await node()).claims).toHaveLength(1);
    expect((await node()).free_ram_mb).toBe(4096 - 3000);
    expect((await schedule()).status).toBe(409);
    await new Promise((r) => setTimeout(r, CLAIM_TTL_S * 1000 + 500));
    expect(await node()).toMatchObject({ claims: [], free_ram_mb: 4096 });
    expect((await schedule()).status).toBe(200);
    // The next report prunes the expired claim and records it: a claim whose instance never appeared.
    expect((await reportAs(2)).status).toBe(200);
    const after = await node();
    expect(after.claims).toHaveLength(1);
    expect(after.drift).toMatchObject([{ kind: 'missing_instance', memory_mb: 3000 }]);
  }, 60_000);

  it('lets an anti-affinity member whose claim expired leave its group: the host takes a member again (rule 7)', async () => {
    const az = 'group-expiry-az';
    const hosts = ['group-expiry-a', 'group-expiry-b'];
    const headers = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
    const reportAs = (host: string, seq: number) =>
      fetch(`${stack.baseUrl}/nodes/${host}`, {
        method: 'PUT',
        headers: headers(nodeToken(SECRET, host, { nowMs: Date.now() })),
        body: JSON.stringify({
          hypervisor_hostname: host,
          hypervisor_type: 'QEMU',
          hypervisor_version: 6_002_000,
          cpu_info: {
            arch: 'x86_64',
            vendor: 'v',
            model: 'm',
            features: [],
            topology: { sockets: 1, cores: 4, threads: 1 },
          },
          vcpus: 4,
          memory_mb: 8192,
          local_gb: 100,
          vcpus_used: 0,
          memory_mb_used: 0,
          local_gb_used: 0,
          disk_available_least: 100,
          running_vms: 0,
          current_workload: 0,
          availability_zone: az,
          seq,
          reported_at: new Date().toISOString(),
        }),
      });
    for (const h of hosts) expect((await reportAs(h, 1)).status).toBe(200);
    const group = { group: 'expiring-group', group_policy: 'anti-affinity' };
    const schedule = async () => {
      const r = await fetch(`${stack.baseUrl}/schedule`, {
        method: 'POST',
        headers: headers(stack.operatorToken),
        body: JSON.stringify({
          request_spec: {
            instance_type: { name: 'small', vcpus: 1, memory_mb: 512, root_gb: 1 },
            instance_properties: { availability_zone: az },
          },
          filter_properties: { scheduler_hints: group },
        }),
      });
      return { status: r.status, body: (await r.json()) as { selections: { host: string }[] } };
    };
    expect((await schedule()).status).toBe(200);
    expect((await schedule()).status).toBe(200);
    // Both hosts hold a member: a third has nowhere to go.
    expect((await schedule()).status).toBe(409);
    await new Promise((r) => setTimeout(r, CLAIM_TTL_S * 1000 + 500));
    // The host's next report reaps the expired claim, and its member leaves the group.
    expect((await reportAs('group-expiry-a', 2)).status).toBe(200);
    const again = await schedule();
    expect(again.status).toBe(200);
    expect(again.body.selections[0]?.host).toBe('group-expiry-a');
  }, 60_000);
});
