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

/**
 * RAM (Nova ≤ Stein RamFilter):
 *   used = total − free (free already net of reserved and claims); usable = total × ratio − used;
 *   fits iff total ≥ requested (no instance overcommits against itself) and usable ≥ requested.
 */
export const measureRam = (h: HostState, requested: number): ResourceMeasure => {
  const capacity = h.memory_mb;
  const ratio = h.ram_allocation_ratio;
  const used = capacity - h.free_ram_mb;
  const limit = capacity * ratio;
  const usable = limit - used;
  const fit: Fit = capacity < requested ? 'larger_than_host' : usable < requested ? 'insufficient' : 'fits';
  return { resource: 'RAM', requested, capacity, ratio, used, limit, usable, fit };
};

/**
 * vCPUs (Nova ≤ Stein CoreFilter):
 *   limit = vcpus_total × ratio; usable = limit − vcpus_used;
 *   fits iff vcpus_total = 0 (Nova's fail-safe, "CPU collection broken": no vCPU limit at all)
 *   or (requested ≤ vcpus_total, unless the limit is 0) and usable ≥ requested.
 */
export const measureVcpus = (h: HostState, requested: number): ResourceMeasure => {
  const capacity = h.vcpus_total;
  const ratio = h.cpu_allocation_ratio;
  const used = h.vcpus_used;
  const limit = capacity * ratio;
  const usable = capacity ? limit - used : Number.POSITIVE_INFINITY;
  const fit: Fit = !capacity
    ? 'fits'
    : limit > 0 && requested > capacity
      ? 'larger_than_host'
      : usable < requested
        ? 'insufficient'
        : 'fits';
  return { resource: 'vCPUs', requested, capacity, ratio, used, limit, usable, fit };
};

/**
 * Disk in MB (Nova ≤ Stein DiskFilter):
 *   total = total_usable_disk_gb × 1024; used = total − free_disk_mb; usable = total × ratio − used;
 *   fits iff total ≥ requested and usable ≥ requested.
 * `free_disk_mb` comes from min(free_disk_gb, disk_available_least), as in Nova's HostState.
 */
export const measureDisk = (h: HostState, requested: number): ResourceMeasure => {
  const capacity = h.total_usable_disk_gb * 1024;
  const ratio = h.disk_allocation_ratio;
  const used = capacity - h.free_disk_mb;
  const limit = capacity * ratio;
  const usable = limit - used;
  const fit: Fit = capacity < requested ? 'larger_than_host' : usable < requested ? 'insufficient' : 'fits';
  return { resource: 'disk', requested, capacity, ratio, used, limit, usable, fit };
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
 * What more the claims on `h` may add: each measure's `usable` (a request of 0
 * asks nothing but the room), disk rounded down to whole GB as claims count it.
 */
export const claimRoom = (h: HostState): ClaimRoom => ({
  vcpus: measureVcpus(h, 0).usable,
  memory_mb: measureRam(h, 0).usable,
  disk_gb: Math.floor(measureDisk(h, 0).usable / 1024),
});
