import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Notification, notification } from './notifications';
import { isLoopback, Outbox, type Publish } from './outbox';
import { lineLog, removeTempDirs, tempDir } from './test-support';

afterAll(removeTempDirs);

let counter = 0;
const note = (event = 'compute.instance.delete.end'): Notification =>
  notification(
    'host-a',
    event,
    { instance_id: '882315da-fb95-4c50-814b-cda400eadc21', host: 'host-a' },
    new Date(),
    () => `m-${++counter}`,
  );

/** A publish that records bodies and fails while `down()` says so. */
const recorder = (down: () => boolean = () => false) => {
  const bodies: string[] = [];
  const publish: Publish = async (body) => {
    if (down()) throw new Error('connect ECONNREFUSED 127.0.0.1:4302');
    bodies.push(body);
  };
  return { bodies, ids: () => bodies.map((b) => (JSON.parse(b) as Notification).message_id), publish };
};

const fresh = () => new Outbox(join(tempDir('qm-outbox-'), 'agent.json.outbox'), { lockWaitMs: 200 });

describe('Outbox', () => {
  it('keeps each message in a file of its own, named by a growing sequence, with nothing half-written', async () => {
    const box = fresh();
    const msgs = [note(), note(), note()];
    await box.enqueue(msgs);
    const files = readdirSync(box.dir);
    expect(files).toEqual(['0000000000000001.json', '0000000000000002.json', '0000000000000003.json']);
    expect(JSON.parse(readFileSync(join(box.dir, files[0] ?? ''), 'utf8'))).toEqual(msgs[0]);
    await box.enqueue([note()]);
    expect(readdirSync(box.dir).at(-1)).toBe('0000000000000004.json');
  });

  it('sends in order and deletes each message only once publish resolved', async () => {
    const box = fresh();
    const msgs = [note(), note(), note()];
    await box.enqueue(msgs);
    const seenBefore: number[] = [];
    const publish: Publish = async () => {
      seenBefore.push(readdirSync(box.dir).filter((f) => f.endsWith('.json')).length);
    };
    const result = await box.flush(publish);
    expect(result.sent.map((n) => n.message_id)).toEqual(msgs.map((n) => n.message_id));
    expect(result).toMatchObject({ pending: 0 });
    expect(result.error).toBeUndefined();
    // While message k is being sent, it and the ones after it are still on disk.
    expect(seenBefore).toEqual([3, 2, 1]);
    expect(readdirSync(box.dir).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('sends the JSON of the notification as the message body', async () => {
    const box = fresh();
    const n = note();
    await box.enqueue([n]);
    const r = recorder();
    await box.flush(r.publish);
    expect(r.bodies.map((b) => JSON.parse(b))).toEqual([n]);
  });

  it('stops at the first failure, keeps the rest in order, and resends them later with their ids', async () => {
    const box = fresh();
    const msgs = [note(), note(), note(), note()];
    await box.enqueue(msgs);
    let calls = 0;
    const flaky: Publish = async () => {
      calls += 1;
      if (calls === 2) throw new Error('connect ECONNREFUSED 127.0.0.1:4302');
    };
    const first = await box.flush(flaky);
    expect(first.sent.map((n) => n.message_id)).toEqual([msgs[0]?.message_id]);
    expect(first.pending).toBe(3);
    expect(first.error).toContain('ECONNREFUSED');
    expect((await box.list()).map((n) => n.message_id)).toEqual(msgs.slice(1).map((n) => n.message_id));

    const later = [note()];
    await box.enqueue(later);
    const r = recorder();
    const second = await box.flush(r.publish);
    expect(r.ids()).toEqual([...msgs.slice(1), ...later].map((n) => n.message_id));
    expect(second).toMatchObject({ pending: 0 });
  });

  it('keeps everything while the topic stays away, and loses nothing across a new Outbox on the same directory', async () => {
    const box = fresh();
    let down = true;
    const r = recorder(() => down);
    const msgs = [note('compute.instance.create.end'), note(), note('compute.instance.create.end')];
    for (const m of msgs) {
      await box.enqueue([m]);
      expect((await box.flush(r.publish)).sent).toEqual([]);
    }
    expect(r.bodies).toEqual([]);
    down = false;
    const again = new Outbox(box.dir);
    expect((await again.flush(r.publish)).pending).toBe(0);
    expect(r.ids()).toEqual(msgs.map((n) => n.message_id));
  });

  it('adds a message_id already queued only once', async () => {
    const box = fresh();
    const n = note();
    await box.enqueue([n]);
    await box.enqueue([n, n]);
    expect(await box.size()).toBe(1);
  });

  it('loses nothing when two writers enqueue at the same time', async () => {
    const dir = join(tempDir('qm-outbox-'), 'o');
    const a = new Outbox(dir);
    const b = new Outbox(dir);
    const as = Array.from({ length: 20 }, () => note());
    const bs = Array.from({ length: 20 }, () => note());
    await Promise.all([...as.map((m) => a.enqueue([m])), ...bs.map((m) => b.enqueue([m]))]);
    const queued = (await a.list()).map((n) => n.message_id);
    expect(new Set(queued)).toEqual(new Set([...as, ...bs].map((n) => n.message_id)));
    // Each writer's own order holds.
    const order = (mine: Notification[]) => queued.filter((id) => mine.some((m) => m.message_id === id));
    expect(order(as)).toEqual(as.map((n) => n.message_id));
    expect(order(bs)).toEqual(bs.map((n) => n.message_id));
  });

  it('sets a file that is not a notification aside, keeps it, and sends the rest', async () => {
    const box = fresh();
    await box.enqueue([note()]);
    writeFileSync(join(box.dir, '0000000000000002.json'), '{"half":');
    const n = note();
    await box.enqueue([n]);
    const lines: string[] = [];
    const withLog = new Outbox(box.dir, { log: lineLog(lines) });
    const r = recorder();
    expect((await withLog.flush(r.publish)).pending).toBe(0);
    expect(r.bodies).toHaveLength(2);
    expect(r.ids().at(-1)).toBe(n.message_id);
    expect(readdirSync(box.dir)).toContain('0000000000000002.json.corrupt');
    expect(lines.join('\n')).toContain('0000000000000002.json.corrupt');
  });

  it('waits while another live process flushes, and gives up with the messages kept', async () => {
    const box = fresh();
    await box.enqueue([note()]);
    // A live process that is not us holds the lock.
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(box.dir, '.lock'), `${holder.pid}\n`);
      const r = recorder();
      const result = await box.flush(r.publish);
      expect(result).toMatchObject({ sent: [], pending: 1, error: 'another process is flushing the outbox' });
      expect(r.bodies).toEqual([]);
    } finally {
      holder.kill();
    }
  });

  it('takes over the lock of a process that died', async () => {
    const box = fresh();
    await box.enqueue([note()]);
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    const pid = gone.pid;
    await new Promise((r) => gone.once('exit', r));
    writeFileSync(join(box.dir, '.lock'), `${pid}\n`);
    const r = recorder();
    expect((await box.flush(r.publish)).pending).toBe(0);
    expect(r.bodies).toHaveLength(1);
    expect(readdirSync(box.dir)).not.toContain('.lock');
  });

  it('flushes an empty or missing outbox as a no-op', async () => {
    const r = recorder();
    expect(await fresh().flush(r.publish)).toEqual({ sent: [], pending: 0 });
    expect(r.bodies).toEqual([]);
  });
});

describe('isLoopback', () => {
  it('tells a local stack from a remote endpoint', () => {
    expect(isLoopback('http://127.0.0.1:4302')).toBe(true);
    expect(isLoopback('http://localhost:4002')).toBe(true);
    expect(isLoopback('http://[::1]:4002')).toBe(true);
    expect(isLoopback('https://sns.eu-west-1.amazonaws.com')).toBe(false);
    expect(isLoopback('https://vpce-0abc.sns.eu-west-1.vpce.amazonaws.com')).toBe(false);
    expect(isLoopback('not a url')).toBe(false);
  });
});
