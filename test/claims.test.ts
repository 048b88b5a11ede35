import { randomUUID } from 'node:crypto';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, describe, expect, it } from 'vitest';
import type { NodeView } from '../core/nodes';
import { call, report, stack, uniqueHost } from './helpers';

// Contract rules 6 (one live claim per instance uuid, fleet-wide) and 7 (a server group's
// membership follows its instances), through the local stack.

type Json = Record<string, any>;

const sns = new SNSClient({
  endpoint: stack().snsUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
afterAll(() => sns.destroy());

/** Hosts of 65536 MB (8192 used, 512 reserved) in a zone of their own, so only they qualify. */
const fleet = async (n: number) => {
  const az = `az-${randomUUID().slice(0, 8)}`;
  const hosts: string[] = [];
  for (let i = 0; i < n; i++) {
    const host = uniqueHost('cl');
    hosts.push(host);
    expect((await report(host, { availability_zone: az })).status).toBe(200);
  }
  return { az, hosts };
};

const request = (az: string, uuids?: string[], hints: Json = {}, memory_mb = 2048) => ({
  request_spec: {
    instance_type: { name: 'm1.small', vcpus: 1, memory_mb, root_gb: 20 },
    instance_properties: { availability_zone: az },
    ...(uuids ? { instance_uuids: uuids } : {}),
  },
  filter_properties: { scheduler_hints: hints },
});

const schedule = (body: unknown) => call<Json>('POST', '/schedule', { body });
const node = async (host: string) => (await call<NodeView>('GET', `/nodes/${host}`)).body;

/** Every claim of `uuid` on the fleet, with its host. */
const claimsOf = async (hosts: string[], uuid: string) => {
  const found: Array<{ host: string; claimed_at: string }> = [];
  for (const h of hosts) {
    for (const c of (await node(h)).claims) if (c.instance_uuid === uuid) found.push({ host: h, ...c });
  }
  return found;
};

const publish = (host: string, event_type: string, uuid: string) =>
  sns.send(
    new PublishCommand({
      TopicArn: stack().topicArn,
      Message: JSON.stringify({
        message_id: randomUUID(),
        event_type,
        publisher_id: `compute.${host}`,
        timestamp: new Date().toISOString(),
        priority: 'INFO',
        payload: { instance_id: uuid, vcpus: 1, memory_mb: 2048, disk_gb: 20 },
      }),
    }),
  );

/** Polls `f` until it gives a value (SNS delivers asynchronously). */
const until = async <T>(what: string, f: () => Promise<T | undefined>): Promise<T> => {
  for (let i = 0; i < 150; i++) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} never happened`);
};

// 65536 − 8192 measured: what GET /nodes shows free before any claim.
const FREE = 65_536 - 8192;

describe('rule 6: an instance uuid holds one live claim, fleet-wide', () => {
  it('moves the claim to each new pick: four schedules of one uuid leave one claim, on the last pick', async () => {
    const { az, hosts } = await fleet(4);
    const uuid = randomUUID();
    const picks: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await schedule(request(az, [uuid]));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      picks.push(r.body.selections[0].host);
    }
    const claims = await claimsOf(hosts, uuid);
    expect(claims).toHaveLength(1);
    expect(claims[0]?.host).toBe(picks[3]);
    // Counted once: the fleet's free RAM is down by one instance, not four.
    let free = 0;
    for (const h of hosts) free += (await node(h)).free_ram_mb;
    expect(free).toBe(4 * FREE - 2048);
  });

  it('leaves exactly one claim fleet-wide after 16 concurrent schedules of one uuid', async () => {
    const { az, hosts } = await fleet(4);
    const uuid = randomUUID();
    const answers = await Promise.all(Array.from({ length: 16 }, () => schedule(request(az, [uuid]))));
    // Named on failure: which answers were neither a placement nor NoValidHost, and what they said.
    expect(answers.filter((a) => a.status !== 200 && a.status !== 409).map((a) => [a.status, a.body])).toEqual([]);
    expect(answers.some((a) => a.status === 200)).toBe(true);
    const claims = await claimsOf(hosts, uuid);
    expect(claims).toHaveLength(1);
    let free = 0;
    for (const h of hosts) free += (await node(h)).free_ram_mb;
    expect(free).toBe(4 * FREE - 2048);
  });

  it('replaces a claim in place when the same host is picked again, even on a host with room for one', async () => {
    const { az, hosts } = await fleet(1);
    const host = hosts[0] as string;
    const uuid = randomUUID();
    // 65536 − 8192 − 512 reserved = 56832 MB usable: one 40000 MB instance, not two.
    const first = await schedule(request(az, [uuid], {}, 40_000));
    expect(first.status).toBe(200);
    const again = await schedule(request(az, [uuid.toUpperCase()], {}, 40_000));
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.selections[0].host).toBe(host);
    const n = await node(host);
    expect(n.claims).toHaveLength(1);
    expect(n.claims[0]).toMatchObject({ instance_uuid: uuid, claimed_at: again.body.claims[0].claimed_at });
    expect(n.free_ram_mb).toBe(FREE - 40_000);
  });
});

describe('rule 7: a server group follows its members', () => {
  const antiAffinity = async () => {
    const { az, hosts } = await fleet(2);
    const hints = { group: `g-${randomUUID().slice(0, 8)}`, group_policy: 'anti-affinity' };
    const members: Record<string, string> = {};
    for (let i = 0; i < 2; i++) {
      const uuid = randomUUID();
      const r = await schedule(request(az, [uuid], hints));
      expect(r.status).toBe(200);
      members[r.body.selections[0].host] = uuid;
    }
    expect(Object.keys(members).sort()).toEqual([...hosts].sort());
    const third = await schedule(request(az, undefined, hints));
    expect(third.status).toBe(409);
    expect(third.body.error.code).toBe('NoValidHost');
    return { az, hosts, hints, members };
  };

  for (const event of ['compute.instance.delete.end', 'compute.instance.create.error']) {
    it(`frees an anti-affinity member's host once ${event} releases it`, async () => {
      const { az, hosts, hints, members } = await antiAffinity();
      const freed = hosts[0] as string;
      const uuid = members[freed] as string;
      await publish(freed, event, uuid);
      await until('the release', async () => ((await node(freed)).claims.length === 0 ? true : undefined));
      const r = await until('a schedule onto the freed host', async () => {
        const a = await schedule(request(az, undefined, hints));
        return a.status === 200 ? a : undefined;
      });
      expect(r.body.selections[0].host).toBe(freed);
      // And the group is full again.
      expect((await schedule(request(az, undefined, hints))).status).toBe(409);
    });
  }

  it('frees the host of a member whose instance was listed, then deleted', async () => {
    const { az, hosts, hints, members } = await antiAffinity();
    const freed = hosts[1] as string;
    const uuid = members[freed] as string;
    // The report absorbs the claim: the member now lives in the measurement, not in a claim.
    const listed = await report(freed, {
      seq: 2,
      availability_zone: az,
      instances: [{ uuid, vcpus: 1, memory_mb: 2048, disk_gb: 20 }],
    });
    expect(listed.status).toBe(200);
    expect((await schedule(request(az, undefined, hints))).status).toBe(409);
    await publish(freed, 'compute.instance.delete.end', uuid);
    const r = await until('a schedule onto the freed host', async () => {
      const a = await schedule(request(az, undefined, hints));
      return a.status === 200 ? a : undefined;
    });
    expect(r.body.selections[0].host).toBe(freed);
  });

  it('moves a member with its claim: a rescheduled member frees its old host for the group', async () => {
    const { az, hosts } = await fleet(3);
    const hints = { group: `g-${randomUUID().slice(0, 8)}`, group_policy: 'anti-affinity' };
    const a = randomUUID();
    const b = randomUUID();
    const first = await schedule(request(az, [a], hints));
    const second = await schedule(request(az, [b], hints));
    expect([first.status, second.status]).toEqual([200, 200]);
    const oldHost = first.body.selections[0].host as string;
    // a moves, ignoring its old host: its group membership goes with it.
    const moved = await schedule({
      ...request(az, [a], hints),
      filter_properties: { scheduler_hints: hints, ignore_hosts: [oldHost] },
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.selections[0].host).not.toBe(oldHost);
    // a third member may use a's old host now; then the group fills all three hosts.
    const third = await schedule(request(az, undefined, hints));
    expect(third.status, JSON.stringify(third.body)).toBe(200);
    expect(third.body.selections[0].host).toBe(oldHost);
    expect((await claimsOf(hosts, a)).map((c) => c.host)).toEqual([moved.body.selections[0].host]);
  });

  it('bounds a group at 100 members: 409 ServerGroupFull naming the group, until one leaves', async () => {
    const { az, hosts } = await fleet(1);
    const host = hosts[0] as string;
    // One host takes all 100: lift Nova's per-host limits (8 building, 50 instances) for it.
    const patch = { metadata: { max_io_ops_per_host: '1000', max_instances_per_host: '1000' } };
    expect((await call('PATCH', `/nodes/${host}`, { body: patch })).status).toBe(200);
    const hints = { group: `g-${randomUUID().slice(0, 8)}`, group_policy: 'affinity' };
    const tiny = (n: number) => ({
      request_spec: {
        instance_type: { name: 'm1.nano', vcpus: 1, memory_mb: 64, root_gb: 1 },
        instance_properties: { availability_zone: az },
        num_instances: n,
      },
      filter_properties: { scheduler_hints: hints },
    });
    const placed: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await schedule(tiny(50));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      placed.push(...r.body.selections.map((s: Json) => s.instance_uuid));
    }
    const full = await schedule(tiny(1));
    expect(full.status).toBe(409);
    expect(full.body.error.code).toBe('ServerGroupFull');
    expect(full.body.error.details).toMatchObject({ group: hints.group, members: 100, max_members: 100 });
    await publish(host, 'compute.instance.delete.end', placed[0] as string);
    await until('a free slot in the group', async () => {
      const a = await schedule(tiny(1));
      return a.status === 200 ? a : undefined;
    });
  });
});
