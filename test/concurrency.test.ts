import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { call, report, uniqueHost } from './helpers';

type Json = Record<string, any>;

const smallFleet = async (n: number) => {
  const az = `az-${randomUUID().slice(0, 8)}`;
  const hosts: string[] = [];
  for (let i = 0; i < n; i++) {
    const host = uniqueHost('c');
    hosts.push(host);
    // 8192 MB, nothing used: 8192 − 512 reserved = 7680 MB for 1 GB instances → 7 each by RAM.
    await report(host, { availability_zone: az, memory_mb: 8192, memory_mb_used: 0, vcpus: 4, vcpus_used: 0 });
  }
  return { az, hosts };
};

const body = (az: string, hints: Json = {}) => ({
  request_spec: {
    instance_type: { name: 'm1.tiny', vcpus: 1, memory_mb: 1024, root_gb: 1, ephemeral_gb: 0, swap: 0 },
    instance_properties: { availability_zone: az },
  },
  filter_properties: { scheduler_hints: hints },
});

/** Fires `total` requests, `parallel` at a time. */
const storm = async (total: number, parallel: number, make: () => unknown) => {
  const answers: Array<{ status: number; body: Json }> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < total) {
        next++;
        answers.push(await call<Json>('POST', '/schedule', { body: make() }));
      }
    }),
  );
  return answers;
};

describe('concurrent schedulers', { timeout: 180_000 }, () => {
  it('never over-commit a node, and fill it exactly', async () => {
    const { az, hosts } = await smallFleet(4);
    const answers = await storm(48, 8, () => body(az));
    expect(answers.every((a) => a.status === 200 || a.status === 409)).toBe(true);
    // Whatever lost a race may have given up; fill the rest one by one.
    for (let i = 0; i < 40; i++) {
      const a = await call<Json>('POST', '/schedule', { body: body(az) });
      if (a.status === 409) break;
      answers.push(a);
    }
    const placed = answers.filter((a) => a.status === 200).length;
    let claimed = 0;
    for (const h of hosts) {
      const node = (await call<Json>('GET', `/nodes/${h}`)).body;
      const ram = node.claims.reduce((s: number, c: Json) => s + c.memory_mb, 0);
      const vcpus = node.claims.reduce((s: number, c: Json) => s + c.vcpus, 0);
      // capacity × ratio: RAM 8192 × 1.0 (with 512 reserved), vCPU 4 × 4.0
      expect(node.memory_mb_used + 512 + ram, h).toBeLessThanOrEqual(8192);
      expect(node.vcpus_used + vcpus, h).toBeLessThanOrEqual(16);
      claimed += node.claims.length;
    }
    expect(claimed).toBe(placed);
    expect(claimed).toBe(28);
  });

  it('never put two members of an anti-affinity group on one host, even racing', async () => {
    const { az, hosts } = await smallFleet(5);
    const group = `g-${randomUUID().slice(0, 8)}`;
    const answers = await storm(12, 8, () => body(az, { group, group_policy: 'anti-affinity' }));
    const placed = answers.filter((a) => a.status === 200).map((a) => a.body.selections[0].host);
    expect(new Set(placed).size).toBe(placed.length);
    expect(placed.length).toBeLessThanOrEqual(5);
    expect(placed.length).toBeGreaterThan(0);
    for (const h of hosts) {
      const node = (await call<Json>('GET', `/nodes/${h}`)).body;
      expect(node.claims.filter((c: Json) => c.group === group).length, h).toBeLessThanOrEqual(1);
    }
  });

  it('keeps every member of an affinity group on one host, even racing', async () => {
    const { az } = await smallFleet(3);
    const group = `g-${randomUUID().slice(0, 8)}`;
    const answers = await storm(6, 6, () => body(az, { group, group_policy: 'affinity' }));
    const placed = answers.filter((a) => a.status === 200).map((a) => a.body.selections[0].host);
    expect(placed.length).toBeGreaterThan(0);
    expect(new Set(placed).size).toBe(1);
  });
});
