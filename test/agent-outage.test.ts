import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeToken } from '../core/auth';
import { type Stack, startStack, stopChild } from '../scripts/lib/stack';

// A stack of its own: this test stops the API under the agent, which the shared stack's other tests must not see.
let stack: Stack;
let agent: ChildProcess | undefined;
const SECRET = 'agent-outage-secret';
const HOST = 'outage-host';

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

describe('the agent, when the API goes away and comes back', () => {
  beforeAll(async () => {
    stack = await startStack({
      stage: 'outage',
      httpPort: 3400,
      snsPort: 4402,
      dynamodbPort: 8400,
      sqsPort: 9724,
      lambdaPort: 3402,
      secret: SECRET,
      buildDir: '.esbuild-outage',
    });
  }, 180_000);

  afterAll(async () => {
    await stopChild(agent);
    await stack?.stop();
  });

  it('keeps running, backs off, and reports again once the API is back', async () => {
    let log = '';
    agent = spawn(
      process.execPath,
      [
        resolve('bin/qm-agent.mjs'),
        '--api-url',
        stack.baseUrl,
        '--token',
        nodeToken(SECRET, HOST),
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
});
