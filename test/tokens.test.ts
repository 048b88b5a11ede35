import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readKeyring, refreshingKeyring } from '../adapters/secret';
import { nodeToken, operatorToken } from '../core/auth';
import { call, makeReport, stack, uniqueHost } from './helpers';

type ErrorBody = { error: { code: string; message: string; details: Record<string, unknown> } };
type Node = { seq: number; deleted: number; updated_at: string; tokens_revoked_at: string | null };

const mint = (host: string, over: { nowMs?: number; ttlS?: number; secret?: string } = {}) =>
  nodeToken(over.secret ?? stack().secret, host, { nowMs: over.nowMs ?? Date.now(), ttlS: over.ttlS });
const put = (host: string, token: string, seq: number) =>
  call<Node & ErrorBody>('PUT', `/nodes/${host}`, { token, body: makeReport(host, { seq }) });
const read = async (host: string) => (await call<Node>('GET', `/nodes/${host}`)).body;

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGTERM');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('every token expires', () => {
  it('answers 401 TokenExpired to an expired node token and changes nothing', async () => {
    const host = uniqueHost('exp');
    expect((await put(host, mint(host), 1)).status).toBe(200);
    const before = await read(host);
    const r = await put(host, mint(host, { nowMs: Date.now() - 120_000, ttlS: 60 }), 2);
    expect(r.status).toBe(401);
    expect(r.body.error).toMatchObject({ code: 'TokenExpired', details: { expired_at: expect.any(String) } });
    expect(await read(host)).toEqual(before);
  });

  it('answers 401 TokenExpired to an expired operator token on every function', async () => {
    const expired = operatorToken(stack().secret, { nowMs: Date.now() - 13 * 3600_000 }); // default 12 h, gone
    for (const [method, path, body] of [
      ['GET', '/nodes', undefined],
      ['POST', '/schedule', {}],
    ] as const) {
      const r = await call<ErrorBody>(method, path, { token: expired, body });
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(r.body.error.code).toBe('TokenExpired');
    }
  });
});

describe('revoking a host’s node tokens', () => {
  it('PATCH revoke_tokens: older tokens answer 401 TokenRevoked, one minted right after works', async () => {
    const host = uniqueHost('rev');
    const old = mint(host);
    expect((await put(host, old, 1)).status).toBe(200);
    const revoked = await call<Node>('PATCH', `/nodes/${host}`, { body: { revoke_tokens: true } });
    expect(revoked.status).toBe(200);
    expect(Date.parse(revoked.body.tokens_revoked_at ?? '')).toBeGreaterThan(0);
    const before = await read(host);
    const r = await put(host, old, 2);
    expect(r.status).toBe(401);
    expect(r.body.error).toMatchObject({
      code: 'TokenRevoked',
      details: { host, revoked_at: revoked.body.tokens_revoked_at },
    });
    expect(await read(host)).toEqual(before);
    // Minted at once after the revoke's answer (within the same millisecond, if the clock allows).
    expect((await put(host, mint(host), 3)).status).toBe(200);
    // The operator's token is not a node token: revocation does not touch it.
    expect((await call('PUT', `/nodes/${host}`, { body: makeReport(host, { seq: 4 }) })).status).toBe(200);
  });

  it('refuses revoke_tokens other than true, naming the field, and changes nothing', async () => {
    const host = uniqueHost('rev');
    expect((await put(host, mint(host), 1)).status).toBe(200);
    const before = await read(host);
    for (const v of [false, 'yes', 1, null]) {
      const r = await call<ErrorBody>('PATCH', `/nodes/${host}`, { body: { revoke_tokens: v } });
      expect(r.status, JSON.stringify(v)).toBe(400);
      expect(r.body.error.details.field).toBe('revoke_tokens');
    }
    expect(await read(host)).toEqual(before);
    expect((await call('PATCH', `/nodes/${uniqueHost('none')}`, { body: { revoke_tokens: true } })).status).toBe(404);
  });

  it('DELETE revokes the node tokens issued before it: the old agent cannot revive the node, a new token can', async () => {
    const host = uniqueHost('del');
    const old = mint(host);
    expect((await put(host, old, 1)).status).toBe(200);
    expect((await call('DELETE', `/nodes/${host}`)).status).toBe(200);
    const r = await put(host, old, 2);
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('TokenRevoked');
    expect((await read(host)).deleted).not.toBe(0);
    const revived = await put(host, mint(host), 3);
    expect(revived.status).toBe(200);
    expect(revived.body.deleted).toBe(0);
  });

  it('lets no report with an old token land after a revoke it raced', async () => {
    const host = uniqueHost('race');
    const old = mint(host);
    expect((await put(host, old, 1)).status).toBe(200);
    const reports = Array.from({ length: 6 }, (_, i) => put(host, old, 2 + i));
    const revoke = call<Node>('PATCH', `/nodes/${host}`, { body: { revoke_tokens: true } });
    const [answers, rev] = await Promise.all([Promise.all(reports), revoke]);
    expect(rev.status).toBe(200);
    const at = rev.body.tokens_revoked_at ?? '';
    for (const a of answers) {
      expect([200, 401, 409, 503]).toContain(a.status);
      // A report that landed was written before the revoke: its own time is not after the revocation's.
      if (a.status === 200) expect(a.body.updated_at <= at).toBe(true);
      if (a.status === 401) expect(a.body.error.code).toBe('TokenRevoked');
    }
    const stored = await read(host);
    expect(stored.tokens_revoked_at).toBe(at);
    expect(stored.updated_at <= at).toBe(true);
    expect((await put(host, old, 100)).status).toBe(401);
  });
});

describe('rotation and canonical form', () => {
  it('accepts tokens signed with the previous secret (QM_SECRET_PREVIOUS), and no other secret', async () => {
    const host = uniqueHost('rot');
    expect((await put(host, mint(host, { secret: stack().previousSecret }), 1)).status).toBe(200);
    const op = operatorToken(stack().previousSecret, { nowMs: Date.now() });
    expect((await call('GET', `/nodes/${host}`, { token: op })).status).toBe(200);
    expect((await put(host, mint(host, { secret: 'some-other-secret' }), 2)).status).toBe(401);
  });

  it('fuzz: tampered, non-canonical, expired and revoked tokens are 401 with their code, and change nothing', async () => {
    const host = uniqueHost('fuzz');
    const revokedToken = mint(host);
    expect((await put(host, revokedToken, 1)).status).toBe(200);
    expect((await call('PATCH', `/nodes/${host}`, { body: { revoke_tokens: true } })).status).toBe(200);
    const good = mint(host);
    expect((await put(host, good, 2)).status).toBe(200);
    const before = await read(host);
    const [kind, claims, sig] = good.split('.') as [string, string, string];
    const text = Buffer.from(claims, 'base64url').toString();
    const Case = fc.oneof(
      fc.record({ t: fc.constant('flip' as const), at: fc.nat(good.length - 1), ch: fc.constantFrom(...'A_-0z') }),
      fc.constantFrom(
        { t: 'form' as const, token: `${kind}.${claims}=.${sig}` },
        { t: 'form' as const, token: `${kind}.${Buffer.from(text).toString('base64')}.${sig}` },
        { t: 'form' as const, token: `${kind}.${claims}.${sig}==` },
        { t: 'form' as const, token: `${kind}.${claims}.${Buffer.from(sig, 'base64url').toString('base64')}` },
      ),
      fc.record({ t: fc.constant('expired' as const), agoS: fc.integer({ min: 1, max: 10 ** 7 }) }),
      fc.constant({ t: 'revoked' as const }),
    );
    await fc.assert(
      fc.asyncProperty(Case, async (c) => {
        let token: string;
        let code: string;
        if (c.t === 'flip') {
          token = good.slice(0, c.at) + c.ch + good.slice(c.at + 1);
          fc.pre(token !== good);
          code = 'Unauthorized';
        } else if (c.t === 'form') {
          fc.pre(c.token !== good);
          token = c.token;
          code = 'Unauthorized';
        } else if (c.t === 'expired') {
          token = mint(host, { nowMs: Date.now() - c.agoS * 1000 - 1000, ttlS: c.agoS });
          code = 'TokenExpired';
        } else {
          token = revokedToken;
          code = 'TokenRevoked';
        }
        const r = await put(host, token, 1000);
        expect(r.status, token).toBe(401);
        expect(r.body.error.code, token).toBe(code);
      }),
      { numRuns: 40, seed: 14 },
    );
    expect(await read(host)).toEqual(before);
  });
});

describe('the SSM keyring (the previous secret is the parameter’s previous version)', () => {
  const store = (versions: string[]) => async (name: string) => {
    const [base, v] = name.split(':');
    expect(base).toBe('/qm/secret');
    const n = v === undefined ? versions.length : Number(v);
    if (!versions[n - 1]) throw Object.assign(new Error('no such version'), { name: 'ParameterVersionNotFound' });
    return { Value: versions[n - 1], Version: n };
  };
  it('reads version n and n − 1, or only the first version', async () => {
    expect(await readKeyring(store(['a', 'b', 'c']), '/qm/secret')).toEqual({ current: 'c', previous: 'b' });
    expect(await readKeyring(store(['a']), '/qm/secret')).toEqual({ current: 'a' });
    const gap = async (name: string) => (name.includes(':') ? store([])(name) : { Value: 'z', Version: 7 });
    expect(await readKeyring(gap, '/qm/secret')).toEqual({ current: 'z' });
  });

  it('rereads the keyring after the refresh period without making a request wait, and keeps it on a failed read', async () => {
    let clock = 0;
    const answers: Array<() => Promise<{ current: string; previous?: string }>> = [
      async () => ({ current: 'a' }),
      async () => ({ current: 'b', previous: 'a' }),
      async () => Promise.reject(new Error('ssm away')),
    ];
    const errors: unknown[] = [];
    const keys = await refreshingKeyring(
      () => (answers.shift() ?? answers[0])!(),
      () => clock,
      1000,
      (e) => errors.push(e),
    );
    expect(keys()).toEqual({ current: 'a' });
    clock = 1000;
    expect(keys()).toEqual({ current: 'a' }); // served at once; the reread is under way
    await new Promise((r) => setTimeout(r, 0));
    expect(keys()).toEqual({ current: 'b', previous: 'a' });
    clock = 2000;
    keys();
    await new Promise((r) => setTimeout(r, 0));
    expect(keys()).toEqual({ current: 'b', previous: 'a' });
    expect(errors).toHaveLength(1);
  });
});

const qm = (args: string[], env: Record<string, string> = {}) =>
  promisify(execFile)(process.execPath, ['bin/qm.mjs', ...args], {
    env: { ...process.env, QM_SECRET: stack().secret, ...env },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout.trim(), stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe('npx qm token', () => {
  it('--ttl sets the lifetime; a bad duration is a usage error', async () => {
    const host = uniqueHost('ttl');
    const t = (await qm(['token', 'node', host, '--ttl', '15m'])).stdout;
    expect((await put(host, t, 1)).status).toBe(200);
    const claims = Buffer.from(t.split('.')[1] ?? '', 'base64url')
      .toString()
      .split('.');
    expect(Number(claims[1]) - Number(claims[0])).toBe(15 * 60_000);
    const op = (await qm(['token', 'operator'])).stdout;
    const opClaims = Buffer.from(op.split('.')[1] ?? '', 'base64url')
      .toString()
      .split('.');
    expect(Number(opClaims[1]) - Number(opClaims[0])).toBe(12 * 3600_000);
    const bad = await qm(['token', 'node', host, '--ttl', '2w']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--ttl');
  });

  it('revoke <host> sends revoke_tokens: the old token is refused, a new one works; exit 1 on a 404', async () => {
    const host = uniqueHost('qmrev');
    const old = mint(host);
    expect((await put(host, old, 1)).status).toBe(200);
    const r = await qm(['token', 'revoke', host, '--api-url', stack().baseUrl]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`node tokens for ${host} issued before`);
    expect((await put(host, old, 2)).body.error.code).toBe('TokenRevoked');
    expect((await put(host, (await qm(['token', 'node', host])).stdout, 3)).status).toBe(200);
    const missing = await qm(['token', 'revoke', uniqueHost('none'), '--api-url', stack().baseUrl]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('NodeNotFound');
  });
});

describe('the agent with --token-file', () => {
  it('picks up a replaced token without a restart after its old one is revoked', async () => {
    const host = uniqueHost('tf');
    const dir = mkdtempSync(join(tmpdir(), 'qm-token-file-'));
    dirs.push(dir);
    const file = join(dir, 'token');
    writeFileSync(file, `${mint(host)}\n`, { mode: 0o600 });
    const agent = spawn(
      process.execPath,
      [
        resolve('bin/qm-agent.mjs'),
        '--api-url',
        stack().baseUrl,
        '--token-file',
        file,
        '--host',
        host,
        '--interval',
        '1',
        '--instances-path',
        '/tmp',
        '--libvirt-uri',
        'test:///default',
        '--state-file',
        join(dir, 'agent.json'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, QM_TOKEN: '', QM_TOKEN_FILE: '' } },
    );
    children.push(agent);
    let log = '';
    agent.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    const until = async (what: string, ok: () => Promise<boolean>) => {
      for (let i = 0; i < 600 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 100));
      if (!(await ok())) throw new Error(`timed out waiting for ${what}; agent log:\n${log}`);
    };
    await until('the first report', async () => (await call('GET', `/nodes/${host}`)).status === 200);
    const rev = await call<Node>('PATCH', `/nodes/${host}`, { body: { revoke_tokens: true } });
    await until('a refused report', async () => /TokenRevoked/.test(log));
    // Replaced as an operator would: write beside it, then rename over it.
    writeFileSync(`${file}.new`, `${mint(host)}\n`, { mode: 0o600 });
    renameSync(`${file}.new`, file);
    await until('a report with the new token', async () => (await read(host)).updated_at > (rev.body.updated_at ?? ''));
    expect(agent.exitCode).toBeNull();
    agent.kill('SIGTERM');
  });
});
