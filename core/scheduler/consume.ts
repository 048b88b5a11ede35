/**
 * What a pick takes: in memory between the picks of one request (Nova's
 * `consume_from_request`), and in the store as the claim's amounts.
 */
import { forgetGroups } from './group-index';
import { addToSignature, groupBit, type InstanceSignature, instanceBit } from './instance-signature';
import { requestedDiskMb } from './resources';
import type { HostLimits, HostState, RequestSpec } from './types';

/** Copy of a host that the scheduler may consume from without touching the caller's. */
export const cloneHost = (h: HostState): HostState => ({ ...h, instances: new Map(h.instances) });

/**
 * Nova's consume_from_request: the pick's resources go down, one more instance
 * and one more I/O operation, and the instance joins the host (with its group).
 * Disk includes swap, as the DiskFilter request and the claim do (Nova's
 * consume_from_request leaves swap out).
 */
export const consume = (h: HostState, spec: RequestSpec, uuid: string): void => {
  const f = spec.instance_type;
  const group = spec.scheduler_hints.group ?? null;
  const diskMb = requestedDiskMb(f);
  h.free_ram_mb -= f.memory_mb;
  h.free_disk_mb -= diskMb;
  h.disk_mb_used += diskMb;
  h.vcpus_used += f.vcpus;
  h.num_instances += 1;
  h.num_io_ops += 1;
  h.instances.set(uuid, group === null ? {} : { group });
  if (h.instance_sig_lo !== undefined && h.instance_sig_hi !== undefined) {
    addToSignature(h as InstanceSignature, instanceBit(uuid));
    if (group !== null) addToSignature(h as InstanceSignature, groupBit(group));
  }
  forgetGroups(h.instances);
};

/** What the atomic claim for one pick reserves, and the limits it must respect. */
export interface ClaimAmounts {
  host: string;
  instance_uuid: string;
  vcpus: number;
  memory_mb: number;
  /** root_gb + ephemeral_gb + ceil(swap MB / 1024). */
  disk_gb: number;
  group?: string;
  /** capacity × allocation ratio of the host. */
  limits: HostLimits;
}

/** The claim for placing `instanceUuid` of `spec` on `host`. */
export const claimAmounts = (host: HostState, spec: RequestSpec, instanceUuid: string): ClaimAmounts => {
  const f = spec.instance_type;
  const group = spec.scheduler_hints.group;
  return {
    host: host.host,
    instance_uuid: instanceUuid,
    vcpus: f.vcpus,
    memory_mb: f.memory_mb,
    disk_gb: f.root_gb + f.ephemeral_gb + Math.ceil(f.swap / 1024),
    ...(group === undefined ? {} : { group }),
    limits: { ...host.limits },
  };
};
