import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { applyReport, type Claim, type NodeRecord, type Report } from '../../core/nodes';
import { attributeValueSize, nativeItemSize, writeCapacity } from './capacity-rules';
import { claimUpdate } from './claim-write';
import { fromItem, toItem } from './node-item';

/**
 * Issue 12 item 6: the node item of a host with 50 instances and 100 live claims, and what a claim, a
 * report and an event on it cost (WCU by AWS's rules: 1 per KB of the larger of the item before and
 * after, transactions ×2; capacity-rules.ts). The cpu_info is this machine's agent's (99 flags).
 */
const FLAGS =
  'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch cpuid_fault fsgsbase tsc_adjust bmi1 hle avx2 smep bmi2 erms invpcid rtm avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves arat avx512vbmi umip avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq rdpid fsrm arch_capabilities';
const T0 = Date.UTC(2026, 11, 1, 12);
const POLICY = { claimTtlS: 600, windowS: 7200 };
const uuid = (i: number, tag: string) =>
  `${tag}${String(i).padStart(7, '0')}-0000-4000-8000-${String(i).padStart(12, '0')}`;

const report = (instances: Report['instances']): Report => ({
  hypervisor_hostname: 'compute-0042.example.org',
  hypervisor_type: 'QEMU',
  hypervisor_version: 6_002_000,
  cpu_info: {
    arch: 'x86_64',
    vendor: 'GenuineIntel',
    model: 'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz',
    features: [...new Set(FLAGS.split(' '))].sort(),
    topology: { sockets: 2, cores: 32, threads: 2 },
  },
  vcpus: 128,
  memory_mb: 1_048_576,
  local_gb: 8000,
  vcpus_used: 100,
  memory_mb_used: 409_600,
  local_gb_used: 2000,
  disk_available_least: 6000,
  running_vms: 50,
  current_workload: 0,
  instances,
  availability_zone: 'az-1',
  seq: 1,
  reported_at: new Date(T0).toISOString(),
});

const claim = (i: number, atMs: number): Claim => ({
  instance_uuid: uuid(i, 'c'),
  vcpus: 2,
  memory_mb: 4096,
  disk_gb: 40,
  claimed_at: new Date(atMs).toISOString(),
  expires_at: new Date(atMs + 600_000).toISOString(),
});

/** The host of item 6, as a report and 100 claims leave it. */
const host = (nInstances = 50, nClaims = 100): NodeRecord => {
  const instances = Array.from({ length: nInstances }, (_, i) => ({
    uuid: uuid(i, 'a'),
    vcpus: 2,
    memory_mb: 8192,
    disk_gb: 40,
  }));
  // Scheduled here first (claimed), then listed by a report that absorbs their claims: no drift.
  const before = applyReport(undefined, report([]), 'compute-0042', { id: 42, service_id: 42 }, T0 - 60_000, POLICY);
  for (const [i, x] of instances.entries()) before.claims[x.uuid] = { ...claim(i, T0 - 30_000), instance_uuid: x.uuid };
  const r = applyReport(
    before,
    { ...report(instances), seq: 2 },
    'compute-0042',
    { id: 42, service_id: 42 },
    T0,
    POLICY,
  );
  for (let i = 0; i < nClaims; i++) r.claims[uuid(i, 'c')] = claim(i, T0 + i * 1000);
  return r;
};

describe('a node item with 50 instances and 100 live claims', () => {
  it('round-trips through its stored layout', () => {
    const r = host();
    const stored = fromItem(structuredClone({ ...toItem(r, 7, T0), metadata: {} }));
    expect(stored.record).toEqual(r);
    expect(stored.ver).toBe(7);
    expect(stored.claimed).toEqual({ vcpus: 200, memory_mb: 409_600, disk_gb: 4000 });
  });

  it('reports its size and what a claim, a report and an event on it cost', () => {
    const r = host();
    const item = toItem(r, 7, T0) as unknown as Record<string, unknown>;
    const bytes = nativeItemSize(item);
    // A claim adds one entry to the claims map: the item after it is the larger.
    const c = claim(100, T0 + 200_000);
    const write = claimUpdate(
      'nodes',
      {
        host: r.host,
        baseline: 7,
        add: c,
        maxClaimedBefore: { vcpus: 1e6, memory_mb: 1e9, disk_gb: 1e9 },
        claims: [c],
      },
      T0,
    );
    const entry = attributeValueSize(marshalled(write.ExpressionAttributeValues[':c0'])) + 1 + c.instance_uuid.length;
    const parts = Object.fromEntries(Object.entries(item).map(([k, v]) => [k, nativeItemSize({ [k]: v })]));
    const figures = {
      item_bytes: bytes,
      claims_bytes: parts.claims,
      parts,
      per_claim_bytes: entry,
      instances_bytes: (parts.instances ?? 0) + (parts.inst ?? 0),
      claim_wcu: writeCapacity({ before: bytes, after: bytes + entry }),
      // A report replaces the item (PutItem: charged on the larger too); its claims are absorbed or kept.
      report_wcu: writeCapacity({ before: bytes, after: bytes }),
      // notify: one transaction of the idempotency record (< 1 KB) and the node's update.
      event_wcu:
        writeCapacity({ before: bytes, after: bytes }, { transactional: true }) +
        writeCapacity({ after: 200 }, { transactional: true }),
    };
    console.log(`node item, 50 instances + 100 claims: ${JSON.stringify(figures)}`);
    // Each instance once (the events' `inst` map), each claim without its uuid inside and with
    // epoch-ms times: half the item of the layout before (27,928 B, a claim 28 WCU).
    expect(item).not.toHaveProperty('instances');
    expect(entry).toBeLessThanOrEqual(100);
    expect(figures.claim_wcu).toBeLessThanOrEqual(15);
  });
});

it('prints the claim WCU of smaller hosts (where a claim costs 4 WCU or less)', () => {
  const rows = [
    [0, 0],
    [10, 0],
    [10, 10],
    [20, 10],
    [50, 0],
    [50, 100],
  ].map(([n, c]) => {
    const bytes = nativeItemSize(toItem(host(n, c), 7, T0) as unknown as Record<string, unknown>);
    return `${n} instances + ${c} claims: ${bytes} B, claim ${writeCapacity({ before: bytes, after: bytes + 90 })} WCU`;
  });
  console.log(rows.join('\n'));
  expect(rows).toHaveLength(6);
});

const marshalled = (v: unknown): AttributeValue =>
  marshall({ v }, { removeUndefinedValues: true, convertClassInstanceToMap: false }).v as AttributeValue;
