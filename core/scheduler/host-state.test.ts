import { describe, expect, it } from 'vitest';
import type { Claim, NodeRecord } from '../nodes';
import { hostStateFromNode } from './host-state';
import { resolveOptions } from './options';
import { uuidFor } from './test-fixtures';

const NOW = Date.parse('2026-11-23T10:00:00Z');
const opts = resolveOptions({});

const node = (o: Partial<NodeRecord> = {}): NodeRecord => ({
  host: 'host-a',
  id: 1,
  service_id: 1,
  created_at: '2026-11-23T09:00:00Z',
  updated_at: '2026-11-23T09:59:50Z',
  deleted_at: null,
  deleted: 0,
  vcpus: 16,
  memory_mb: 65536,
  local_gb: 500,
  vcpus_used: 4,
  memory_mb_used: 16384,
  local_gb_used: 100,
  hypervisor_type: 'QEMU',
  hypervisor_version: 6002000,
  cpu_info: {
    arch: 'x86_64',
    vendor: 'Intel',
    model: 'Skylake',
    features: ['aes'],
    topology: { sockets: 1, cores: 8, threads: 2 },
  },
  disk_available_least: 450,
  current_workload: 2,
  running_vms: 3,
  hypervisor_hostname: 'host-a',
  instances: [],
  reported_availability_zone: null,
  operator_availability_zone: null,
  disabled: false,
  disabled_reason: null,
  metadata: {},
  claims: {},
  seq: 1,
  reported_at: '2026-11-23T09:59:50Z',
  received_at_ms: NOW - 10_000,
  announced: {},
  released: {},
  gone: {},
  drift: [],
  ...o,
});

const claim = (i: number, o: Partial<Claim> = {}): Claim => ({
  instance_uuid: uuidFor(i),
  vcpus: 2,
  memory_mb: 4096,
  disk_gb: 20,
  claimed_at: '2026-11-23T09:59:00Z',
  expires_at: '2026-11-23T10:09:00Z',
  ...o,
});

describe('hostStateFromNode', () => {
  it('takes reserved memory off the measured free RAM once', () => {
    // 65536 − 16384 − 512 = 48640
    expect(hostStateFromNode(node(), opts, NOW).free_ram_mb).toBe(48640);
  });

  it('uses disk_available_least when it is below free_disk_gb', () => {
    // min(500 − 100, 350) × 1024 = 358400
    expect(hostStateFromNode(node({ disk_available_least: 350 }), opts, NOW).free_disk_mb).toBe(358400);
  });

  it('uses free_disk_gb when disk_available_least is above it', () => {
    // min(400, 450) × 1024 = 409600
    expect(hostStateFromNode(node(), opts, NOW).free_disk_mb).toBe(409600);
  });

  it('goes negative with over-committed disks', () => {
    expect(hostStateFromNode(node({ disk_available_least: -10 }), opts, NOW).free_disk_mb).toBe(-10240);
  });

  it('takes reserved disk and CPUs off too', () => {
    const o = resolveOptions({ reserved_host_disk_mb: 2048, reserved_host_cpus: 2 });
    const h = hostStateFromNode(node(), o, NOW);
    expect(h.free_disk_mb).toBe(409600 - 2048);
    expect(h.disk_mb_used).toBe(100 * 1024 + 2048);
    expect(h.vcpus_used).toBe(4 + 2);
  });

  it('counts every live claim as usage, as an instance, and with its group', () => {
    const claims = { [uuidFor(1)]: claim(1, { group: 'g1' }), [uuidFor(2)]: claim(2) };
    const h = hostStateFromNode(node({ claims }), opts, NOW);
    // RAM 48640 − 2 × 4096; disk 409600 − 2 × 20 × 1024; vCPUs 4 + 2 × 2; instances 3 + 2
    expect(h.free_ram_mb).toBe(48640 - 8192);
    expect(h.free_disk_mb).toBe(409600 - 40960);
    expect(h.vcpus_used).toBe(8);
    expect(h.num_instances).toBe(5);
    expect(h.instances.get(uuidFor(1))).toEqual({ group: 'g1' });
    expect(h.instances.get(uuidFor(2))).toEqual({});
  });

  it('ignores expired claims', () => {
    const claims = { [uuidFor(1)]: claim(1, { expires_at: '2026-11-23T09:59:59Z' }) };
    const h = hostStateFromNode(node({ claims }), opts, NOW);
    expect(h.free_ram_mb).toBe(48640);
    expect(h.instances.size).toBe(0);
  });

  it('never counts a claim twice once the report lists its instance', () => {
    const claims = { [uuidFor(1)]: claim(1) };
    const instances = [{ uuid: uuidFor(1).toUpperCase(), vcpus: 2, memory_mb: 4096, disk_gb: 20 }];
    const h = hostStateFromNode(node({ claims, instances, running_vms: 1 }), opts, NOW);
    expect(h.free_ram_mb).toBe(48640);
    expect(h.num_instances).toBe(1);
    expect([...h.instances.keys()]).toEqual([uuidFor(1)]);
  });

  it('counts instances as running_vms, or the instances listed when more', () => {
    const instances = [1, 2, 3, 4].map((i) => ({ uuid: uuidFor(i), vcpus: 1, memory_mb: 1, disk_gb: 1 }));
    expect(hostStateFromNode(node({ running_vms: 7 }), opts, NOW).num_instances).toBe(7);
    expect(hostStateFromNode(node({ running_vms: 0, instances }), opts, NOW).num_instances).toBe(4);
  });

  it('reads I/O operations from current_workload', () => {
    expect(hostStateFromNode(node(), opts, NOW).num_io_ops).toBe(2);
  });

  it("resolves the zone: the operator's, else the reported one, else the default", () => {
    expect(hostStateFromNode(node(), opts, NOW).availability_zone).toBe('nova');
    expect(hostStateFromNode(node({ reported_availability_zone: 'az1' }), opts, NOW).availability_zone).toBe('az1');
    const both = node({ reported_availability_zone: 'az1', operator_availability_zone: 'az2' });
    expect(hostStateFromNode(both, opts, NOW).availability_zone).toBe('az2');
  });

  it('is up within service_down_time and down after it', () => {
    expect(hostStateFromNode(node({ received_at_ms: NOW - 59_000 }), opts, NOW).up).toBe(true);
    const down = hostStateFromNode(node({ received_at_ms: NOW - 60_000 }), opts, NOW);
    expect(down.up).toBe(false);
    expect(down.report_age_s).toBe(60);
  });

  it('carries disabled and deleted', () => {
    const h = hostStateFromNode(node({ disabled: true, disabled_reason: 'x', deleted: 1 }), opts, NOW);
    expect([h.disabled, h.disabled_reason, h.deleted]).toEqual([true, 'x', true]);
  });

  it('takes allocation ratios from metadata over the global ones', () => {
    const h = hostStateFromNode(
      node({ metadata: { cpu_allocation_ratio: '8', ram_allocation_ratio: '1.5', disk_allocation_ratio: '2' } }),
      opts,
      NOW,
    );
    expect([h.cpu_allocation_ratio, h.ram_allocation_ratio, h.disk_allocation_ratio]).toEqual([8, 1.5, 2]);
    // limits = capacity × ratio
    expect(h.limits).toEqual({ vcpu: 128, memory_mb: 98304, disk_gb: 1000 });
  });

  it('falls back to the global ratio for a value that is not a number, and takes the minimum of several', () => {
    expect(hostStateFromNode(node({ metadata: { cpu_allocation_ratio: 'XXX' } }), opts, NOW).cpu_allocation_ratio).toBe(
      4,
    );
    expect(hostStateFromNode(node({ metadata: { cpu_allocation_ratio: '-1' } }), opts, NOW).cpu_allocation_ratio).toBe(
      4,
    );
    expect(
      hostStateFromNode(node({ metadata: { ram_allocation_ratio: '2.0, 1.5' } }), opts, NOW).ram_allocation_ratio,
    ).toBe(1.5);
  });

  it('takes max_io_ops_per_host and max_instances_per_host from metadata as integers', () => {
    const h = hostStateFromNode(
      node({ metadata: { max_io_ops_per_host: '16', max_instances_per_host: '8.5' } }),
      opts,
      NOW,
    );
    expect(h.max_io_ops_per_host).toBe(16);
    // int('8.5') raises in Python: the global 50 stays
    expect(h.max_instances_per_host).toBe(50);
  });

  it('canonicalizes the architecture and lists supported instances', () => {
    const cpu = { ...node().cpu_info, arch: 'AMD64' };
    const h = hostStateFromNode(node({ cpu_info: cpu }), opts, NOW);
    expect(h.arch).toBe('x86_64');
    expect(h.supported_instances).toEqual([
      ['x86_64', 'qemu', 'hvm'],
      ['x86_64', 'kvm', 'hvm'],
    ]);
  });

  it('advertises nothing for a hypervisor type Nova does not know ("none")', () => {
    expect(hostStateFromNode(node({ hypervisor_type: 'none' }), opts, NOW).supported_instances).toEqual([]);
  });
});
