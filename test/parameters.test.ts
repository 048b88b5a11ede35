import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ssmParameters } from '../adapters/parameters';
import { readKeyring } from '../adapters/secret';
import { type SeenRequest, startServer, type TestServer } from '../agent/test-support';
import { call, makeReport, stack, uniqueHost } from './helpers';

/**
 * The one SSM reader (adapters/parameters.ts, Powertools Parameters) through the real
 * SDK over HTTP, against a loopback server that answers SSM's JSON protocol
 * (`x-amz-target: AmazonSSM.GetParameter`) from a table of parameter versions: no
 * local SSM exists, and the wire is what the reader and `npx qm` are about.
 */

/** Versions of each parameter, oldest first. */
const store: Record<string, string[]> = {};
let ssm: TestServer;
const gets = () =>
  ssm.requests
    .filter((r) => r.headers['x-amz-target'] === 'AmazonSSM.GetParameter')
    .map((r) => JSON.parse(r.body) as { Name: string; WithDecryption?: boolean });

const answer = (r: SeenRequest) => {
  const { Name } = JSON.parse(r.body) as { Name: string };
  const [base = '', v] = Name.split(':');
  const versions = store[base];
  if (!versions) return { status: 400, body: { __type: 'ParameterNotFound', message: `${base} not found` } };
  const n = v === undefined ? versions.length : Number(v);
  const value = versions[n - 1];
  if (value === undefined) {
    return { status: 400, body: { __type: 'ParameterVersionNotFound', message: `${Name} not found` } };
  }
  return { status: 200, body: { Parameter: { Name, Type: 'SecureString', Value: value, Version: n } } };
};

beforeAll(async () => {
  ssm = await startServer(answer);
});
afterAll(() => ssm.close());

const reader = () =>
  ssmParameters({
    client: {
      region: 'us-east-1',
      endpoint: ssm.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    },
  });

describe('the SSM reader (Powertools Parameters)', () => {
  it('reads decrypted; asks for the current version every time, a numbered one once within maxAge', async () => {
    store['/qm/rotated'] = ['one', 'two', 'three'];
    const read = reader();
    const before = gets().length;
    expect(await readKeyring(read, '/qm/rotated')).toEqual({ current: 'three', previous: 'two' });
    expect(await readKeyring(read, '/qm/rotated')).toEqual({ current: 'three', previous: 'two' });
    const asked = gets().slice(before);
    // current, then :2; again current (it may have rotated), :2 from the cache.
    expect(asked.map((g) => g.Name)).toEqual(['/qm/rotated', '/qm/rotated:2', '/qm/rotated']);
    expect(asked.every((g) => g.WithDecryption === true)).toBe(true);
  });

  it('sees a rotation on the next read, and a previous version that is gone as none', async () => {
    store['/qm/gap'] = ['old', 'new'];
    const read = reader();
    expect(await readKeyring(read, '/qm/gap')).toEqual({ current: 'new', previous: 'old' });
    store['/qm/gap'] = ['old', 'new', 'newer'];
    expect(await readKeyring(read, '/qm/gap')).toEqual({ current: 'newer', previous: 'new' });
    store['/qm/gap'] = [];
    store['/qm/gap'][6] = 'seventh'; // versions 1–6 deleted
    expect(await readKeyring(reader(), '/qm/gap')).toEqual({ current: 'seventh' });
  });

  it("rejects with the SDK's error name for a parameter that does not exist", async () => {
    await expect(reader()('/qm/none', { fresh: true })).rejects.toMatchObject({ name: 'ParameterNotFound' });
  });
});

const qm = (args: string[]) =>
  promisify(execFile)(process.execPath, ['bin/qm.mjs', ...args], {
    env: {
      ...process.env,
      QM_SECRET: '',
      AWS_ENDPOINT_URL_SSM: ssm.url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
      AWS_MAX_ATTEMPTS: '1',
    },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout.trim(), stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe('npx qm token --ssm-parameter', () => {
  it('mints with the secret in the parameter, through the same reader', async () => {
    store['/quartermaster/test/secret'] = ['retired', stack().secret];
    const host = uniqueHost('ssm');
    const r = await qm(['token', 'node', host, '--ssm-parameter', '/quartermaster/test/secret']);
    expect(r.code).toBe(0);
    const put = await call('PUT', `/nodes/${host}`, { token: r.stdout, body: makeReport(host, { seq: 1 }) });
    expect(put.status).toBe(200);
  });

  it('exits 1 naming the parameter and why when it cannot be read', async () => {
    const r = await qm(['token', 'operator', '--ssm-parameter', '/quartermaster/none/secret']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('qm: cannot read SSM parameter /quartermaster/none/secret: ParameterNotFound');
    expect(r.stdout).toBe('');
  });
});
