import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { call, report, uniqueHost } from './helpers';

type Json = Record<string, any>;

/** Three hosts in a zone of their own: the first has the most free RAM, the third none to spare. */
const threeHosts = async () => {
  const az = `az-${randomUUID().slice(0, 8)}`;
  const hosts: string[] = [];
  for (const used of [8_000, 16_000, 64_000]) {
    const host = uniqueHost('dh');
    expect((await report(host, { availability_zone: az, memory_mb_used: used })).status).toBe(200);
    hosts.push(host);
  }
  return { az, hosts: hosts as [string, string, string] };
};
const schedule = (az: string, memory_mb: number, dry_run = false) =>
  call<Json>('POST', '/schedule', {
    body: {
      request_spec: {
        instance_type: { vcpus: 1, memory_mb, root_gb: 10 },
        instance_properties: { availability_zone: az },
      },
      dry_run,
    },
  });

describe('GET /decisions/{id}?host=', () => {
  it("answers one host's verdict: picked, passed with its weigher breakdown, rejected with the filter and numbers", async () => {
    const { az, hosts } = await threeHosts();
    const r = await schedule(az, 2048);
    expect(r.status).toBe(200);
    const id = r.body.decision_id;
    const picked = await call<Json>('GET', `/decisions/${id}?host=${hosts[0]}`);
    expect(picked.status).toBe(200);
    expect(picked.body).toMatchObject({
      decision_id: id,
      host: hosts[0],
      verdict: 'picked',
      instances: [{ instance_uuid: r.body.selections[0].instance_uuid }],
      rank: 1,
    });
    const passed = await call<Json>('GET', `/decisions/${id}?host=${hosts[1]}`);
    expect(passed.body).toMatchObject({ verdict: 'passed', rank: 2 });
    expect(passed.body.weighers.map((w: Json) => w.weigher)).toContain('RAMWeigher');
    const sum = passed.body.weighers.reduce((t: number, w: Json) => t + w.contribution, 0);
    expect(sum).toBeCloseTo(passed.body.weight, 9);
    const rejected = await call<Json>('GET', `/decisions/${id}?host=${hosts[2]}`);
    expect(rejected.status).toBe(200);
    // 65536 × 1.0 − (64000 + 512 reserved) = 1024 MB usable
    expect(rejected.body).toMatchObject({ host: hosts[2], verdict: 'rejected', filter: 'RamFilter' });
    expect(rejected.body.reason).toMatch(/needs 2048 MB, 1024 MB usable/);
  });

  it('answers a NoValidHost decision host by host', async () => {
    const { az, hosts } = await threeHosts();
    const r = await schedule(az, 60_000);
    expect(r.status).toBe(409);
    const id = r.body.error.details.decision_id;
    for (const h of hosts) {
      const v = await call<Json>('GET', `/decisions/${id}?host=${h}`);
      expect(v.body).toMatchObject({ verdict: 'rejected', filter: 'RamFilter' });
      // The same reason the 409's details gave for that host.
      expect(v.body.reason).toBe(r.body.error.details.hosts[h]);
      expect(v.body.reason).toMatch(/needs 60000 MB, \d+ MB usable/);
    }
  });

  it('is a 404 when the decision or the host is not in it, and a 400 naming a bad host or an unknown parameter', async () => {
    const { az } = await threeHosts();
    const id = (await schedule(az, 2048)).body.decision_id;
    const stranger = await call<Json>('GET', `/decisions/${id}?host=${uniqueHost('nowhere')}`);
    expect(stranger.status).toBe(404);
    expect(stranger.body.error).toMatchObject({ code: 'HostNotInDecision', details: { decision_id: id } });
    const gone = await call<Json>('GET', `/decisions/${randomUUID()}?host=a`);
    expect(gone.status).toBe(404);
    const bad = await call<Json>('GET', `/decisions/${id}?host=${encodeURIComponent('not a host!')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('host');
    const unknown = await call<Json>('GET', `/decisions/${id}?hots=a`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.field).toBe('hots');
  });
});
