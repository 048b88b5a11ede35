import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reasonOf } from '../reasons';
import { makeHost, makeSpec, uuidFor } from '../test-fixtures';
import type { GroupPolicy, HostInstance } from '../types';
import { FILTERS } from './index';

const uuidArb = fc.integer({ min: 0, max: 5 }).map((i) => uuidFor(i));

const hostArb = fc
  .record({
    host: fc.constantFrom('h1', 'H2', 'h3'),
    memory_mb: fc.integer({ min: 0, max: 8192 }),
    free_ram_mb: fc.integer({ min: -4096, max: 8192 }),
    vcpus_total: fc.integer({ min: 0, max: 16 }),
    vcpus_used: fc.integer({ min: 0, max: 40 }),
    total_usable_disk_gb: fc.integer({ min: 0, max: 50 }),
    free_disk_mb: fc.integer({ min: -10240, max: 51200 }),
    ratio: fc.constantFrom(0.5, 1, 1.5, 4),
    num_io_ops: fc.integer({ min: 0, max: 10 }),
    num_instances: fc.integer({ min: 0, max: 60 }),
    up: fc.boolean(),
    disabled: fc.boolean(),
    deleted: fc.boolean(),
    az: fc.constantFrom('nova', 'az1'),
    arch: fc.constantFrom('x86_64', 'aarch64'),
    hypervisor_type: fc.constantFrom('QEMU', 'Xen', 'none'),
    hypervisor_version: fc.constantFrom(0, 5000, 6000000, 6002000),
    metadata: fc.dictionary(fc.constantFrom('ssd', 'gpus', 'zone'), fc.constantFrom('true', 'false', '4', '1,4', '')),
    instances: fc.array(fc.tuple(uuidArb, fc.constantFrom<HostInstance>({}, { group: 'g1' }, { group: 'g2' })), {
      maxLength: 4,
    }),
  })
  .map((r) =>
    makeHost({
      host: r.host,
      memory_mb: r.memory_mb,
      free_ram_mb: r.free_ram_mb,
      vcpus_total: r.vcpus_total,
      vcpus_used: r.vcpus_used,
      total_usable_disk_gb: r.total_usable_disk_gb,
      free_disk_mb: r.free_disk_mb,
      ram_allocation_ratio: r.ratio,
      cpu_allocation_ratio: r.ratio,
      disk_allocation_ratio: r.ratio,
      num_io_ops: r.num_io_ops,
      num_instances: r.num_instances,
      up: r.up,
      disabled: r.disabled,
      deleted: r.deleted,
      availability_zone: r.az,
      arch: r.arch,
      hypervisor_type: r.hypervisor_type,
      hypervisor_version: r.hypervisor_version,
      metadata: r.metadata,
      instances: new Map(r.instances),
    }),
  );

const specArb = fc
  .record({
    vcpus: fc.integer({ min: 0, max: 8 }),
    memory_mb: fc.integer({ min: 0, max: 8192 }),
    root_gb: fc.integer({ min: 0, max: 40 }),
    swap: fc.integer({ min: 0, max: 2048 }),
    extra_specs: fc.dictionary(
      fc.constantFrom(
        'ssd',
        'aggregate_instance_extra_specs:gpus',
        'capabilities:cpu_info:arch',
        'capabilities:hypervisor_version',
        'capabilities:cpu_info:features',
        'free_ram_mb',
        'hw:cpu_policy',
      ),
      fc.constantFrom('true', '>= 2', 'x86_64', '<all-in> aes avx', 's== QEMU', '<or> 1 <or> 4', '= 1024', 'dedicated'),
    ),
    image: fc.dictionary(
      fc.constantFrom('architecture', 'hypervisor_type', 'vm_mode', 'hypervisor_version_requires'),
      fc.constantFrom('x86_64', 'qemu', 'xen', 'hvm', '>=6.0', '<6.1'),
    ),
    az: fc.option(fc.constantFrom('nova', 'az1'), { nil: undefined }),
    same: fc.array(uuidArb, { maxLength: 2 }),
    different: fc.array(uuidArb, { maxLength: 2 }),
    policy: fc.option(fc.constantFrom<GroupPolicy>('affinity', 'anti-affinity'), { nil: undefined }),
    tried: fc.array(fc.constantFrom('h1', 'H2', 'h3'), { maxLength: 2 }),
  })
  .map((r) =>
    makeSpec({
      vcpus: r.vcpus,
      memory_mb: r.memory_mb,
      root_gb: r.root_gb,
      swap: r.swap,
      extra_specs: r.extra_specs,
      image: { properties: r.image },
      instance_properties: r.az ? { availability_zone: r.az } : {},
      scheduler_hints: {
        same_host: r.same,
        different_host: r.different,
        ...(r.policy ? { group: 'g1', group_policy: r.policy } : {}),
      },
      ...(r.tried.length > 0 ? { retry: { num_attempts: 2, hosts: r.tried } } : {}),
    }),
  );

describe('every filter (property)', () => {
  it('explains every host its verdict rejects with a code of its own, rendered as "<Filter>: …"; an idle filter passes all', () => {
    fc.assert(
      fc.property(fc.array(hostArb, { minLength: 1, maxLength: 4 }), specArb, (hosts, spec) => {
        const pass = { index: 0, instanceUuid: (spec.instance_uuids[0] ?? '').toLowerCase() };
        for (const f of Object.values(FILTERS)) {
          const state = f.prepare({ spec, hosts, defaultArch: null });
          for (const h of hosts) {
            if (f.passes(h, state, pass)) continue;
            expect(f.idle(state)).toBe(false);
            const r = f.explain(h, state, pass);
            expect(Object.hasOwn(f.reasons, r.code)).toBe(true);
            expect(reasonOf({ filter: f.name, ...r }).startsWith(`${f.name}: `)).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
