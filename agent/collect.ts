import { realpath, statfs } from 'node:fs/promises';
import { availableParallelism, cpus, endianness, hostname, arch as osArch } from 'node:os';
import { dirname, resolve, sep } from 'node:path';
import * as si from 'systeminformation';
import type { CpuInfo, Report } from '../core/nodes';
import { type LibvirtHost, readLibvirt, type XenMemory } from './libvirt';
import { createLog, errorText, type Log } from './log';

/** A report before the reporter stamps it: everything but `seq` and `reported_at`. */
export type Figures = Omit<Report, 'seq' | 'reported_at'>;

/** What to read and how to name it. */
export interface CollectOptions {
  /** `hypervisor_hostname`; defaults to os.hostname(). */
  host?: string;
  /** Where instance disks live (Nova's `instances_path`). */
  instancesPath?: string;
  availabilityZone?: string;
  /** libvirt connection URI for virsh; defaults to DEFAULT_LIBVIRT_URI. */
  libvirtUri?: string;
  /** @deprecated The old name of `libvirtUri`, read when `libvirtUri` is not given. */
  virshUri?: string;
  /** Environment for child processes (its PATH decides whether virsh is found). */
  env?: NodeJS.ProcessEnv;
  /**
   * Where the `libvirt` line goes (default text lines on stderr): once per distinct
   * failure to reach libvirt, not on every report.
   */
  log?: Log;
}

/** Nova's default `instances_path`. */
export const DEFAULT_INSTANCES_PATH = '/var/lib/nova/instances';
/** libvirt's system connection, as Nova's libvirt driver uses for KVM/QEMU. */
export const DEFAULT_LIBVIRT_URI = 'qemu:///system';
/** @deprecated The old name of DEFAULT_LIBVIRT_URI. */
export const DEFAULT_VIRSH_URI = DEFAULT_LIBVIRT_URI;

const MIB = 2 ** 20;
const GIB = 2 ** 30;

/** GiB as Nova counts them: whole GiB, rounded down. */
export const gib = (bytes: number): number => Math.floor(bytes / GIB);

/** Node's `os.arch()` in the names Nova and libvirt use (`x86_64`, `aarch64`, …). */
export const novaArch = (nodeArch: string, endian: 'BE' | 'LE' = 'LE'): string => {
  switch (nodeArch) {
    case 'x64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    case 'ia32':
      return 'i686';
    case 'arm':
      return 'armv7l';
    case 'ppc64':
      return endian === 'LE' ? 'ppc64le' : 'ppc64';
    case 'loong64':
      return 'loongarch64';
    case 'mipsel':
      return 'mipsel';
    case 'mips':
      return 'mips';
    default:
      // s390x, riscv64, ppc already carry their libvirt names.
      return nodeArch;
  }
};

/** CPU flags as a sorted set that fits the report schema (at most 1024 names of ≤ 64 characters). */
export const cpuFeatures = (flags: string): string[] =>
  [...new Set(flags.split(/\s+/).filter((f) => f.length > 0 && f.length <= 64))].sort().slice(0, 1024);

/**
 * Topology per Nova's cpu_info: sockets, cores per socket, threads per core; each ≥ 1.
 * `logical` is the count of logical CPUs, `physical` of physical cores on all sockets.
 */
export const cpuTopology = (sockets: number, physical: number, logical: number): CpuInfo['topology'] => {
  const s = Math.max(1, Math.floor(sockets) || 1);
  const p = Math.max(1, Math.floor(physical) || 1);
  return {
    sockets: s,
    cores: Math.max(1, Math.floor(p / s)),
    threads: Math.max(1, Math.floor(logical / p)),
  };
};

/** A mounted filesystem, as si.fsSize() lists it (bytes). */
export interface Mount {
  mount: string;
  size: number;
  available: number;
}

/** The mount that holds `path`: the longest mount point that is a whole-component prefix of it. */
export const mountFor = <M extends Mount>(mounts: M[], path: string): M | undefined => {
  const holds = (m: string) => m === path || m === sep || path.startsWith(m.endsWith(sep) ? m : m + sep);
  return mounts.filter((m) => holds(m.mount)).sort((a, b) => b.mount.length - a.mount.length)[0];
};

/** `path` resolved through symlinks, or its nearest existing ancestor when it does not exist (yet). */
export const nearestExisting = async (path: string): Promise<string> => {
  let p = resolve(path);
  for (;;) {
    try {
      return await realpath(p);
    } catch {
      const up = dirname(p);
      if (up === p) return p;
      p = up;
    }
  }
};

/** Disk figures of the filesystem holding the instances path, in whole GiB. */
export const diskFigures = (
  fs: { size: number; available: number },
  overCommitBytes: number,
): Pick<Figures, 'local_gb' | 'local_gb_used' | 'disk_available_least'> => {
  const local_gb = gib(fs.size);
  return {
    local_gb,
    // Used = size − available: df's "Used" plus the blocks reserved for root, which an
    // unprivileged qemu cannot write either. Nova's libvirt driver reports df's "Used"
    // (f_blocks − f_bfree) alone; counting reserved blocks as used makes free_disk_gb
    // (= local_gb − local_gb_used) equal floor(available GiB), never more than can be written.
    local_gb_used: Math.max(0, local_gb - gib(fs.available)),
    // Nova: available_least = free − Σ (virtual size − actual size) of instance disks.
    disk_available_least: gib(fs.available - overCommitBytes),
  };
};

/**
 * Memory in MiB, as Nova's libvirt driver counts it (`_get_memory_mb_used`):
 * used = MemTotal − (MemFree + Buffers + Cached). `free -m`'s buff/cache adds
 * SReclaimable to Buffers + Cached, so free's total − free − buff/cache sits a
 * little below this; procps ≥ 4.0.1's own "used" column (total − available) is
 * another definition again, and not the one Nova schedules with.
 */
export const memoryFigures = (mem: {
  total: number;
  free: number;
  buffers: number;
  cached: number;
}): Pick<Figures, 'memory_mb' | 'memory_mb_used'> => {
  const memory_mb = Math.floor(mem.total / MIB);
  const used = mem.total - mem.free - mem.buffers - mem.cached;
  return { memory_mb, memory_mb_used: Math.min(memory_mb, Math.max(0, Math.round(used / MIB))) };
};

/**
 * Memory in MiB on a Xen host, as Nova's libvirt driver counted it there
 * (`_sum_domain_memory_mb(include_host=True)`): the node's memory from libvirt (the
 * agent runs in domain 0, whose /proc/meminfo sees dom0's share only), and used =
 * Σ guests' memory + domain 0's memory − what dom0 has free (MemFree + Buffers + Cached),
 * in KiB, floored to MiB. Without domain 0's figure Nova skips it, free memory with it.
 * `mem` is dom0's /proc/meminfo in bytes, `memory_mb` its total when libvirt gave none.
 */
export const xenMemoryFigures = (
  xen: XenMemory,
  mem: { total: number; free: number; buffers: number; cached: number },
): Pick<Figures, 'memory_mb' | 'memory_mb_used'> => {
  const memory_mb = Math.floor((xen.nodeKib !== undefined ? xen.nodeKib * 1024 : mem.total) / MIB);
  const availKib = Math.floor((mem.free + mem.buffers + mem.cached) / 1024);
  const usedKib = xen.guestsKib + (xen.dom0Kib !== undefined ? xen.dom0Kib - availKib : 0);
  return { memory_mb, memory_mb_used: Math.min(memory_mb, Math.max(0, Math.floor(usedKib / 1024))) };
};

interface StaticFacts {
  cpuInfo: CpuInfo;
}

const readStaticFacts = async (): Promise<StaticFacts> => {
  const [cpu, flags] = await Promise.all([si.cpu(), si.cpuFlags()]);
  const features = cpuFeatures(flags);
  return {
    cpuInfo: {
      arch: novaArch(osArch(), endianness()),
      vendor: cpu.manufacturer || cpu.vendor,
      model: cpu.brand,
      features,
      topology: cpuTopology(cpu.processors, cpu.physicalCores, cpu.cores),
    },
  };
};

const fsOf = async (path: string): Promise<Mount> => {
  const resolved = await nearestExisting(path);
  const found = mountFor(await si.fsSize(), resolved);
  if (found) return found;
  // si lists what df lists; a path df cannot see still has a statfs(2).
  const s = await statfs(resolved);
  return { mount: resolved, size: s.blocks * s.bsize, available: s.bavail * s.bsize };
};

/** The directory as given and, when it exists, as its realpath: disk sources may use either. */
const instancesRoots = async (path: string): Promise<string[]> => {
  const given = resolve(path);
  const real = await realpath(given).catch(() => given);
  return real === given ? [given] : [given, real];
};

/**
 * Makes a collector: each call reads this host afresh. CPU model, flags and topology
 * are read once (they do not change while the agent runs); the online CPU count,
 * memory, disk and libvirt domains are read on every call.
 *
 * libvirt that cannot be reached (virsh missing, the URI not answering) leaves the
 * report with no instances and hypervisor `none` (version 0), and logs why once per
 * distinct reason; a later success forgets it, so a new outage is logged again.
 */
export const createCollector = (opts: CollectOptions = {}): (() => Promise<Figures>) => {
  let facts: Promise<StaticFacts> | undefined;
  const host = opts.host ?? hostname();
  const uri = opts.libvirtUri ?? opts.virshUri ?? DEFAULT_LIBVIRT_URI;
  const instancesPath = opts.instancesPath ?? DEFAULT_INSTANCES_PATH;
  const log = opts.log ?? createLog();
  let lastFailure: string | undefined;
  const libvirtOf = async (): Promise<LibvirtHost | undefined> => {
    try {
      const found = await readLibvirt({ uri, instancesPath: await instancesRoots(instancesPath), env: opts.env });
      lastFailure = undefined;
      return found;
    } catch (e) {
      const why = errorText(e);
      if (why !== lastFailure)
        log('libvirt', { uri, status: 'unreachable', error: why, note: 'reporting no instances' });
      lastFailure = why;
      return undefined;
    }
  };
  return async () => {
    facts ??= readStaticFacts().catch((e: unknown) => {
      facts = undefined;
      throw e;
    });
    const [{ cpuInfo }, mem, fs, libvirt] = await Promise.all([facts, si.mem(), fsOf(instancesPath), libvirtOf()]);
    const instances = libvirt?.instances ?? [];
    return {
      hypervisor_hostname: host,
      hypervisor_type: libvirt?.hypervisorType ?? 'none',
      hypervisor_version: libvirt?.hypervisorVersion ?? 0,
      cpu_info: cpuInfo,
      // Online logical CPUs, as nproc counts them (os.cpus() is empty where /proc is hidden).
      vcpus: cpus().length || availableParallelism(),
      // Xen: Nova summed the domains' memory (dom0's included); elsewhere the host's own /proc/meminfo.
      ...(libvirt?.xen ? xenMemoryFigures(libvirt.xen, mem) : memoryFigures(mem)),
      ...diskFigures(fs, libvirt?.diskOverCommitBytes ?? 0),
      vcpus_used: instances.reduce((s, i) => s + i.vcpus, 0),
      running_vms: instances.length,
      // Nova counts build/resize/migrate tasks in flight; the host cannot see those.
      current_workload: 0,
      instances,
      ...(opts.availabilityZone ? { availability_zone: opts.availabilityZone } : {}),
    };
  };
};

/** Reads this host once. */
export const collect = (opts: CollectOptions = {}): Promise<Figures> => createCollector(opts)();
