import { describe, expect, it } from 'vitest';
import { DEFAULT_ENABLED_FILTERS, DEFAULT_WEIGHERS, resolveOptions, SchedulerConfigError } from './options';

describe('resolveOptions', () => {
  it("gives Nova's defaults", () => {
    const o = resolveOptions({});
    expect(o).toMatchObject({
      cpu_allocation_ratio: 4,
      ram_allocation_ratio: 1,
      disk_allocation_ratio: 1,
      reserved_host_memory_mb: 512,
      reserved_host_disk_mb: 0,
      reserved_host_cpus: 0,
      max_io_ops_per_host: 8,
      max_instances_per_host: 50,
      ram_weight_multiplier: 1,
      cpu_weight_multiplier: 1,
      disk_weight_multiplier: 1,
      io_ops_weight_multiplier: -1,
      num_instances_weight_multiplier: 0,
      host_subset_size: 1,
      service_down_time: 60,
      claim_ttl: 600,
      default_availability_zone: 'nova',
    });
    expect(o.resolved.filters.map((f) => f.name)).toEqual([...DEFAULT_ENABLED_FILTERS]);
    expect(o.resolved.weighers.map((w) => w.name)).toEqual([...DEFAULT_WEIGHERS]);
  });

  it('keeps the configured order', () => {
    const o = resolveOptions({ enabled_filters: ['RamFilter', 'ComputeFilter'], weighers: ['IoOpsWeigher'] });
    expect(o.resolved.filters.map((f) => f.name)).toEqual(['RamFilter', 'ComputeFilter']);
    expect(o.resolved.weighers.map((w) => w.name)).toEqual(['IoOpsWeigher']);
  });

  it('names an unknown filter', () => {
    expect(() => resolveOptions({ enabled_filters: ['RamFilter', 'RAMFilter'] })).toThrow(
      /enabled_filters: unknown filter "RAMFilter"/,
    );
  });

  it('names an unknown weigher', () => {
    expect(() => resolveOptions({ weighers: ['RamWeigher'] })).toThrow(/weighers: unknown weigher "RamWeigher"/);
  });

  it('names an unknown option and an invalid value', () => {
    expect(() => resolveOptions({ cpu_ratio: 2 })).toThrow(SchedulerConfigError);
    expect(() => resolveOptions({ host_subset_size: 0 })).toThrow(/host_subset_size/);
    expect(() => resolveOptions({ ram_allocation_ratio: -1 })).toThrow(/ram_allocation_ratio/);
    expect(() => resolveOptions({ image_properties_default_architecture: 'z80' })).toThrow(
      /image_properties_default_architecture: is not an architecture Nova knows/,
    );
  });

  it('rejects a filter listed twice', () => {
    expect(() => resolveOptions({ enabled_filters: ['RamFilter', 'RamFilter'] })).toThrow(/listed twice/);
  });

  it('does not resolve inherited names (toString)', () => {
    expect(() => resolveOptions({ enabled_filters: ['toString'] })).toThrow(/unknown filter/);
  });
});
