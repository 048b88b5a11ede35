import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ReportSchema } from '../core/nodes';
import { resolveConfig } from './cli';
import {
  AGENT_BIN,
  cleanEnv,
  ROOT,
  removeTempDirs,
  runAgent,
  startServer,
  type TestServer,
  tempDir,
  waitFor,
} from './test-support';

afterAll(removeTempDirs);

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
const serve = async (status: number) => {
  const s = await startServer(() => ({
    status,
    body: status === 200 ? {} : { error: { code: 'Unauthorized', message: 'a valid bearer token is required' } },
  }));
  servers.push(s);
  return s;
};
const stateFile = () => join(tempDir('qm-agent-cli-'), 'agent.json');

describe('qm-agent command line', () => {
  it('exits 2 with a clear error when api url and token are missing', async () => {
    const r = await runAgent([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--api-url (or QM_API_URL) and --token (or QM_TOKEN) required unless --print');
  });

  it('exits 2 on a bad interval or an unknown flag', async () => {
    expect((await runAgent(['--print', '--interval', 'soon'])).code).toBe(2);
    expect((await runAgent(['--frobnicate'])).code).toBe(2);
  });

  it('--once sends one report and exits 0 on 200', async () => {
    const server = await serve(200);
    const r = await runAgent([
      '--once',
      '--api-url',
      server.url,
      '--token',
      'qmn.x',
      '--host',
      'cli-host',
      '--instances-path',
      '/tmp',
      '--state-file',
      stateFile(),
    ]);
    expect(r.code).toBe(0);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.url).toBe('/nodes/cli-host');
    expect(ReportSchema.safeParse(JSON.parse(server.requests[0]?.body ?? '')).success).toBe(true);
    expect(r.stderr).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ report host=cli-host seq=\d+ status=200 reason=once /m);
  });

  it('--once exits non-zero with the error when the API refuses the report, all from env', async () => {
    const server = await serve(401);
    const env = cleanEnv({
      QM_API_URL: server.url,
      QM_TOKEN: 'bad',
      QM_ONCE: '1',
      QM_HOST: 'env-host',
      QM_STATE_FILE: stateFile(),
    });
    const r = await runAgent([], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('status=401');
    expect(r.stderr).toContain('Unauthorized: a valid bearer token is required');
    expect(server.requests[0]?.url).toBe('/nodes/env-host');
    expect(server.requests[0]?.headers.authorization).toBe('Bearer bad');
  });

  it('lets flags win over env', () => {
    const c = resolveConfig(
      { host: 'flag-host', interval: '5' },
      { QM_HOST: 'env-host', QM_INTERVAL: '60', QM_API_URL: 'http://x', QM_ONCE: '0' },
    );
    expect(c).toMatchObject({ host: 'flag-host', intervalMs: 5000, apiUrl: 'http://x', once: false });
    expect(resolveConfig({}, { QM_ONCE: 'true', QM_PRINT: 'yes' })).toMatchObject({ once: true, print: true });
  });

  it('reports in a loop and stops with exit 0 on SIGTERM', async () => {
    const server = await serve(200);
    const child = spawn(
      process.execPath,
      [AGENT_BIN, '--api-url', server.url, '--token', 't', '--host', 'loop-host', '--instances-path', '/tmp'],
      { cwd: ROOT, env: cleanEnv({ QM_STATE_FILE: stateFile(), QM_INTERVAL: '60' }) },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitFor(() => server.requests.length >= 1, 20_000, 'the start report');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/ report host=loop-host seq=\d+ status=200 reason=start /);
    expect(stderr).toMatch(/ stop host=loop-host/);
  });
});
