import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseNotification } from '../core/events';
import { ReportSchema } from '../core/nodes';
import { resolveConfig, resolveNotifyConfig } from './settings';
import {
  AGENT_BIN,
  cleanEnv,
  freePort,
  ROOT,
  removeTempDirs,
  run,
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
    expect(r.stderr).toContain(
      '--api-url (or QM_API_URL) and --token (or QM_TOKEN) or --token-file (or QM_TOKEN_FILE) required unless --print',
    );
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

  it('--token-file / QM_TOKEN_FILE: sends the token in the file; exits 2 on a missing file or on both sources', async () => {
    const server = await serve(200);
    const dir = tempDir('qm-agent-cli-token-');
    const file = join(dir, 'token');
    writeFileSync(file, 'qmn.from-file\n', { mode: 0o600 });
    const base = ['--once', '--api-url', server.url, '--host', 'file-host', '--instances-path', '/tmp'];
    const r = await runAgent([...base, '--state-file', stateFile()], cleanEnv({ QM_TOKEN_FILE: file }));
    expect(r.code).toBe(0);
    expect(server.requests[0]?.headers.authorization).toBe('Bearer qmn.from-file');
    const missing = await runAgent([...base, '--token-file', join(dir, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--token-file:');
    expect(missing.stderr).toContain('nope');
    const both = await runAgent([...base, '--token', 't', '--token-file', file]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give --token or --token-file, not both');
    expect(server.requests).toHaveLength(1);
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

  it('--log-format json / QM_LOG_FORMAT=json: the same fields, one JSON object a line', async () => {
    const server = await serve(200);
    const args = ['--once', '--api-url', server.url, '--token', 't', '--host', 'json-host', '--instances-path', '/tmp'];
    const lines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('{'));
    for (const r of [
      await runAgent([...args, '--log-format', 'json', '--state-file', stateFile()]),
      await runAgent([...args, '--state-file', stateFile()], cleanEnv({ QM_LOG_FORMAT: 'json' })),
    ]) {
      expect(r.code).toBe(0);
      const report = lines(r.stderr)
        .map((l) => JSON.parse(l))
        .find((o) => o.msg === 'report');
      expect(report).toMatchObject({ host: 'json-host', status: 200, reason: 'once' });
      expect(report.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(r.stderr).not.toMatch(/ report host=/);
    }
  });

  it('exits 2 naming --log-format when it is neither text nor json', async () => {
    for (const r of [
      await runAgent(['--print', '--log-format', 'xml']),
      await runAgent(['--print'], cleanEnv({ QM_LOG_FORMAT: 'xml' })),
    ]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("--log-format: 'xml' is not text or json");
    }
  });

  it.each([
    ['apiUrl', 'QM_API_URL', 'http://api', { apiUrl: 'http://api' }],
    ['token', 'QM_TOKEN', 'qmn.t', { token: 'qmn.t' }],
    ['interval', 'QM_INTERVAL', '30', { intervalMs: 30_000 }],
    ['instancesPath', 'QM_INSTANCES_PATH', '/srv/vms', { instancesPath: '/srv/vms' }],
    ['availabilityZone', 'QM_AVAILABILITY_ZONE', 'az-2', { availabilityZone: 'az-2' }],
    ['host', 'QM_HOST', 'twin-host', { host: 'twin-host' }],
    ['stateFile', 'QM_STATE_FILE', '/tmp/twin.json', { stateFile: '/tmp/twin.json' }],
    ['libvirtUri', 'QM_LIBVIRT_URI', 'test:///twin', { libvirtUri: 'test:///twin' }],
    ['pollInterval', 'QM_POLL_INTERVAL', '2', { pollMs: 2000 }],
    ['logFormat', 'QM_LOG_FORMAT', 'json', { logFormat: 'json' }],
  ] as const)('reads the %s flag and its env twin %s alike', (flag, env, value, expected) => {
    expect(resolveConfig({ [flag]: value }, {})).toMatchObject(expected);
    expect(resolveConfig({}, { [env]: value })).toMatchObject(expected);
    expect(resolveConfig({ [flag]: ` ${value} ` }, { [env]: '  ' })).toMatchObject(expected);
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

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:quartermaster-test-notifications';
const UUID = '882315da-fb95-4c50-814b-cda400eadc21';
const hasVirsh = await run('virsh', ['--version']).then(
  () => true,
  () => false,
);

describe('qm-agent settings for libvirt and notifications', () => {
  it('takes --libvirt-uri over its old name --virsh-uri, each flag over env, and defaults to qemu:///system', () => {
    expect(resolveConfig({}, {}).libvirtUri).toBe('qemu:///system');
    expect(resolveConfig({}, { QM_VIRSH_URI: 'test:///old' }).libvirtUri).toBe('test:///old');
    expect(resolveConfig({}, { QM_VIRSH_URI: 'test:///old', QM_LIBVIRT_URI: 'test:///new' }).libvirtUri).toBe(
      'test:///new',
    );
    expect(resolveConfig({ virshUri: 'test:///flag-old' }, { QM_LIBVIRT_URI: 'test:///env' }).libvirtUri).toBe(
      'test:///flag-old',
    );
    expect(resolveConfig({ virshUri: 'test:///a', libvirtUri: 'test:///b' }, {}).libvirtUri).toBe('test:///b');
  });

  it('publishes nothing without a topic, and polls every 5 s unless told otherwise', () => {
    const c = resolveConfig({}, {});
    expect(c.sns).toBeUndefined();
    expect(c.pollMs).toBe(5000);
    expect(resolveConfig({ pollInterval: '0.5' }, { QM_POLL_INTERVAL: '9' }).pollMs).toBe(500);
    expect(resolveConfig({}, { QM_POLL_INTERVAL: '9' }).pollMs).toBe(9000);
    expect(() => resolveConfig({ pollInterval: '0' }, {})).toThrow("--poll-interval: '0' is not a positive number");
  });

  it("reads the topic, endpoint and region from flags over env; the region defaults to AWS_REGION, then the topic's", () => {
    expect(resolveConfig({}, { QM_SNS_TOPIC_ARN: TOPIC }).sns).toEqual({ topicArn: TOPIC, region: 'eu-west-1' });
    expect(resolveConfig({}, { QM_SNS_TOPIC_ARN: TOPIC, AWS_REGION: 'us-east-2' }).sns?.region).toBe('us-east-2');
    expect(
      resolveConfig({ snsRegion: 'ap-south-1' }, { QM_SNS_TOPIC_ARN: TOPIC, QM_SNS_REGION: 'us-west-2' }).sns?.region,
    ).toBe('ap-south-1');
    expect(resolveConfig({}, { QM_SNS_TOPIC_ARN: TOPIC, QM_SNS_REGION: 'us-west-2' }).sns?.region).toBe('us-west-2');
    expect(
      resolveConfig(
        { snsTopicArn: TOPIC, snsEndpoint: 'http://127.0.0.1:4302' },
        { QM_SNS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:other', QM_SNS_ENDPOINT: 'http://127.0.0.1:1' },
      ).sns,
    ).toEqual({ topicArn: TOPIC, region: 'eu-west-1', endpoint: 'http://127.0.0.1:4302' });
  });

  it('refuses a topic that is not an SNS topic ARN, and an endpoint without a topic', () => {
    expect(() => resolveConfig({ snsTopicArn: 'quartermaster-notifications' }, {})).toThrow('--sns-topic-arn');
    expect(() => resolveConfig({ snsTopicArn: `${TOPIC}.fifo` }, {})).toThrow('--sns-topic-arn');
    expect(() => resolveConfig({ snsEndpoint: 'http://127.0.0.1:4302' }, {})).toThrow('--sns-endpoint needs');
    expect(() => resolveConfig({ snsTopicArn: TOPIC, snsEndpoint: '127.0.0.1:4302' }, {})).toThrow('--sns-endpoint: ');
  });

  it('lists the new flags and the notify command in --help, and not the old flag name', async () => {
    const r = await runAgent(['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--libvirt-uri', '--sns-topic-arn', '--sns-endpoint', '--sns-region', '--poll-interval']) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toMatch(/^ {2}notify \[options\] <event_type>/m);
    expect(r.stdout).not.toContain('--virsh-uri');
  });

  it('exits 2 on a bad topic or poll interval before doing anything', async () => {
    expect((await runAgent(['--print', '--sns-topic-arn', 'nope'])).code).toBe(2);
    const r = await runAgent(['--print', '--poll-interval', 'often']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--poll-interval: 'often' is not a positive number of seconds");
  });
});

describe('qm-agent notify', () => {
  const flags = { snsTopicArn: TOPIC, instance: UUID, vcpus: '2', memoryMb: '2048', diskGb: '20', host: 'hv-1' };

  it('builds a notification the notify function accepts', () => {
    const c = resolveNotifyConfig('compute.instance.create.end', flags, {});
    expect(c).toMatchObject({
      host: 'hv-1',
      eventType: 'compute.instance.create.end',
      sns: { topicArn: TOPIC, region: 'eu-west-1' },
      payload: { instance_id: UUID, vcpus: 2, memory_mb: 2048, disk_gb: 20, host: 'hv-1' },
    });
    const del = resolveNotifyConfig('compute.instance.delete.end', { snsTopicArn: TOPIC, instance: UUID }, {});
    expect(del.payload).toEqual({ instance_id: UUID, host: del.host });
  });

  it.each([
    [['compute.instance.create.end', '--instance', UUID], 'needs --vcpus, --memory-mb and --disk-gb'],
    [['compute.instance.delete.end'], '--instance <uuid> is required'],
    [['compute.instance.delete.end', '--instance', 'vm-1'], "--instance: 'vm-1' is not a uuid"],
    [['compute.instance.delete.end', '--instance', UUID, '--vcpus', 'two'], "--vcpus: 'two' is not a whole number"],
    [['instance.gone', '--instance', UUID], 'UnknownEventType: instance.gone'],
  ])('exits 2 on %j', async (args, message) => {
    const r = await runAgent(['notify', ...args, '--sns-topic-arn', TOPIC]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('exits 2 without a topic, and on a missing event type', async () => {
    const r = await runAgent(['notify', 'compute.instance.delete.end', '--instance', UUID]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--sns-topic-arn (or QM_SNS_TOPIC_ARN) is required');
    expect((await runAgent(['notify', '--sns-topic-arn', TOPIC])).code).toBe(2);
  });

  it('exits 1 and keeps the notification in the outbox when SNS cannot be reached, all from env', async () => {
    const state = stateFile();
    const env = cleanEnv({
      QM_SNS_TOPIC_ARN: TOPIC,
      QM_SNS_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
      QM_STATE_FILE: state,
      QM_HOST: 'hook-host',
    });
    const args = ['notify', 'compute.instance.create.end', '--instance', UUID, '--vcpus', '1'];
    const r = await runAgent([...args, '--memory-mb', '512', '--disk-gb', '1'], env);
    expect(r.code).toBe(1);
    const id = r.stdout.trim();
    expect(r.stderr).toContain(`message_id=${id} status=queued pending=1`);
    const files = readdirSync(`${state}.outbox`).filter((f) => f.endsWith('.json'));
    expect(files).toEqual(['0000000000000001.json']);
    const body = readFileSync(join(`${state}.outbox`, files[0] ?? ''), 'utf8');
    expect(parseNotification(body)).toMatchObject({
      message_id: id,
      host: 'hook-host',
      kind: 'create_end',
      instance: UUID,
      vcpus: 1,
      memory_mb: 512,
      disk_gb: 1,
    });
  });
});

describe('qm-agent notify when its outbox cannot be written', () => {
  it('exits 1 and says why', async () => {
    const blocker = join(tempDir('qm-agent-cli-'), 'a-file');
    writeFileSync(blocker, '');
    const r = await runAgent([
      'notify',
      'compute.instance.delete.end',
      '--instance',
      UUID,
      '--sns-topic-arn',
      TOPIC,
      '--state-file',
      join(blocker, 'agent.json'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      / notify host=\S+ event=compute\.instance\.delete\.end instance=\S+ message_id=\S+ status=error .*ENOTDIR/,
    );
  });
});

describe.skipIf(!hasVirsh)('the running agent with a topic', () => {
  it('queues delete.end and create.end on disk when libvirt domains are swapped and SNS is away', async () => {
    const server = await serve(200);
    const dir = tempDir('qm-agent-watch-');
    const node = join(dir, 'node.xml');
    const fixture = (name: string) => join(ROOT, 'agent', 'fixtures', name);
    const swapTo = (name: string) => {
      copyFileSync(fixture(name), `${node}.tmp`);
      renameSync(`${node}.tmp`, node);
    };
    swapTo('node-three-domains.xml');
    const state = join(dir, 'agent.json');
    const child = spawn(
      process.execPath,
      [AGENT_BIN, '--api-url', server.url, '--token', 't', '--host', 'watch-host', '--instances-path', '/tmp'],
      {
        cwd: ROOT,
        env: cleanEnv({
          QM_STATE_FILE: state,
          QM_LIBVIRT_URI: `test://${node}`,
          QM_SNS_TOPIC_ARN: TOPIC,
          QM_SNS_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
          QM_POLL_INTERVAL: '0.2',
        }),
      },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor(() => / domains host=watch-host count=3 reason=start note=/.test(stderr), 30_000, 'the first look');
      expect(existsSync(`${state}.domains.json`)).toBe(true);
      swapTo('node-swapped.xml');
      const queued = () =>
        (existsSync(`${state}.outbox`) ? readdirSync(`${state}.outbox`) : []).filter((f) => f.endsWith('.json'));
      await waitFor(() => queued().length === 2, 30_000, 'two queued notifications');
      const bodies = queued().map((f) => parseNotification(readFileSync(join(`${state}.outbox`, f), 'utf8')));
      expect(bodies.map((e) => [e.kind, 'instance' in e ? e.instance : ''])).toEqual([
        ['release', '882315da-fb95-4c50-814b-cda400eadc21'],
        ['create_end', '5c01bcc9-1ed4-4753-8d24-e92c145608ba'],
      ]);
      expect(bodies[1]).toMatchObject({ host: 'watch-host', vcpus: 4, memory_mb: 4096 });
      await waitFor(
        () => / notify host=watch-host status=error pending=2 retry_in=\S+ error=/.test(stderr),
        30_000,
        'the failed send',
      );
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/ stop host=watch-host/);
  });
});
