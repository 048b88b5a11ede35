/**
 * Builders for the scheduler's tests and bench: a host state, a request spec,
 * a seeded random source. Defaults describe an idle, healthy 8-vCPU / 16 GB /
 * 100 GB QEMU host and a 1 vCPU / 512 MB / 1 GB flavor.
 */

import { seededRandom } from '../simulate/rng';
import { supportedInstancesFor } from './canonical';
import { signatureOf } from './instance-signature';
import { weightMultiplierOverrides } from './node-overrides';
import { reasonOf } from './reasons';
import type { AnyFilter, Flavor, HostState, Rejection, RequestSpec } from './types';

/** A host state; figures not given take an idle host's values, limits follow capacity × ratio. */
export const makeHost = (o: Partial<HostState> & { host: string }): HostState => {
  const memory_mb = o.memory_mb ?? 16384;
  const vcpus_total = o.vcpus_total ?? 8;
  const total_usable_disk_gb = o.total_usable_disk_gb ?? 100;
  const cpu = o.cpu_allocation_ratio ?? 1;
  const ram = o.ram_allocation_ratio ?? 1;
  const disk = o.disk_allocation_ratio ?? 1;
  const arch = o.arch ?? 'x86_64';
  const hypervisor_type = o.hypervisor_type ?? 'QEMU';
  return {
    nodename: o.host,
    vcpus_used: 0,
    free_ram_mb: memory_mb,
    free_disk_mb: total_usable_disk_gb * 1024,
    disk_mb_used: 0,
    num_instances: 0,
    num_io_ops: 0,
    hypervisor_version: 6002000,
    cpu_info: {
      arch,
      vendor: 'Intel',
      model: 'Skylake',
      features: ['aes', 'avx', 'sse4.2'],
      topology: { sockets: 1, cores: 4, threads: 2 },
    },
    supported_instances: supportedInstancesFor(arch, hypervisor_type),
    availability_zone: 'nova',
    up: true,
    disabled: false,
    disabled_reason: null,
    deleted: false,
    report_age_s: 5,
    metadata: {},
    max_io_ops_per_host: 8,
    max_instances_per_host: 50,
    limits: { memory_mb: memory_mb * ram, vcpu: vcpus_total * cpu, disk_gb: total_usable_disk_gb * disk },
    instances: new Map(),
    ...o,
    ...signatureOf(o.instances ?? new Map()),
    weight_multipliers: o.weight_multipliers ?? weightMultiplierOverrides(o.metadata ?? {}),
    memory_mb,
    vcpus_total,
    total_usable_disk_gb,
    cpu_allocation_ratio: cpu,
    ram_allocation_ratio: ram,
    disk_allocation_ratio: disk,
    arch,
    hypervisor_type,
  };
};

/** Deterministic uuid number `i` (version nibble not checked, as in core/schema.ts). */
export const uuidFor = (i: number, prefix = '00000000'): string =>
  `${prefix}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

/** Options for makeSpec: flavor fields at the top level for brevity. */
export type SpecOverrides = Partial<Omit<RequestSpec, 'instance_type'>> & Partial<Flavor>;

/** A request spec; uuids default to uuidFor(0..num_instances-1, 'aaaaaaaa'). */
export const makeSpec = (o: SpecOverrides = {}): RequestSpec => {
  const num = o.num_instances ?? o.instance_uuids?.length ?? 1;
  return {
    instance_type: {
      name: o.name ?? 'm1.test',
      vcpus: o.vcpus ?? 1,
      memory_mb: o.memory_mb ?? 512,
      root_gb: o.root_gb ?? 1,
      ephemeral_gb: o.ephemeral_gb ?? 0,
      swap: o.swap ?? 0,
      extra_specs: o.extra_specs ?? {},
    },
    image: o.image ?? { properties: {} },
    instance_properties: o.instance_properties ?? {},
    num_instances: num,
    instance_uuids: o.instance_uuids ?? Array.from({ length: num }, (_, i) => uuidFor(i, 'aaaaaaaa')),
    scheduler_hints: o.scheduler_hints ?? { same_host: [], different_host: [] },
    ignore_hosts: o.ignore_hosts ?? [],
    force_hosts: o.force_hosts ?? [],
    ...(o.retry ? { retry: o.retry } : {}),
  };
};

/** One filter's verdict on one host, as the scheduler reaches it, with the rejection and its sentence. */
export type Verdict = { pass: true } | { pass: false; reason: string; rejection: Rejection };

/**
 * Runs `filter` on `host` for instance `index` of `spec` among `hosts`: prepare
 * (an idle filter passes every host), passes, and explain when it does not.
 */
export const check = (
  filter: AnyFilter,
  host: HostState,
  spec: RequestSpec,
  hosts: readonly HostState[] = [],
  { defaultArch = null, index = 0 }: { defaultArch?: string | null; index?: number } = {},
): Verdict => {
  const state = filter.prepare({ spec, hosts, defaultArch });
  const pass = { index, instanceUuid: (spec.instance_uuids[index] ?? '').toLowerCase() };
  if (filter.idle(state) || filter.passes(host, state, pass)) return { pass: true };
  const rejection = { filter: filter.name, ...filter.explain(host, state, pass) };
  return { pass: false, reason: reasonOf(rejection), rejection };
};

/** A seeded PRNG in [0, 1): the simulator's mulberry32. */
export const seededRng = seededRandom;
