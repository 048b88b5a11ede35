import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { documentClient } from '../adapters/dynamodb/client';
import { AGENT_BIN, cleanEnv, freePort, ROOT, removeTempDirs, tempDir, waitFor } from '../agent/test-support';
import type { NodeView } from '../core/nodes';
import { stopChild } from '../scripts/lib/stack';
import { call, report, stack, tokenFor, uniqueHost } from './helpers';

/**
 * The agent as Nova's compute manager, end to end: libvirt's test driver on a node
 * XML we swap between looks → the agent's diff → its outbox → the local SNS endpoint →
 * the notify function → the events table and the node's ledger.
 */

const db = documentClient('us-east-1', stack().dynamodbUrl);
const agents: ChildProcess[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await stopChild(a);
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise((r) => {
          s.closeAllConnections();
          s.close(r);
        }),
    ),
  );
});
afterAll(() => {
  db.destroy();
  removeTempDirs();
});

const FIXTURES = join(ROOT, 'agent', 'fixtures');
const GONE = '882315da-fb95-4c50-814b-cda400eadc21';
const CAME = '5c01bcc9-1ed4-4753-8d24-e92c145608ba';
const CREATE_END = 'compute.instance.create.end';
const DELETE_END = 'compute.instance.delete.end';

/** A node XML at one path, swapped atomically (the test driver reads it afresh per connection). */
const nodeXml = () => {
  const path = join(tempDir('qm-agent-notify-'), 'node.xml');
  const swapTo = (fixture: 'node-three-domains.xml' | 'node-swapped.xml') => {
    copyFileSync(join(FIXTURES, fixture), `${path}.tmp`);
    renameSync(`${path}.tmp`, path);
  };
  swapTo('node-three-domains.xml');
  return { uri: `test://${path}`, swapTo };
};

/** Starts the agent with the test driver and a topic; its stderr collects in `log()`. */
const startAgent = (o: { host: string; uri: string; stateFile: string; snsEndpoint: string }) => {
  const child = spawn(
    process.execPath,
    [
      AGENT_BIN,
      '--api-url',
      stack().baseUrl,
      '--token',
      tokenFor(o.host),
      '--host',
      o.host,
      '--instances-path',
      '/var/lib/nova/instances',
      '--libvirt-uri',
      o.uri,
      '--state-file',
      o.stateFile,
      '--sns-topic-arn',
      stack().topicArn,
      '--sns-endpoint',
      o.snsEndpoint,
      '--poll-interval',
      '0.25',
    ],
    { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  agents.push(child);
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    log: () => log,
    /** [event_type, instance, message_id] of each notification the agent logged as sent. */
    sent: () =>
      [...log.matchAll(/ notify host=\S+ event=(\S+) instance=(\S+) message_id=(\S+) status=sent/g)].map((m) => [
        m[1],
        m[2],
        m[3],
      ]),
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
};

const until = async <T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
};

/** The notify function's idempotency record of a message: it exists once the message was applied. */
const applied = (id: string) =>
  until(`message ${id} applied`, async () => {
    const out = await db.send(new GetCommand({ TableName: stack().eventsTable, Key: { id }, ConsistentRead: true }));
    return out.Item as { id: string; host: string; event_type: string } | undefined;
  });

/** Every message notify applied for `host`. */
const appliedFor = async (host: string) => {
  const out = await db.send(
    new ScanCommand({
      TableName: stack().eventsTable,
      FilterExpression: '#h = :h',
      ExpressionAttributeNames: { '#h': 'host' },
      ExpressionAttributeValues: { ':h': host },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []) as { id: string; event_type: string }[];
};

const node = async (host: string) => {
  const r = await call<NodeView>('GET', `/nodes/${host}`);
  return r.status === 200 ? r.body : undefined;
};

const outboxOf = (stateFile: string) => {
  const dir = `${stateFile}.outbox`;
  const files = () =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.json'))
          .sort()
      : [];
  return {
    files,
    ids: () =>
      files().map((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { message_id: string }).message_id),
  };
};

/** An HTTP proxy to the local SNS that records the message of each Publish, in the order received. */
const recordingProxy = (port: number, target: string): Promise<{ messages: string[] }> => {
  const messages: string[] = [];
  const to = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const params = new URLSearchParams(body.toString('utf8'));
      if (params.get('Action') === 'Publish') messages.push(params.get('Message') ?? '');
      const out = request(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      out.end(body);
    });
  });
  servers.push(server);
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      expect((server.address() as AddressInfo).port).toBe(port);
      done({ messages });
    });
  });
};

describe('the agent publishes lifecycle notifications', () => {
  it('turns a swap of libvirt domains between two looks into exactly one delete.end and one create.end that notify applies', async () => {
    const host = uniqueHost('an');
    const xml = nodeXml();
    const stateFile = join(tempDir('qm-agent-notify-'), 'agent.json');
    const agent = startAgent({ host, uri: xml.uri, stateFile, snsEndpoint: stack().snsUrl });
    // The first look announces nothing (what runs at first start was there before the agent).
    await until('the first report', () => node(host));
    await waitFor(() => / domains host=\S+ count=3 reason=start /.test(agent.log()), 30_000, 'the first look');
    expect(agent.sent()).toEqual([]);

    xml.swapTo('node-swapped.xml');
    await waitFor(() => agent.sent().length >= 2, 30_000, 'two notifications sent');
    const sent = agent.sent();
    expect(sent.map(([type, instance]) => [type, instance])).toEqual([
      [DELETE_END, GONE],
      [CREATE_END, CAME],
    ]);
    const [[, , deleteId], [, , createId]] = sent as [string[], string[]];
    expect(await applied(deleteId ?? '')).toMatchObject({ host, event_type: DELETE_END });
    expect(await applied(createId ?? '')).toMatchObject({ host, event_type: CREATE_END });

    // The reporter follows with the new instance list; by then notify has seen these two and no more.
    await waitFor(() => / report host=\S+ seq=\d+ status=200 reason=change /.test(agent.log()), 30_000, 'a report');
    const after = await until('the node with the swapped instances', async () => {
      const n = await node(host);
      return n?.instances.map((i) => i.uuid).includes(CAME) ? n : undefined;
    });
    expect(after.instances.map((i) => i.uuid)).not.toContain(GONE);
    expect(after.running_vms).toBe(3);
    // Whichever came first, report or events, each instance is counted once: nothing pending on top.
    expect(after.announced).toEqual([]);
    expect(after.released).toEqual([]);
    expect(after.claims).toEqual([]);
    expect(after.free_ram_mb).toBe(after.memory_mb - after.memory_mb_used);
    expect((await appliedFor(host)).map((e) => e.id).sort()).toEqual([deleteId, createId].sort());
    expect(agent.sent()).toHaveLength(2);
    expect(await agent.stop()).toBe(0);
  }, 120_000);

  it('keeps notifications on disk while SNS is unreachable and delivers all, in order, with their ids, once it is back', async () => {
    const host = uniqueHost('ao');
    const xml = nodeXml();
    const stateFile = join(tempDir('qm-agent-notify-'), 'agent.json');
    const outbox = outboxOf(stateFile);
    // Nothing listens here yet: the topic is away.
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;

    const first = startAgent({ host, uri: xml.uri, stateFile, snsEndpoint: endpoint });
    await until('the first report', () => node(host));
    await waitFor(() => / domains host=\S+ count=3 reason=start /.test(first.log()), 30_000, 'the first look');
    xml.swapTo('node-swapped.xml');
    await waitFor(() => / notify .*status=error pending=2 /.test(first.log()), 30_000, 'two queued');
    xml.swapTo('node-three-domains.xml');
    await waitFor(() => / notify .*status=error pending=4 /.test(first.log()), 30_000, 'four queued');
    expect(await first.stop()).toBe(0);
    expect(first.sent()).toEqual([]);

    const queued = outbox.ids();
    expect(queued).toHaveLength(4);
    const bodies = outbox
      .files()
      .map((f) => JSON.parse(readFileSync(join(`${stateFile}.outbox`, f), 'utf8')) as Record<string, any>);
    expect(bodies.map((b) => [b.event_type, b.payload.instance_id])).toEqual([
      [DELETE_END, GONE],
      [CREATE_END, CAME],
      [DELETE_END, CAME],
      [CREATE_END, GONE],
    ]);
    for (const id of queued) {
      const out = await db.send(new GetCommand({ TableName: stack().eventsTable, Key: { id }, ConsistentRead: true }));
      expect(out.Item).toBeUndefined();
    }

    // SNS is back (through a proxy that records what it is sent), and the agent starts again on the same state.
    const proxy = await recordingProxy(port, stack().snsUrl);
    const second = startAgent({ host, uri: xml.uri, stateFile, snsEndpoint: endpoint });
    await waitFor(() => proxy.messages.length >= 4, 60_000, 'the queued notifications');
    expect(proxy.messages.map((m) => JSON.parse(m).message_id)).toEqual(queued);
    for (const [i, id] of queued.entries()) {
      expect(await applied(id)).toMatchObject({ host, event_type: bodies[i]?.event_type });
    }
    // The domains are as the first agent last saw them: the restart announces nothing new. (Its first
    // look diffs before it flushes, so anything new would be queued behind the four and sent with them.)
    await waitFor(() => outbox.files().length === 0, 10_000, 'an empty outbox');
    await waitFor(() => second.sent().length >= 4, 10_000, 'the sends logged');
    expect(second.sent().map(([, , id]) => id)).toEqual(queued);
    expect(proxy.messages).toHaveLength(4);
    expect(await second.stop()).toBe(0);
  }, 180_000);
});

const runNotify = (args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string }> =>
  new Promise((done) => {
    execFile(process.execPath, [AGENT_BIN, 'notify', ...args], { cwd: ROOT, env: cleanEnv(env) }, (e, stdout) =>
      done({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout }),
    );
  });

/** Runs deploy/libvirt-hook-qemu as libvirtd would, with a domain's XML on stdin. */
const runHook = (args: string[], xml: string, env: Record<string, string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(resolve(ROOT, 'deploy/libvirt-hook-qemu'), args, { cwd: ROOT, env: cleanEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('close', (code) => done({ code, stdout, stderr }));
    // libvirtd writes the XML whether or not the hook reads it; a hook that exits first is no error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(xml);
  });

const dumpxml = (uri: string, domain: string) =>
  new Promise<string>((done, fail) =>
    execFile('virsh', ['--readonly', '-c', uri, 'dumpxml', domain], (e, stdout) => (e ? fail(e) : done(stdout))),
  );

describe('qm-agent notify', () => {
  it('publishes one notification that notify applies', async () => {
    const host = uniqueHost('nq');
    expect((await report(host)).status).toBe(200);
    const instance = '2f0b6d3e-4a51-4c7a-9a53-0d8c1e5b7a11';
    const r = await runNotify(
      [CREATE_END, '--instance', instance, '--vcpus', '2', '--memory-mb', '1024', '--disk-gb', '10', '--host', host],
      {
        QM_SNS_TOPIC_ARN: stack().topicArn,
        QM_SNS_ENDPOINT: stack().snsUrl,
        QM_STATE_FILE: join(tempDir('qm-notify-'), 'hook.json'),
      },
    );
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    expect(await applied(id)).toMatchObject({ host, event_type: CREATE_END });
    const n = await until('the announced instance', async () => {
      const v = await node(host);
      return v?.announced.some((a) => a.instance_uuid === instance) ? v : undefined;
    });
    expect(n.announced).toMatchObject([{ instance_uuid: instance, vcpus: 2, memory_mb: 1024, disk_gb: 10 }]);
  });

  it('is what the example libvirt hook runs: started announces the domain, release releases it', async () => {
    const host = uniqueHost('nh');
    expect((await report(host)).status).toBe(200);
    const xml = await dumpxml(nodeXml().uri, 'instance-00000001');
    const env = {
      QM_SNS_TOPIC_ARN: stack().topicArn,
      QM_SNS_ENDPOINT: stack().snsUrl,
      QM_STATE_FILE: join(tempDir('qm-hook-'), 'hook.json'),
      QM_HOST: host,
      QM_AGENT: `${process.execPath} ${AGENT_BIN}`,
      QM_HOOK_FOREGROUND: '1',
      QM_HOOK_ENV_FILE: '/nonexistent',
    };
    const started = await runHook(['instance-00000001', 'started', 'begin', '-'], xml, env);
    expect(started.code).toBe(0);
    expect(await applied(started.stdout.trim())).toMatchObject({ host, event_type: CREATE_END });
    // vcpus and memory from the domain XML; no Nova metadata in it, so disk_gb 0.
    const announced = await until('the announced domain', async () => {
      const v = await node(host);
      return v?.announced.some((a) => a.instance_uuid === GONE) ? v : undefined;
    });
    expect(announced.announced).toMatchObject([{ instance_uuid: GONE, vcpus: 2, memory_mb: 2048, disk_gb: 0 }]);

    const released = await runHook(['instance-00000001', 'release', 'end', '-'], xml, env);
    expect(released.code).toBe(0);
    expect(await applied(released.stdout.trim())).toMatchObject({ host, event_type: DELETE_END });
    await until('the domain released', async () => {
      const v = await node(host);
      return v && !v.announced.some((a) => a.instance_uuid === GONE) ? v : undefined;
    });

    // Any other operation is not a lifecycle event here.
    const other = await runHook(['instance-00000001', 'prepare', 'begin', '-'], xml, env);
    expect(other).toMatchObject({ code: 0, stdout: '' });
  });
});
