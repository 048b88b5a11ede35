import { execFile } from 'node:child_process';
import { resolve, sep } from 'node:path';
import type { Instance } from '../core/nodes';

/** What libvirt says about this host: its hypervisor and the domains active on it now. */
export interface LibvirtHost {
  /** The hypervisor's own name, as `virsh version` prints it (`QEMU`, `TEST`, `Xen`, …). */
  hypervisorType: string;
  /** Nova encoding: major·1 000 000 + minor·1 000 + micro. */
  hypervisorVersion: number;
  /** Active guest domains (running, paused, …), sorted by uuid; never Xen's domain 0. */
  instances: Instance[];
  /**
   * Bytes the instance disks (those under the instances path) may still grow by:
   * Σ max(0, capacity − allocation).
   */
  diskOverCommitBytes: number;
  /**
   * Xen only: what Nova's libvirt driver sums for memory_mb_used there
   * (`_sum_domain_memory_mb(include_host=True)`), each in KiB as `virsh dominfo` prints it.
   */
  xen?: XenMemory;
}

/** The memory of a Xen host's domains, in KiB. */
export interface XenMemory {
  /** The node's memory (`virsh nodeinfo`), the whole machine rather than dom0's share; undefined when unread. */
  nodeKib: number | undefined;
  /** Σ `Used memory` of the guest domains (all active domains but domain 0). */
  guestsKib: number;
  /** Domain 0's `Used memory`; undefined when `virsh dominfo 0` failed (Nova then skips it too). */
  dom0Kib: number | undefined;
}

/** How to reach libvirt. */
export interface VirshOptions {
  /** Connection URI, e.g. `qemu:///system` or `test:///default`. */
  uri: string;
  /**
   * Nova's `instances_path`: a disk counts toward an instance's disk_gb and the
   * over-commit only when its source lies under it (several spellings of one directory,
   * e.g. the path as given and its realpath, may be passed). Undefined: every file or
   * block disk counts.
   */
  instancesPath?: string | readonly string[];
  /** Per-command timeout; a hung libvirtd must not stall the agent. */
  timeoutMs?: number;
  /** Environment for virsh (its PATH decides whether virsh is found). */
  env?: NodeJS.ProcessEnv;
}

const GIB = 2 ** 30;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** Xen's domain 0 has this uuid and id 0. */
const DOM0_UUID = '00000000-0000-0000-0000-000000000000';
const DEFAULT_TIMEOUT_MS = 5000;

/** Nova's version encoding: `6.2.0` → 6002000; missing parts count as 0. */
export const novaVersion = (version: string): number => {
  const [major = 0, minor = 0, micro = 0] = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  return major * 1_000_000 + minor * 1_000 + micro;
};

/** True for the hypervisor names libvirt's Xen drivers (libxl, the legacy xend one) report. */
export const isXen = (hypervisorType: string): boolean => /^xen$/i.test(hypervisorType);

/**
 * Reads `virsh version`: the `Running hypervisor:` line names the hypervisor and its
 * version; drivers that print none fall back to the `Using API:` type with version 0.
 */
export const parseVirshVersion = (stdout: string): { type: string; version: number } | undefined => {
  const running = /^Running hypervisor:\s*(\S+)\s+(\d+(?:\.\d+)*)\s*$/m.exec(stdout);
  if (running?.[1] && running[2]) return { type: running[1], version: novaVersion(running[2]) };
  const api = /^Using API:\s*(\S+)/m.exec(stdout);
  return api?.[1] ? { type: api[1], version: 0 } : undefined;
};

/** One domain as `virsh dominfo` describes it. */
export interface Dominfo {
  /** The domain id; undefined for an inactive domain (`Id: -`). Xen's domain 0 has id 0. */
  id: number | undefined;
  uuid: string;
  /** `CPU(s)`: the vCPUs online now, what Nova's vcpus_used counts. */
  vcpus: number;
  /** `Max memory`, KiB → whole MiB: the instance's memory. */
  memory_mb: number;
  /** `Used memory` in KiB (the balloon's current size): what Nova sums for Xen's memory_mb_used. */
  usedKib: number;
}

/** Reads `virsh dominfo`: id, uuid, vcpus (`CPU(s)`), memory (`Max memory`, `Used memory`). */
export const parseDominfo = (stdout: string): Dominfo | undefined => {
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*?)\\s*$`, 'm').exec(stdout)?.[1];
  const kib = (name: string) => /^(\d+)\s*KiB$/.exec(field(name) ?? '')?.[1];
  const uuid = field('UUID');
  const vcpus = Number.parseInt(field('CPU\\(s\\)') ?? '', 10);
  if (!uuid || !UUID.test(uuid) || !Number.isSafeInteger(vcpus)) return undefined;
  const idText = field('Id') ?? '';
  const maxKib = kib('Max memory');
  const usedKib = kib('Used memory');
  return {
    id: /^\d+$/.test(idText) ? Number(idText) : undefined,
    uuid: uuid.toLowerCase(),
    vcpus,
    memory_mb: maxKib ? Math.floor(Number(maxKib) / 1024) : 0,
    usedKib: usedKib ? Number(usedKib) : maxKib ? Number(maxKib) : 0,
  };
};

/** One row of `virsh domblklist --details`. */
export interface BlockDevice {
  /** `file`, `block`, `network`, `volume`, … */
  type: string;
  /** `disk`, `cdrom`, `floppy`, `lun`. */
  device: string;
  target: string;
  /** The source path (or network name); undefined when the device has none (`-`, an empty CD-ROM). */
  source: string | undefined;
}

/** Reads `virsh domblklist --details` (with or without its header): Type, Device, Target, Source. */
export const parseDomblklist = (stdout: string): BlockDevice[] =>
  stdout
    .split('\n')
    .map((line) => /^\s*(\S+)\s+(\S+)\s+(\S+)\s+(.*?)\s*$/.exec(line))
    .filter((m) => m !== null && !(m[1] === 'Type' && m[2] === 'Device'))
    .map((m) => ({
      type: m?.[1] ?? '',
      device: m?.[2] ?? '',
      target: m?.[3] ?? '',
      source: m?.[4] && m[4] !== '-' ? m[4] : undefined,
    }));

/** A disk's sizes in bytes, as `virsh domblkinfo` prints them. */
export interface BlockInfo {
  target: string;
  capacity: number;
  allocation: number;
}

/** Reads `virsh domblkinfo --all`: one row per disk with capacity and allocation in bytes (`-` rows skipped). */
export const parseDomblkinfo = (stdout: string): BlockInfo[] =>
  stdout
    .split('\n')
    .map((line) => /^\s*(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line))
    .filter((m) => m !== null)
    .map((m) => ({ target: m[1] ?? '', capacity: Number(m[2]), allocation: Number(m[3]) }));

/** Reads `virsh domblkinfo <domain> <target>` (one disk: `Capacity:`, `Allocation:` lines). */
export const parseDomblkinfoOne = (target: string, stdout: string): BlockInfo | undefined => {
  const capacity = /^Capacity:\s*(\d+)\s*$/m.exec(stdout)?.[1];
  const allocation = /^Allocation:\s*(\d+)\s*$/m.exec(stdout)?.[1];
  return capacity && allocation ? { target, capacity: Number(capacity), allocation: Number(allocation) } : undefined;
};

/** Reads `virsh nodeinfo`'s `Memory size:` in KiB. */
export const parseNodeinfoMemoryKib = (stdout: string): number | undefined => {
  const kib = /^Memory size:\s*(\d+)\s*KiB\s*$/m.exec(stdout)?.[1];
  return kib ? Number(kib) : undefined;
};

/** The instances path spellings, resolved, without trailing separators. */
const roots = (paths: string | readonly string[]): string[] =>
  (typeof paths === 'string' ? [paths] : [...paths]).map((p) => resolve(p));

/** True when `path` lies strictly below one of `roots` (whole path components). */
export const isUnder = (path: string, under: string | readonly string[]): boolean =>
  path.startsWith(sep) && roots(under).some((r) => path.startsWith(r.endsWith(sep) ? r : r + sep));

/**
 * The disks Nova counts as an instance's local storage: file or block devices (not
 * network or volume ones, which live elsewhere) with a source under the instances path.
 */
export const localDisks = (devices: BlockDevice[], instancesPath: string | readonly string[] | undefined) =>
  devices.filter(
    (d) =>
      (d.type === 'file' || d.type === 'block') &&
      d.source !== undefined &&
      (instancesPath === undefined || isUnder(d.source, instancesPath)),
  );

/** One line from virsh's stderr: `error: ` prefixes dropped, lines joined. */
const oneLine = (stderr: string): string =>
  stderr
    .split('\n')
    .map((l) => l.trim().replace(/^error:\s*/, ''))
    .filter((l) => l.length > 0)
    .join('; ');

const virsh = (opts: VirshOptions, args: string[]): Promise<string> =>
  new Promise((resolvePromise, reject) => {
    const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    execFile(
      'virsh',
      // Read-only: the agent only looks, so the unprivileged read-only socket is enough.
      ['--readonly', '--quiet', '-c', opts.uri, ...args],
      { timeout, env: { ...(opts.env ?? process.env), LC_ALL: 'C' }, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) {
          resolvePromise(stdout);
          return;
        }
        const e = error as NodeJS.ErrnoException & { killed?: boolean };
        const why =
          e.code === 'ENOENT'
            ? 'virsh not found on PATH (Debian/Ubuntu: apt-get install libvirt-clients)'
            : e.killed
              ? `no answer within ${timeout} ms`
              : oneLine(stderr) || error.message;
        reject(new Error(`virsh ${args[0]}: ${why}`, { cause: error }));
      },
    );
  });

/** Runs `fn` over `items` with at most `limit` in flight. */
const mapLimit = async <T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> => {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
};

/**
 * Sizes of `disks` of domain `uuid`: one `domblkinfo --all` matched by target, or, where
 * an old virsh lacks `--all`, one `domblkinfo <target>` per disk. A disk whose size
 * cannot be read counts as 0 bytes.
 */
const diskSizes = async (opts: VirshOptions, uuid: string, disks: BlockDevice[]): Promise<BlockInfo[]> => {
  if (disks.length === 0) return [];
  const all = await virsh(opts, ['domblkinfo', uuid, '--all']).then(parseDomblkinfo, () => undefined);
  if (all) {
    const byTarget = new Map(all.map((b) => [b.target, b]));
    return disks.flatMap((d) => byTarget.get(d.target) ?? []);
  }
  const one = await Promise.all(
    disks.map((d) =>
      virsh(opts, ['domblkinfo', uuid, d.target]).then(
        (out) => parseDomblkinfoOne(d.target, out),
        () => undefined,
      ),
    ),
  );
  return one.filter((b) => b !== undefined);
};

/**
 * Reads the hypervisor and its active domains through `virsh` (never a shell), as Nova's
 * libvirt driver lists them: every active domain but Xen's domain 0 is an instance, with
 * its uuid, online vCPUs, maximum memory and the disks under the instances path.
 * Rejects when virsh is missing or the connection fails; a domain that stops between
 * `list` and `dominfo` is skipped, and a domain whose disk table cannot be read counts
 * no disk.
 */
export const readLibvirt = async (opts: VirshOptions): Promise<LibvirtHost> => {
  const hv = parseVirshVersion(await virsh(opts, ['version']));
  if (!hv) throw new Error(`virsh version: no hypervisor named for ${opts.uri}`);
  const xen = isXen(hv.type);
  // Active domains (running, paused, …): what Nova's libvirt driver counts as running_vms.
  const listed = (await virsh(opts, ['list', '--uuid'])).split('\n').map((l) => l.trim().toLowerCase());
  const uuids = [...new Set(listed.filter((l) => UUID.test(l) && l !== DOM0_UUID))];
  const [domains, dom0, nodeKib] = await Promise.all([
    mapLimit(uuids, 4, async (uuid) => {
      const info = await virsh(opts, ['dominfo', uuid]).then(parseDominfo, () => undefined);
      // Gone since `list`, or Xen's domain 0 under another uuid: not an instance.
      if (!info || info.id === 0) return undefined;
      const devices = await virsh(opts, ['domblklist', uuid, '--details']).then(parseDomblklist, () => []);
      const disks = await diskSizes(opts, uuid, localDisks(devices, opts.instancesPath));
      return { info, disks };
    }),
    // Nova's _sum_domain_memory_mb: on Xen, domain 0's memory is the host's own use.
    xen ? virsh(opts, ['dominfo', '0']).then(parseDominfo, () => undefined) : undefined,
    xen ? virsh(opts, ['nodeinfo']).then(parseNodeinfoMemoryKib, () => undefined) : undefined,
  ]);
  const instances: Instance[] = [];
  let diskOverCommitBytes = 0;
  let guestsKib = 0;
  for (const d of domains) {
    if (!d) continue;
    const capacity = d.disks.reduce((s, k) => s + k.capacity, 0);
    // Nova's available_least: an instance disk may still grow from what it holds to its virtual size.
    diskOverCommitBytes += d.disks.reduce((s, k) => s + Math.max(0, k.capacity - k.allocation), 0);
    guestsKib += d.info.usedKib;
    instances.push({
      uuid: d.info.uuid,
      vcpus: d.info.vcpus,
      memory_mb: d.info.memory_mb,
      disk_gb: Math.floor(capacity / GIB),
    });
  }
  instances.sort((a, b) => a.uuid.localeCompare(b.uuid));
  return {
    hypervisorType: hv.type,
    hypervisorVersion: hv.version,
    instances,
    diskOverCommitBytes,
    ...(xen ? { xen: { nodeKib, guestsKib, dom0Kib: dom0?.id === 0 ? dom0.usedKib : undefined } } : {}),
  };
};
