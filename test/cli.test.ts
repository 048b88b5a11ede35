import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { call, makeReport, stack, uniqueHost } from './helpers';

const qm = async (...args: string[]) =>
  (
    await promisify(execFile)(process.execPath, ['bin/qm.mjs', ...args], {
      env: { ...process.env, QM_SECRET: stack().secret },
    })
  ).stdout.trim();

describe('npx qm token', () => {
  it('prints an operator token the API accepts', async () => {
    const token = await qm('token', 'operator');
    expect((await call('GET', '/nodes', { token })).status).toBe(200);
  });

  it('prints a node token that reports its host and nothing else', async () => {
    const host = uniqueHost('cli');
    const token = await qm('token', 'node', host);
    expect((await call('PUT', `/nodes/${host}`, { token, body: makeReport(host) })).status).toBe(200);
    expect((await call('GET', `/nodes/${host}`, { token })).status).toBe(403);
  });
});
