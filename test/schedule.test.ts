import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { call, report, uniqueHost } from './helpers';

type Json = Record<string, any>;

/** A fleet in a zone of its own, so other tests' nodes never qualify. */
const fleet = async (n: number, over: (i: number) => Json = () => ({})) => {
  const az = `az-${randomUUID().slice(0, 8)}`;
  const hosts: string[] = [];
  for (let i = 0; i < n; i++) {
    const host = uniqueHost('s');
    hosts.push(host);
    const r = await report(host, { availability_zone: az, ...over(i) });
    expect(r.status).toBe(200);
  }
  return { az, hosts };
};

const request = (az: string, over: Json = {}, flavor: Json = {}, filterProps: Json = {}) => ({
  request_spec: {
    instance_type: { name: 'm1.small', vcpus: 1, memory_mb: 2048, root_gb: 20, ephemeral_gb: 0, swap: 0, ...flavor },
    instance_properties: { availability_zone: az },
    num_instances: 1,
    ...over,
  },
  ...(Object.keys(filterProps).length ? { filter_properties: filterProps } : {}),
});

const schedule = (body: unknown) => call<Json>('POST', '/schedule', { body });

describe('POST /schedule', () => {
  it('places on the host with the most free RAM and claims it at once', async () => {
    const { az, hosts } = await fleet(3, (i) => ({ memory_mb_used: [30_000, 8_000, 20_000][i] }));
    const r = await schedule(request(az));
    expect(r.status).toBe(200);
    expect(r.body.selections).toHaveLength(1);
    expect(r.body.selections[0].host).toBe(hosts[1]);
    const node = (await call<Json>('GET', `/nodes/${hosts[1]}`)).body;
    expect(node.claims).toHaveLength(1);
    expect(node.claims[0]).toMatchObject({
      instance_uuid: r.body.selections[0].instance_uuid,
      memory_mb: 2048,
      vcpus: 1,
      disk_gb: 20,
    });
    // 65536 − 8000 − 2048
    expect(node.free_ram_mb).toBe(55_488);
  });

  it('counts a claim once after the report that lists its instance absorbs it', async () => {
    const { az, hosts } = await fleet(1);
    const uuid = randomUUID();
    const r = await schedule(request(az, { instance_uuids: [uuid] }));
    expect(r.status).toBe(200);
    const host = hosts[0] as string;
    expect((await call<Json>('GET', `/nodes/${host}`)).body.free_ram_mb).toBe(65_536 - 8192 - 2048);
    const after = await report(host, {
      seq: 2,
      availability_zone: az,
      memory_mb_used: 8192 + 2048,
      instances: [{ uuid, vcpus: 1, memory_mb: 2048, disk_gb: 20 }],
    });
    expect(after.body.claims).toEqual([]);
    expect(after.body.free_ram_mb).toBe(65_536 - 8192 - 2048);
  });

  it('returns the ranking with each weigher contribution on dry_run, and claims nothing', async () => {
    const { az, hosts } = await fleet(2, (i) => ({ memory_mb_used: [8_000, 16_000][i] }));
    const r = await schedule({ ...request(az), dry_run: true });
    expect(r.status).toBe(200);
    expect(r.body.claims).toEqual([]);
    expect(r.body.ranking.map((h: Json) => h.host)).toEqual(hosts);
    const ram = r.body.ranking[0].weighers.find((w: Json) => w.weigher === 'RAMWeigher');
    expect(ram).toMatchObject({ normalized: 1, multiplier: 1, contribution: 1 });
    for (const h of hosts) expect((await call<Json>('GET', `/nodes/${h}`)).body.claims).toEqual([]);
    const d = await call<Json>('GET', `/decisions/${r.body.decision_id}`);
    expect(d.status).toBe(200);
    expect(d.body.ranking).toHaveLength(2);
  });

  it('answers 409 NoValidHost with per-filter counts, per-host reasons in numbers, and a stored decision', async () => {
    const { az, hosts } = await fleet(3, (i) => ({
      memory_mb_used: [64_000, 64_000, 1000][i],
      vcpus_used: [0, 0, 200][i],
    }));
    const r = await schedule(request(az));
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('NoValidHost');
    const details = r.body.error.details;
    expect(details.filter_counts).toMatchObject({ RamFilter: 2, CoreFilter: 1 });
    // 65536 × 1.0 − (64000 + 512 reserved) = 1024 usable
    expect(details.hosts[hosts[0] as string]).toMatch(/RamFilter: needs 2048 MB, 1024 MB usable/);
    expect(details.hosts[hosts[2] as string]).toMatch(/CoreFilter/);
    expect(r.body.error.message).toMatch(/0\/\d+ hosts available: .*2 .*\(RamFilter\)/);
    const d = await call<Json>('GET', `/decisions/${details.decision_id}`);
    expect(d.status).toBe(200);
    expect(d.body.rejections[hosts[0] as string].filter).toBe('RamFilter');
    for (const h of hosts) expect((await call<Json>('GET', `/nodes/${h}`)).body.claims).toEqual([]);
  });

  it('places a multi-instance request all or nothing, consuming between picks', async () => {
    // Each host fits one 32 GB instance: 65536 − 8192 − 512 = 56832 free.
    const { az, hosts } = await fleet(2);
    const two = await schedule(request(az, { num_instances: 2 }, { memory_mb: 32_768 }));
    expect(two.status).toBe(200);
    expect(new Set(two.body.selections.map((s: Json) => s.host))).toEqual(new Set(hosts));
    const three = await schedule(request(az, { num_instances: 2 }, { memory_mb: 16_384 }));
    expect(three.status).toBe(200);
    const none = await schedule(request(az, { num_instances: 3 }, { memory_mb: 16_384 }));
    expect(none.status).toBe(409);
    for (const h of hosts) expect((await call<Json>('GET', `/nodes/${h}`)).body.claims).toHaveLength(2);
  });

  it('sees a change made after its last look: a host disabled by PATCH is skipped at once', async () => {
    const { az, hosts } = await fleet(2, (i) => ({ memory_mb_used: [8_000, 16_000][i] }));
    const best = hosts[0] as string;
    expect((await schedule(request(az))).body.selections[0].host).toBe(best);
    await call('PATCH', `/nodes/${best}`, { body: { disabled: true, disabled_reason: 'drain' } });
    const r = await schedule(request(az));
    expect(r.status).toBe(200);
    expect(r.body.selections[0].host).toBe(hosts[1]);
    // the change index carried the patch: a handful of items, not the table
    expect(r.body.stats.items_read).toBeLessThan(50);
    const d = (await call<Json>('GET', `/decisions/${r.body.decision_id}`)).body;
    expect(d.rejections[best]).toMatchObject({ filter: 'ComputeFilter' });
    expect(d.rejections[best].reason).toMatch(/disabled/);
    expect(d.ranking[0].host).toBe(hosts[1]);
    expect(d.ranking[0].weighers.map((w: Json) => w.weigher)).toEqual([
      'RAMWeigher',
      'CPUWeigher',
      'DiskWeigher',
      'IoOpsWeigher',
      'NumInstancesWeigher',
    ]);
    expect(typeof d.host_state_age_ms).toBe('number');
    expect(d.picks).toEqual(r.body.selections);
    expect(d.claims).toHaveLength(1);
  });

  it('replaces the claim when the same instance is scheduled again on its host (rule 6)', async () => {
    const { az, hosts } = await fleet(1);
    const uuid = randomUUID();
    expect((await schedule(request(az, { instance_uuids: [uuid] }))).status).toBe(200);
    const again = await schedule(request(az, { instance_uuids: [uuid.toUpperCase()] }));
    expect(again.status).toBe(200);
    const node = (await call<Json>('GET', `/nodes/${hosts[0]}`)).body;
    expect(node.claims).toEqual([again.body.claims[0]]);
    // 65536 − 8192 − one 2048 MB claim
    expect(node.free_ram_mb).toBe(65_536 - 8192 - 2048);
  });

  it('rejects bad input with 400 naming the field, and 404s an unknown decision', async () => {
    const bad = await schedule({ request_spec: { instance_type: { name: 'x', vcpus: -1 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toMatch(/^request_spec\.instance_type\./);
    expect((await call('POST', '/schedule', { body: '{' })).status).toBe(400);
    expect((await call('GET', `/decisions/${randomUUID()}`)).status).toBe(404);
    expect((await call('GET', '/decisions/nope')).status).toBe(400);
  });
});
