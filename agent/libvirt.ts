import { execFile } from 'node:child_process';
import type { Instance } from '../core/nodes';

/** What libvirt says about this host: its hypervisor and the domains active on it now. */
export interface LibvirtHost {
  /** The hypervisor's own name, as `virsh version` prints it (`QEMU`, `TEST`, `Xen`, …). */
  hypervisorType: string;
  /** Nova encoding: major·1 000 000 + minor·1 000 + micro. */
  hypervisorVersion: number;
  instances: Instance[];
  /** Bytes the instance disks may still grow by: Σ max(0, capacity − allocation). */
  diskOverCommitBytes: number;
}

/** How to reach libvirt. */
export interface VirshOptions {
  /** Connection URI, e.g. `qemu:///system` or `test:///default`. */
  uri: string;
  /** Per-command timeout; a hung libvirtd must not stall the agent. */
  timeoutMs?: number;
  /** Environment for virsh (its PATH decides whether virsh is found). */
  env?: NodeJS.ProcessEnv;
}

const GIB = 2 ** 30;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Nova's version encoding: `6.2.0` → 6002000; missing parts count as 0. */
export const novaVersion = (version: string): number => {
  const [major = 0, minor = 0, micro = 0] = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  return major * 1_000_000 + minor * 1_000 + micro;
};

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

/** Reads `virsh dominfo`: uuid, vcpus (`CPU(s)`) and memory (`Max memory`, KiB → MiB). */
export const parseDominfo = (stdout: string): { uuid: string; vcpus: number; memory_mb: number } | undefined => {
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*?)\\s*$`, 'm').exec(stdout)?.[1];
  const uuid = field('UUID');
  const vcpus = Number.parseInt(field('CPU\\(s\\)') ?? '', 10);
  const maxKib = /^(\d+)\s*KiB$/.exec(field('Max memory') ?? '')?.[1];
  if (!uuid || !UUID.test(uuid) || !Number.isSafeInteger(vcpus)) return undefined;
  return { uuid, vcpus, memory_mb: maxKib ? Math.floor(Number(maxKib) / 1024) : 0 };
};

/** Reads `virsh domblkinfo --all`: one row per disk with capacity and allocation in bytes. */
export const parseDomblkinfo = (stdout: string): { target: string; capacity: number; allocation: number }[] =>
  stdout
    .split('\n')
    .map((line) => /^\s*(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line))
    .filter((m) => m !== null)
    .map((m) => ({ target: m[1] ?? '', capacity: Number(m[2]), allocation: Number(m[3]) }));

const virsh = (opts: VirshOptions, args: string[]): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(
      'virsh',
      // Read-only: the agent only looks, so the unprivileged read-only socket is enough.
      ['--readonly', '--quiet', '-c', opts.uri, ...args],
      {
        timeout: opts.timeoutMs ?? 5000,
        env: { ...(opts.env ?? process.env), LC_ALL: 'C' },
        maxBuffer: 4 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`virsh ${args[0]}: ${stderr.trim() || error.message}`, { cause: error }));
        else resolve(stdout);
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
 * Reads the hypervisor and its active domains through `virsh` (never a shell).
 * Rejects when virsh is missing or the connection fails; a domain that stops between
 * `list` and `dominfo` is skipped, as is a disk table an old virsh cannot print.
 */
export const readLibvirt = async (opts: VirshOptions): Promise<LibvirtHost> => {
  const hv = parseVirshVersion(await virsh(opts, ['version']));
  if (!hv) throw new Error(`virsh version: no hypervisor named for ${opts.uri}`);
  // Active domains (running, paused, …): what Nova's libvirt driver counts as running_vms.
  const uuids = (await virsh(opts, ['list', '--uuid'])).split('\n').filter((l) => UUID.test(l.trim()));
  const domains = await mapLimit(
    uuids.map((u) => u.trim()),
    4,
    async (uuid) => {
      const info = await virsh(opts, ['dominfo', uuid]).then(parseDominfo, () => undefined);
      if (!info) return undefined;
      const disks = await virsh(opts, ['domblkinfo', uuid, '--all']).then(parseDomblkinfo, () => []);
      return { info, disks };
    },
  );
  const instances: Instance[] = [];
  let diskOverCommitBytes = 0;
  for (const d of domains) {
    if (!d) continue;
    const capacity = d.disks.reduce((s, k) => s + k.capacity, 0);
    // Nova's available_least: an instance disk may still grow from what it holds to its virtual size.
    diskOverCommitBytes += d.disks.reduce((s, k) => s + Math.max(0, k.capacity - k.allocation), 0);
    instances.push({ ...d.info, disk_gb: Math.floor(capacity / GIB) });
  }
  instances.sort((a, b) => a.uuid.localeCompare(b.uuid));
  return { hypervisorType: hv.type, hypervisorVersion: hv.version, instances, diskOverCommitBytes };
};
