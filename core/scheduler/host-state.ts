/**
 * A stored node → the scheduler's HostState, after Nova's
 * `HostState._update_from_compute_node` plus the claims not yet absorbed.
 *
 * Reserved amounts. In Nova the resource tracker writes
 * `memory_mb_used = reserved_host_memory_mb + Σ instances`, so reserved memory
 * is already inside "used". Here the agent reports what it measures on the
 * host, which holds the instances and whatever the host itself uses right now,
 * but not the headroom the operator wants kept free. So the reserved amounts
 * are taken off the measured free figures once, here:
 *
 *   free_ram_mb  = memory_mb − memory_mb_used − reserved_host_memory_mb − pending.memory_mb
 *   free_disk_mb = min(local_gb − local_gb_used, disk_available_least) × 1024
 *                  − reserved_host_disk_mb − pending.disk_gb × 1024
 *   vcpus_used   = vcpus_used + reserved_host_cpus + pending.vcpus
 *
 * where pending = live claims the report does not list + announced − released
 * (core/nodes.ts pendingUsage, docs/accounting.md).
 *
 * The filters then compute `used = total − free`, so reserved counts as used,
 * exactly as in Nova. Totals stay the raw capacity (Nova's total_usable_*),
 * and the limits the claim must respect are capacity × ratio.
 */

import { liveClaims, type NodeRecord, nodeStatus, pendingUsage } from '../nodes';
import { canonicalArch, supportedInstancesFor } from './canonical';
import { rememberGroups } from './group-index';
import { signatureOf } from './instance-signature';
import { nodeNumber, weightMultiplierOverrides } from './node-overrides';
import type { SchedulerOptions } from './options';
import type { HostInstance, HostState } from './types';

/** The options host state depends on. */
export type HostStateOptions = Pick<
  SchedulerOptions,
  | 'cpu_allocation_ratio'
  | 'ram_allocation_ratio'
  | 'disk_allocation_ratio'
  | 'reserved_host_memory_mb'
  | 'reserved_host_disk_mb'
  | 'reserved_host_cpus'
  | 'max_io_ops_per_host'
  | 'max_instances_per_host'
  | 'service_down_time'
  | 'default_availability_zone'
>;

/**
 * Builds the HostState of `node` as of `nowMs`. Live claims (not absorbed, not
 * expired) count as usage and as instances, with their server group.
 */
export const hostStateFromNode = (node: NodeRecord, opts: HostStateOptions, nowMs: number): HostState => {
  const md = node.metadata;
  const cpuRatio = nodeNumber(md, 'cpu_allocation_ratio', 'ratio', opts.cpu_allocation_ratio);
  const ramRatio = nodeNumber(md, 'ram_allocation_ratio', 'ratio', opts.ram_allocation_ratio);
  const diskRatio = nodeNumber(md, 'disk_allocation_ratio', 'ratio', opts.disk_allocation_ratio);

  const instances = new Map<string, HostInstance>();
  let groups: Set<string> | undefined;
  for (const i of node.instances) instances.set(i.uuid.toLowerCase(), {});

  for (const c of liveClaims(node.claims, nowMs)) {
    const uuid = c.instance_uuid.toLowerCase();
    instances.set(uuid, c.group === undefined ? {} : { group: c.group });
    if (c.group !== undefined) {
      groups ??= new Set();
      groups.add(c.group);
    }
  }
  for (const uuid of Object.keys(node.announced ?? {})) instances.set(uuid.toLowerCase(), {});
  for (const uuid of Object.keys(node.released ?? {})) instances.delete(uuid.toLowerCase());
  // Rule 3 and the ledger: live claims (a listed one counts once, by the measurement) + announced − released.
  const pending = pendingUsage(node, nowMs);

  rememberGroups(instances, groups ?? new Set());

  // Nova: "Assume virtual size is all consumed by instances if use qcow2 disk."
  const freeDiskGb = Math.min(node.local_gb - node.local_gb_used, node.disk_available_least);
  const arch = canonicalArch(node.cpu_info.arch) ?? node.cpu_info.arch.toLowerCase();
  const reportAgeMs = nowMs - node.received_at_ms;

  return {
    host: node.host,
    nodename: node.hypervisor_hostname,
    vcpus_total: node.vcpus,
    vcpus_used: node.vcpus_used + opts.reserved_host_cpus + pending.vcpus,
    memory_mb: node.memory_mb,
    free_ram_mb: node.memory_mb - node.memory_mb_used - opts.reserved_host_memory_mb - pending.memory_mb,
    total_usable_disk_gb: node.local_gb,
    free_disk_mb: freeDiskGb * 1024 - opts.reserved_host_disk_mb - pending.disk_gb * 1024,
    disk_mb_used: node.local_gb_used * 1024 + opts.reserved_host_disk_mb + pending.disk_gb * 1024,
    // running_vms: measured, then moved by create.end / delete.end (or the instances listed, when
    // more, less those released since); unconfirmed claims on top.
    num_instances:
      Math.max(node.running_vms, node.instances.length - Object.keys(node.released ?? {}).length) + pending.unconfirmed,
    num_io_ops: node.current_workload,
    hypervisor_type: node.hypervisor_type,
    hypervisor_version: node.hypervisor_version,
    cpu_info: node.cpu_info,
    arch,
    supported_instances: supportedInstancesFor(arch, node.hypervisor_type),
    availability_zone:
      node.operator_availability_zone ?? node.reported_availability_zone ?? opts.default_availability_zone,
    up: nodeStatus(node.received_at_ms, nowMs, opts.service_down_time) === 'up',
    disabled: node.disabled,
    disabled_reason: node.disabled_reason,
    deleted: node.deleted !== 0,
    report_age_s: Math.max(0, reportAgeMs) / 1000,
    metadata: md,
    cpu_allocation_ratio: cpuRatio,
    ram_allocation_ratio: ramRatio,
    disk_allocation_ratio: diskRatio,
    max_io_ops_per_host: nodeNumber(md, 'max_io_ops_per_host', 'count', opts.max_io_ops_per_host),
    max_instances_per_host: nodeNumber(md, 'max_instances_per_host', 'count', opts.max_instances_per_host),
    weight_multipliers: weightMultiplierOverrides(md),
    limits: {
      memory_mb: node.memory_mb * ramRatio,
      vcpu: node.vcpus * cpuRatio,
      disk_gb: node.local_gb * diskRatio,
    },
    instances,
    ...signatureOf(instances),
  };
};
