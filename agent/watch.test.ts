import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Instance } from '../core/nodes';
import { CREATE_END, DELETE_END, type Notification } from './notifications';
import { Outbox, type Publish } from './outbox';
import { seenFile } from './seen';
import { lineLog, removeTempDirs, tempDir, waitFor } from './test-support';
import { DomainTracker, type LookReason } from './tracker';
import { eventsUsable, isLifecycleLine } from './virsh';
import { watchLibvirt } from './watch';

afterAll(removeTempDirs);

const A: Instance = { uuid: '882315da-fb95-4c50-814b-cda400eadc21', vcpus: 2, memory_mb: 2048, disk_gb: 20 };
const B: Instance = { uuid: '6b29edcd-00fd-4019-8e84-cc16b7afec19', vcpus: 1, memory_mb: 976, disk_gb: 10 };
const D: Instance = { uuid: '5c01bcc9-1ed4-4753-8d24-e92c145608ba', vcpus: 4, memory_mb: 4096, disk_gb: 40 };

/** A tracker over a scripted domain list and a publish that records, or fails while `down`. */
const setup = (stateFile = join(tempDir('qm-watch-'), 'agent.json')) => {
  const world = { domains: [A, B] as Instance[], listed: undefined as Set<string> | undefined, down: false };
  const sent: Notification[] = [];
  const publish: Publish = async (body) => {
    if (world.down) throw new Error('connect ECONNREFUSED 127.0.0.1:4302');
    sent.push(JSON.parse(body) as Notification);
  };
  const lines: string[] = [];
  const make = (outbox: Outbox = Outbox.forStateFile(stateFile)) =>
    new DomainTracker({
      host: 'host-a',
      stateFile,
      outbox,
      publish,
      list: async () => {
        if (world.domains === undefined) throw new Error('virsh list: failed to connect to the hypervisor');
        return world.domains;
      },
      listed: async () => world.listed ?? new Set(world.domains.map((d) => d.uuid)),
      log: lineLog(lines),
      backoffBaseMs: 10,
      backoffCapMs: 20,
      random: () => 1,
    });
  return { world, sent, lines, stateFile, make };
};
const kinds = (ns: Notification[]) => ns.map((n) => [n.event_type, n.payload.instance_id]);

describe('DomainTracker', () => {
  it('logs a libvirt that does not answer once, until it answers or the reason changes', async () => {
    const s = setup();
    const t = s.make();
    s.world.domains = undefined as unknown as Instance[];
    for (let i = 0; i < 3; i++) expect((await t.look('poll')).kind).toBe('failed');
    const failures = () => s.lines.filter((l) => / domains .*error=/.test(l));
    expect(failures()).toHaveLength(1);
    s.world.domains = [A];
    expect((await t.look('poll')).kind).toBe('baseline');
    s.world.domains = undefined as unknown as Instance[];
    await t.look('poll');
    expect(failures()).toHaveLength(2);
    await t.stop();
  });

  it('announces nothing on the very first look, and remembers what runs', async () => {
    const s = setup();
    const t = s.make();
    expect(await t.look('start')).toMatchObject({ kind: 'baseline', notifications: [] });
    expect(s.sent).toEqual([]);
    const seen = JSON.parse(readFileSync(seenFile(s.stateFile), 'utf8'));
    expect(seen).toMatchObject({ host: 'host-a', domains: [A, B], pending: [] });
    await t.stop();
  });

  it('publishes delete.end then create.end when domains are swapped between two looks', async () => {
    const s = setup();
    const t = s.make();
    await t.look('start');
    s.world.domains = [B, D];
    const r = await t.look('poll');
    expect(r.kind).toBe('changed');
    expect(kinds(s.sent)).toEqual([
      [DELETE_END, A.uuid],
      [CREATE_END, D.uuid],
    ]);
    expect(s.sent[0]).toMatchObject({ publisher_id: 'compute.host-a', payload: { vcpus: 2, memory_mb: 2048 } });
    expect(s.sent[1]).toMatchObject({ payload: { vcpus: 4, memory_mb: 4096, disk_gb: 40, host: 'host-a' } });
    expect(s.lines.filter((l) => / notify .*status=sent/.test(l))).toHaveLength(2);
    // Nothing changed since: nothing more.
    expect((await t.look('poll')).kind).toBe('same');
    expect(s.sent).toHaveLength(2);
    await t.stop();
  });

  it('after a restart publishes what changed while it was down, and nothing when nothing did', async () => {
    const s = setup();
    const first = s.make();
    await first.look('start');
    await first.stop();
    s.world.domains = [A, D];
    const second = s.make();
    expect((await second.look('start')).kind).toBe('changed');
    expect(kinds(s.sent)).toEqual([
      [DELETE_END, B.uuid],
      [CREATE_END, D.uuid],
    ]);
    await second.stop();
    const third = s.make();
    expect((await third.look('start')).kind).toBe('same');
    expect(s.sent).toHaveLength(2);
    await third.stop();
  });

  it('takes a look libvirt could not answer as no look: no notification, last-seen set kept', async () => {
    const s = setup();
    const t = s.make();
    await t.look('start');
    s.world.domains = undefined as unknown as Instance[];
    expect((await t.look('poll')).kind).toBe('failed');
    expect(s.sent).toEqual([]);
    expect(s.lines.join('\n')).toContain('failed to connect to the hypervisor');
    s.world.domains = [A, B];
    expect((await t.look('poll')).kind).toBe('same');
    await t.stop();
  });

  it('does not take a domain libvirt still lists for gone, even when it could not be described', async () => {
    const s = setup();
    const t = s.make();
    await t.look('start');
    // dominfo failed for A: the list came back without it, but `virsh list` still has it.
    s.world.domains = [B];
    s.world.listed = new Set([A.uuid, B.uuid]);
    expect((await t.look('poll')).kind).toBe('same');
    expect(s.sent).toEqual([]);
    s.world.listed = undefined;
    expect(kinds((await t.look('poll')).notifications)).toEqual([[DELETE_END, A.uuid]]);
    await t.stop();
  });

  it('keeps notifications on disk while the topic is away and sends them, in order and with their ids, once back', async () => {
    const s = setup();
    const t = s.make();
    await t.look('start');
    s.world.down = true;
    s.world.domains = [B, D];
    const r1 = await t.look('event');
    s.world.domains = [A, B];
    const r2 = await t.look('event');
    expect(r2.flush).toMatchObject({ pending: 4 });
    const queued = [...r1.notifications, ...r2.notifications];
    expect((await Outbox.forStateFile(s.stateFile).list()).map((n) => n.message_id)).toEqual(
      queued.map((n) => n.message_id),
    );
    expect(s.lines.some((l) => / notify .*status=error pending=4 retry_in=/.test(l))).toBe(true);
    s.world.down = false;
    // The tracker retries on its own (backoff), no new look needed.
    await waitFor(() => s.sent.length === 4, 5000, 'the queued notifications');
    expect(s.sent.map((n) => n.message_id)).toEqual(queued.map((n) => n.message_id));
    expect(kinds(s.sent)).toEqual([
      [DELETE_END, A.uuid],
      [CREATE_END, D.uuid],
      [DELETE_END, D.uuid],
      [CREATE_END, A.uuid],
    ]);
    await t.stop();
  });

  it('journals a diff before the outbox, so one the outbox could not take is replayed with the same ids', async () => {
    const s = setup();
    const t = s.make();
    await t.look('start');
    await t.stop();
    let full = true;
    class FullDisk extends Outbox {
      override enqueue(msgs: readonly Notification[]): Promise<void> {
        if (!full) return super.enqueue(msgs);
        full = false;
        return Promise.reject(new Error('ENOSPC: no space left on device'));
      }
    }
    s.world.domains = [B, D];
    const tracker = s.make(new FullDisk(`${s.stateFile}.outbox`));
    await expect(tracker.look('poll')).rejects.toThrow('ENOSPC');
    const journal = JSON.parse(readFileSync(seenFile(s.stateFile), 'utf8')).pending as Notification[];
    expect(kinds(journal)).toEqual([
      [DELETE_END, A.uuid],
      [CREATE_END, D.uuid],
    ]);
    // The next look (here the same process; a restart does the same from the file) replays it.
    expect((await tracker.look('poll')).kind).toBe('same');
    expect(s.sent.map((n) => n.message_id)).toEqual(journal.map((n) => n.message_id));
    expect(JSON.parse(readFileSync(seenFile(s.stateFile), 'utf8')).pending).toEqual([]);
    await tracker.stop();
  });

  it('replays a diff journaled before a crash exactly once, with the same ids', async () => {
    const s = setup();
    const t = s.make();
    await t.look('start');
    await t.stop();
    // A crash after the journal write: the last-seen file holds the diff, the outbox may hold part of it.
    const journaled: Notification[] = [
      {
        message_id: 'journaled-1',
        event_type: DELETE_END,
        publisher_id: 'compute.host-a',
        timestamp: '2026-11-23T10:00:00.000Z',
        priority: 'INFO',
        payload: { instance_id: A.uuid, host: 'host-a' },
      },
      {
        message_id: 'journaled-2',
        event_type: CREATE_END,
        publisher_id: 'compute.host-a',
        timestamp: '2026-11-23T10:00:00.000Z',
        priority: 'INFO',
        payload: { instance_id: D.uuid, vcpus: 4, memory_mb: 4096, disk_gb: 40, host: 'host-a' },
      },
    ];
    await Outbox.forStateFile(s.stateFile).enqueue(journaled.slice(0, 1));
    writeFileSync(seenFile(s.stateFile), JSON.stringify({ host: 'host-a', domains: [B, D], pending: journaled }));
    s.world.domains = [B, D];
    const after = s.make();
    expect((await after.look('start')).kind).toBe('same');
    expect(s.sent.map((n) => n.message_id)).toEqual(['journaled-1', 'journaled-2']);
    expect(JSON.parse(readFileSync(seenFile(s.stateFile), 'utf8')).pending).toEqual([]);
    await after.stop();
  });
});

describe('when the agent can hear libvirt', () => {
  it('polls the test driver, whose state is per connection', () => {
    expect(eventsUsable('test:///default')).toBe(false);
    expect(eventsUsable('test:///srv/node.xml')).toBe(false);
    expect(eventsUsable('qemu:///system')).toBe(true);
    expect(eventsUsable('qemu+ssh://root@host/system')).toBe(true);
    expect(eventsUsable('xen:///system')).toBe(true);
  });

  it('acts on lifecycle lines only', () => {
    expect(isLifecycleLine("event 'lifecycle' for domain 'vm1': Started Booted")).toBe(true);
    expect(isLifecycleLine("event 'lifecycle' for domain 'vm 2': Stopped Destroyed")).toBe(true);
    expect(isLifecycleLine("event 'reboot' for domain 'vm1'")).toBe(false);
    expect(isLifecycleLine('events received: 0')).toBe(false);
  });
});

/** A stand-in for virsh: records its pid and argv, then runs `body`. */
const fakeVirsh = (body: string) => {
  const dir = tempDir('qm-fake-virsh-');
  const file = join(dir, 'virsh');
  writeFileSync(file, `#!/bin/sh\necho "$$ $*" >> "${dir}/calls"\n${body}\n`);
  chmodSync(file, 0o755);
  const calls = () =>
    existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') : [];
  return { file, calls };
};

const watching = (o: { uri?: string; virsh: string; pollMs?: number; eventRetryMs?: number }) => {
  const reasons: LookReason[] = [];
  const lines: string[] = [];
  const stop = new AbortController();
  const done = watchLibvirt({
    uri: o.uri ?? 'qemu:///fake',
    pollMs: o.pollMs ?? 60_000,
    resyncMs: 60_000,
    debounceMs: 100,
    eventRetryMs: o.eventRetryMs ?? 60_000,
    look: async (r) => {
      reasons.push(r);
    },
    signal: stop.signal,
    log: lineLog(lines),
    virsh: o.virsh,
  });
  return {
    reasons,
    lines,
    stop: async () => {
      stop.abort();
      await done;
    },
  };
};

describe('watchLibvirt', () => {
  it('runs virsh event read-only without a shell, and looks once per burst of lifecycle events', async () => {
    const virsh = fakeVirsh(
      [
        `echo "event 'lifecycle' for domain 'vm1': Started Booted"`,
        `echo "event 'reboot' for domain 'vm1'"`,
        `echo "event 'lifecycle' for domain 'vm2': Stopped Destroyed"`,
        'exec sleep 30',
      ].join('\n'),
    );
    const w = watching({ virsh: virsh.file });
    await waitFor(() => w.reasons.includes('event'), 10_000, 'a look on the event');
    // A second look would follow the first within the debounce window.
    await new Promise((r) => setTimeout(r, 300));
    expect(w.reasons).toEqual(['start', 'event']);
    const [pid, ...args] = (virsh.calls()[0] ?? '').split(' ');
    expect(args).toEqual(['--readonly', '-c', 'qemu:///fake', 'event', '--loop', '--all']);
    await w.stop();
    // The stream dies with the watch.
    expect(() => process.kill(Number(pid), 0)).toThrow();
    expect(w.lines.join('\n')).toContain('mode=events');
  });

  it('falls back to polling when the driver cannot send events, and tries the stream again later', async () => {
    const virsh = fakeVirsh(
      'echo "error: this function is not supported by the connection driver: virConnectDomainEventRegisterAny" >&2\nexit 1',
    );
    const w = watching({ virsh: virsh.file, pollMs: 50, eventRetryMs: 200 });
    await waitFor(() => w.reasons.filter((r) => r === 'poll').length >= 3, 10_000, 'polls');
    await waitFor(() => virsh.calls().length >= 2, 10_000, 'a second try of the event stream');
    await w.stop();
    expect(w.reasons[0]).toBe('start');
    expect(w.lines.join('\n')).toMatch(/watch uri=qemu:\/\/\/fake mode=poll every=0\.05s .*not supported/);
  });

  it('polls when virsh is missing', async () => {
    const w = watching({ virsh: join(tempDir('qm-none-'), 'virsh'), pollMs: 50 });
    await waitFor(() => w.reasons.filter((r) => r === 'poll').length >= 2, 10_000, 'polls');
    await w.stop();
    expect(w.lines.join('\n')).toContain('mode=poll');
  });

  it('only polls the test driver, every poll interval', async () => {
    const virsh = fakeVirsh('exec sleep 30');
    const w = watching({ uri: 'test:///default', virsh: virsh.file, pollMs: 50 });
    await waitFor(() => w.reasons.length >= 3, 10_000, 'polls');
    await w.stop();
    expect(w.reasons.slice(0, 3)).toEqual(['start', 'poll', 'poll']);
    expect(virsh.calls()).toEqual([]);
  });
});

describe('watchLibvirt on its clock', () => {
  it('keeps its schedule by the injected clock: a clock that jumps a poll interval makes the next look due', async () => {
    const virsh = fakeVirsh('exec sleep 30');
    // Each reading is a minute and a second after the last: every poll (60 s) is due at once.
    let t = Date.parse('2026-11-26T01:00:00Z');
    const reasons: LookReason[] = [];
    const stop = new AbortController();
    const done = watchLibvirt({
      uri: 'test:///default',
      pollMs: 60_000,
      look: async (r) => {
        reasons.push(r);
      },
      signal: stop.signal,
      log: () => {},
      virsh: virsh.file,
      now: () => {
        t += 61_000;
        return new Date(t);
      },
    });
    await waitFor(() => reasons.filter((r) => r === 'poll').length >= 2, 10_000, 'polls by the injected clock');
    stop.abort();
    await done;
    expect(reasons[0]).toBe('start');
  });
});
