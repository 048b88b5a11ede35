import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyPatch,
  applyReport,
  type Claim,
  type LedgerPolicy,
  type NodeRecord,
  nodeStatus,
  PatchSchema,
  type Report,
  ReportSchema,
  reconcile,
  toNodeView,
} from './nodes';
import { parseWith } from './schema';

const NOW = Date.parse('2026-11-26T00:00:00Z');
const POLICY: LedgerPolicy = { claimTtlS: 600, windowS: 7200 };
const claim = (uuid: string, memory_mb: number, ageS = 0, ttlS = 600): Claim => ({
  instance_uuid: uuid,
  vcpus: 1,
  memory_mb,
  disk_gb: 10,
  claimed_at: new Date(NOW - ageS * 1000).toISOString(),
  expires_at: new Date(NOW - ageS * 1000 + ttlS * 1000).toISOString(),
});

const baseReport: Report = {
  hypervisor_hostname: 'h',
  hypervisor_type: 'QEMU',
  hypervisor_version: 1,
  cpu_info: { arch: 'x86_64', vendor: 'v', model: 'm', features: [], topology: { sockets: 1, cores: 1, threads: 1 } },
  vcpus: 8,
  memory_mb: 4096,
  local_gb: 100,
  vcpus_used: 0,
  memory_mb_used: 1024,
  local_gb_used: 20,
  disk_available_least: 80,
  running_vms: 0,
  current_workload: 0,
  seq: 1,
  reported_at: '2026-11-26T00:00:00Z',
};

const record = (over: Partial<NodeRecord> = {}): NodeRecord => ({
  ...applyReport(undefined, baseReport, 'h', { id: 7, service_id: 7 }, NOW, POLICY),
  ...over,
});

describe('usage accounting (pure)', () => {
  it('derives free RAM and disk as capacity − measured used − live claims (rule 1, 2)', () => {
    const v = toNodeView(record({ claims: { a: claim('a', 512), b: claim('b', 256) } }), NOW, 60);
    // 4096 − 1024 − (512 + 256) = 2304; 100 − 20 − (10 + 10) = 60
    expect(v.free_ram_mb).toBe(2304);
    expect(v.free_disk_gb).toBe(60);
    expect(v.claims.map((c) => c.instance_uuid)).toEqual(['a', 'b']);
  });

  it('stops counting an expired claim (rule 4)', () => {
    const v = toNodeView(record({ claims: { old: claim('old', 512, 601) } }), NOW, 60);
    expect(v.free_ram_mb).toBe(3072);
    expect(v.claims).toEqual([]);
  });

  it('absorbs a claim whose instance the report lists, once (rule 3)', () => {
    const kept = reconcile(
      record({ claims: { a: claim('a', 512), b: claim('b', 256) } }),
      [{ uuid: 'A', vcpus: 1, memory_mb: 512, disk_gb: 10 }],
      NOW,
      POLICY,
    ).claims;
    expect(Object.keys(kept)).toEqual(['b']);
  });

  it('never counts a claim twice: free RAM after absorption equals the measured figure minus the other claims', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1024 }), { maxLength: 10 }),
        fc.array(fc.boolean(), { maxLength: 10 }),
        (sizes, absorbed) => {
          const claims = Object.fromEntries(sizes.map((m, i) => [`u${i}`, claim(`u${i}`, m)]));
          const instances = sizes.flatMap((m, i) =>
            absorbed[i] ? [{ uuid: `u${i}`, vcpus: 1, memory_mb: m, disk_gb: 10 }] : [],
          );
          const measuredUsed = 1024 + instances.reduce((s, i) => s + i.memory_mb, 0);
          const kept = reconcile(record({ claims }), instances, NOW, POLICY);
          const v = toNodeView(record({ memory_mb_used: measuredUsed, instances, ...kept }), NOW, 60);
          const expected = 4096 - 1024 - sizes.reduce((s, m) => s + m, 0);
          expect(v.free_ram_mb).toBe(expected);
        },
      ),
    );
  });

  it('is up while the last report is younger than service_down_time', () => {
    expect(nodeStatus(NOW - 59_999, NOW, 60)).toBe('up');
    expect(nodeStatus(NOW - 60_000, NOW, 60)).toBe('down');
  });

  it('keeps operator settings across a report and clears them with null', () => {
    const patched = applyPatch(
      record(),
      { availability_zone: 'az2', disabled: true, metadata: new Map([['k', 'v']]) },
      NOW,
    );
    const reported = applyReport(
      patched,
      { ...baseReport, seq: 2, availability_zone: 'agent-az' },
      'h',
      { id: 1, service_id: 1 },
      NOW,
      POLICY,
    );
    expect(toNodeView(reported, NOW, 60)).toMatchObject({
      availability_zone: 'az2',
      disabled: true,
      metadata: { k: 'v' },
      id: 7,
    });
    const cleared = applyPatch(reported, { availability_zone: null, metadata: new Map([['k', null]]) }, NOW);
    expect(toNodeView(cleared, NOW, 60)).toMatchObject({ availability_zone: 'agent-az', metadata: {} });
  });

  it('reads metadata keys named like Object.prototype members as plain keys, and refuses __proto__', () => {
    const body = JSON.parse('{"metadata":{"constructor":"a","toString":"b","hasOwnProperty":"c"}}');
    const patch = parseWith(PatchSchema, body);
    const md = applyPatch(record(), patch, NOW).metadata;
    expect(Object.entries(md)).toEqual([
      ['constructor', 'a'],
      ['toString', 'b'],
      ['hasOwnProperty', 'c'],
    ]);
    expect(() => parseWith(PatchSchema, JSON.parse('{"metadata":{"__proto__":"x"}}'))).toThrow(
      'metadata.__proto__: is a reserved key',
    );
  });

  it('refuses a report that lists one instance uuid twice, in any case, naming the second', () => {
    const u = '0b3e4a8c-1f2d-4c5b-9a6e-7d8f9a0b1c2d';
    const inst = (uuid: string) => ({ uuid, vcpus: 1, memory_mb: 1, disk_gb: 1 });
    const report = {
      ...baseReport,
      instances: [inst(u), inst('1b3e4a8c-1f2d-4c5b-9a6e-7d8f9a0b1c2d'), inst(u.toUpperCase())],
    };
    expect(() => parseWith(ReportSchema, report)).toThrow('instances.2.uuid: repeats instances.0.uuid');
  });

  it('accepts a seq up to 2^50 and refuses one above it', () => {
    expect(parseWith(ReportSchema, { ...baseReport, seq: 2 ** 50 }).seq).toBe(2 ** 50);
    expect(() => parseWith(ReportSchema, { ...baseReport, seq: 2 ** 50 + 1 })).toThrow('seq: must be at most');
    expect(() => parseWith(ReportSchema, { ...baseReport, seq: 2 ** 53 - 1 })).toThrow('seq: must be at most');
  });
});
