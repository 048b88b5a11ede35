/**
 * One measure per resource (RAM, vCPUs, disk): the figures a host offers for a
 * request under its allocation ratio. RamFilter, CoreFilter and DiskFilter take
 * their verdict and their reason from it, and the claim's bound
 * (`claimRoom`, the conditional write's maxClaimedBefore) takes `usable` from
 * it, so the three cannot disagree. After Kubernetes' `InsufficientResource
 * {Requested, Used, Capacity}`, with Nova's ratio and limit beside them.
 */

import type { HostState } from './types';

/** How a request compares with what a host offers. */
export type Fit = 'fits' | 'larger_than_host' | 'insufficient';

/** The figures one resource of one host was judged on. Units: MB for RAM and disk, vCPUs for CPU. */
export type ResourceMeasure = {
  resource: 'RAM' | 'vCPUs' | 'disk';
  requested: number;
  /** Nova's total_usable_* (vcpus_total for CPU). */
  capacity: number;
  ratio: number;
  used: number;
  /** capacity × ratio. */
  limit: number;
  /** limit − used; Infinity for vCPUs of a host reporting none (Nova's fail-safe: no vCPU limit). */
  usable: number;
  fit: Fit;
};

// Each resource has three parts that share one formula: `usable…` (the room, which the claim's
// bound reads), `fit…` (the verdict, which the filter's hot path calls for every host, so it builds
// nothing) and `measure…` (the figures of a rejection: the same two, with what they were computed from).

/**
 * RAM (Nova ≤ Stein RamFilter):
 *   used = total − free (free already net of reserved and claims); usable = total × ratio − used;
 *   fits iff total ≥ requested (no instance overcommits against itself) and usable ≥ requested.
 */
export const usableRam = (h: HostState): number => h.memory_mb * h.ram_allocation_ratio - (h.memory_mb - h.free_ram_mb);

/** RAM's verdict for `requested` MB. */
export const fitRam = (h: HostState, requested: number): Fit =>
  h.memory_mb < requested ? 'larger_than_host' : usableRam(h) < requested ? 'insufficient' : 'fits';

/** RAM's figures for `requested` MB. */
export const measureRam = (h: HostState, requested: number): ResourceMeasure => {
  const capacity = h.memory_mb;
  const ratio = h.ram_allocation_ratio;
  const used = capacity - h.free_ram_mb;
  const limit = capacity * ratio;
  return { resource: 'RAM', requested, capacity, ratio, used, limit, usable: usableRam(h), fit: fitRam(h, requested) };
};

/**
 * vCPUs (Nova ≤ Stein CoreFilter):
 *   limit = vcpus_total × ratio; usable = limit − vcpus_used;
 *   fits iff vcpus_total = 0 (Nova's fail-safe, "CPU collection broken": no vCPU limit at all,
 *   so usable = ∞) or (requested ≤ vcpus_total, unless the limit is 0) and usable ≥ requested.
 */
export const usableVcpus = (h: HostState): number =>
  h.vcpus_total ? h.vcpus_total * h.cpu_allocation_ratio - h.vcpus_used : Number.POSITIVE_INFINITY;

/** The vCPUs' verdict for `requested` vCPUs. */
export const fitVcpus = (h: HostState, requested: number): Fit => {
  const capacity = h.vcpus_total;
  if (!capacity) return 'fits';
  if (capacity * h.cpu_allocation_ratio > 0 && requested > capacity) return 'larger_than_host';
  return usableVcpus(h) < requested ? 'insufficient' : 'fits';
};

/** The vCPUs' figures for `requested` vCPUs. */
export const measureVcpus = (h: HostState, requested: number): ResourceMeasure => {
  const capacity = h.vcpus_total;
  const ratio = h.cpu_allocation_ratio;
  return {
    resource: 'vCPUs',
    requested,
    capacity,
    ratio,
    used: h.vcpus_used,
    limit: capacity * ratio,
    usable: usableVcpus(h),
    fit: fitVcpus(h, requested),
  };
};

/**
 * Disk in MB (Nova ≤ Stein DiskFilter):
 *   total = total_usable_disk_gb × 1024; used = total − free_disk_mb; usable = total × ratio − used;
 *   fits iff total ≥ requested and usable ≥ requested.
 * `free_disk_mb` comes from min(free_disk_gb, disk_available_least), as in Nova's HostState.
 */
export const usableDisk = (h: HostState): number => {
  const capacity = h.total_usable_disk_gb * 1024;
  return capacity * h.disk_allocation_ratio - (capacity - h.free_disk_mb);
};

/** The disk's verdict for `requested` MB. */
export const fitDisk = (h: HostState, requested: number): Fit =>
  h.total_usable_disk_gb * 1024 < requested ? 'larger_than_host' : usableDisk(h) < requested ? 'insufficient' : 'fits';

/** The disk's figures for `requested` MB. */
export const measureDisk = (h: HostState, requested: number): ResourceMeasure => {
  const capacity = h.total_usable_disk_gb * 1024;
  const ratio = h.disk_allocation_ratio;
  return {
    resource: 'disk',
    requested,
    capacity,
    ratio,
    used: capacity - h.free_disk_mb,
    limit: capacity * ratio,
    usable: usableDisk(h),
    fit: fitDisk(h, requested),
  };
};

/** The disk a flavor asks of the DiskFilter: (root_gb + ephemeral_gb) × 1024 + swap MB. */
export const requestedDiskMb = (f: { root_gb: number; ephemeral_gb: number; swap: number }): number =>
  (f.root_gb + f.ephemeral_gb) * 1024 + f.swap;

/** The usage a host still has room for, in the claim's units (disk in whole GB). */
export interface ClaimRoom {
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
}

/**
 * What more the claims on `h` may add: each resource's `usable`, as its
 * measure reports it, disk rounded down to whole GB as claims count it.
 */
export const claimRoom = (h: HostState): ClaimRoom => ({
  vcpus: usableVcpus(h),
  memory_mb: usableRam(h),
  disk_gb: Math.floor(usableDisk(h) / 1024),
});
