import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { type Report, ReportSchema } from '../core/nodes';
import {
  cpuFeatures,
  cpuTopology,
  diskFigures,
  gib,
  memoryFigures,
  mountFor,
  nearestExisting,
  novaArch,
} from './collect';
import { cleanEnv, pathWithout, removeTempDirs, run, runAgent } from './test-support';

afterAll(removeTempDirs);

const GIB = 2 ** 30;

/** The one line the agent logs when libvirt cannot be reached (here: no libvirtd for qemu:///system). */
const UNREACHABLE = /^\S+Z libvirt uri=\S+ status=unreachable error=.+ note="reporting no instances"\n/;

/**
 * `--print` through the real CLI; the report must pass the API's own schema. stderr holds
 * nothing but, where libvirt does not answer, the one line saying so.
 */
const printReport = async (args: string[], env = cleanEnv()): Promise<Report> => {
  const r = await runAgent(['--print', ...args], env);
  expect(r.stderr.replace(UNREACHABLE, '')).toBe('');
  expect(r.code).toBe(0);
  return ReportSchema.parse(JSON.parse(r.stdout));
};

/** `free -m` as a map from column header to the "Mem:" row's value. */
const freeMem = async (): Promise<Record<string, number>> => {
  const [header = '', mem = ''] = (await run('free', ['-m'])).split('\n');
  const names = header.trim().split(/\s+/);
  const values = mem.trim().split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? Number.NaN]));
};

/** `df -B1` of `path`: size, used and available bytes. */
const df = async (path: string): Promise<{ size: number; used: number; avail: number }> => {
  const [, row = ''] = (await run('df', ['-B1', '--output=size,used,avail', path])).split('\n');
  const [size = Number.NaN, used = Number.NaN, avail = Number.NaN] = row.trim().split(/\s+/).map(Number);
  return { size, used, avail };
};

const hasVirsh = await run('virsh', ['--version']).then(
  () => true,
  () => false,
);

describe('qm-agent --print on this host', () => {
  it('reports as many vcpus as nproc counts', async () => {
    const [report, nproc] = await Promise.all([printReport(['--instances-path', '/tmp']), run('nproc', [])]);
    expect(report.vcpus).toBe(Number(nproc.trim()));
  });

  it("reports free -m's total exactly and Nova's used (total − free − buff/cache) within 2 % of total", async () => {
    const report = await printReport(['--instances-path', '/tmp']);
    const free = await freeMem();
    // memory_mb = floor(MemTotal / MiB) and free -m rounds the same kB: equal within 1 MiB.
    expect(Math.abs(report.memory_mb - (free.total ?? 0))).toBeLessThanOrEqual(1);
    // Nova's used = total − free − buffers − cached; free's buff/cache also holds SReclaimable,
    // added back here. Memory moves between the two reads: 2 % of total.
    const sReclaimableMiB =
      Number(/^SReclaimable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024;
    const novaUsed = (free.total ?? 0) - (free.free ?? 0) - (free['buff/cache'] ?? 0) + sReclaimableMiB;
    expect(Math.abs(report.memory_mb_used - novaUsed)).toBeLessThanOrEqual(0.02 * report.memory_mb);
  });

  it('reports the filesystem holding the instances path as df -B1 sees it', async () => {
    const report = await printReport(['--instances-path', '/tmp']);
    const d = await df('/tmp');
    expect(report.local_gb).toBe(Math.floor(d.size / GIB));
    // local_gb_used = size − available (df's Used + root-reserved), within 1 GiB (flooring, writes).
    expect(Math.abs(report.local_gb_used - (d.size - d.avail) / GIB)).toBeLessThanOrEqual(1);
    expect(report.local_gb - report.local_gb_used).toBeLessThanOrEqual(d.avail / GIB + 1);
    expect(report.disk_available_least).toBeLessThanOrEqual(Math.floor(d.avail / GIB) + 1);
  });

  it('falls back to the nearest existing ancestor of an instances path that does not exist', async () => {
    const report = await printReport(['--instances-path', '/tmp/qm-agent-no-such-dir/instances']);
    const d = await df('/tmp');
    expect(report.local_gb).toBe(Math.floor(d.size / GIB));
  });

  it('fills names from flags and env, flags winning', async () => {
    const env = cleanEnv({ QM_HOST: 'env-host', QM_AVAILABILITY_ZONE: 'az-env' });
    const fromEnv = await printReport([], env);
    expect(fromEnv.hypervisor_hostname).toBe('env-host');
    expect(fromEnv.availability_zone).toBe('az-env');
    const fromFlags = await printReport(['--host', 'flag-host', '--availability-zone', 'az1'], env);
    expect(fromFlags.hypervisor_hostname).toBe('flag-host');
    expect(fromFlags.availability_zone).toBe('az1');
  });

  it('prints with QM_PRINT=1 and no api url or token', async () => {
    const r = await runAgent([], cleanEnv({ QM_PRINT: '1', QM_INSTANCES_PATH: '/tmp' }));
    expect(r.code).toBe(0);
    expect(ReportSchema.safeParse(JSON.parse(r.stdout)).success).toBe(true);
  });

  it('reports no instances and hypervisor none when virsh is not on PATH, saying why once', async () => {
    const r = await runAgent(['--print', '--instances-path', '/tmp'], cleanEnv({ PATH: pathWithout('virsh') }));
    expect(r.code).toBe(0);
    const report = ReportSchema.parse(JSON.parse(r.stdout));
    expect(report.instances).toEqual([]);
    expect(report.vcpus_used).toBe(0);
    expect(report.running_vms).toBe(0);
    expect(report.hypervisor_type).toBe('none');
    expect(report.hypervisor_version).toBe(0);
    expect(r.stderr).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ libvirt uri=qemu:\/\/\/system status=unreachable error="virsh version: virsh not found on PATH \(Debian\/Ubuntu: apt-get install libvirt-clients\)" note="reporting no instances"\n$/,
    );
  });

  it.skipIf(!hasVirsh)(
    hasVirsh
      ? 'reads the hypervisor and its domains from libvirt (test:///default)'
      : 'reads libvirt domains — SKIPPED: virsh is not on PATH (apt-get install libvirt-clients)',
    async () => {
      // test:///default's one domain has one disk, /guest/diskimage1: under /guest it counts.
      const report = await printReport(['--instances-path', '/guest', '--virsh-uri', 'test:///default']);
      const version = await run('virsh', ['-c', 'test:///default', 'version']);
      const [, type = '', ver = ''] = /Running hypervisor:\s*(\S+)\s+(\S+)/.exec(version) ?? [];
      const [major = 0, minor = 0, micro = 0] = ver.split('.').map(Number);
      expect(report.hypervisor_type).toBe(type);
      expect(report.hypervisor_version).toBe(major * 1_000_000 + minor * 1_000 + micro);

      const info = await run('virsh', ['-c', 'test:///default', 'dominfo', 'test']);
      const uuid = /^UUID:\s*(\S+)/m.exec(info)?.[1];
      const vcpus = Number(/^CPU\(s\):\s*(\d+)/m.exec(info)?.[1]);
      const maxKib = Number(/^Max memory:\s*(\d+) KiB/m.exec(info)?.[1]);
      const blk = await run('virsh', ['-c', 'test:///default', 'domblkinfo', 'test', '--all']);
      const capacity = [...blk.matchAll(/^\s*\S+\s+(\d+)\s+\d+\s+\d+\s*$/gm)].reduce((s, m) => s + Number(m[1]), 0);
      expect(report.instances).toEqual([{ uuid, vcpus, memory_mb: Math.floor(maxKib / 1024), disk_gb: gib(capacity) }]);
      expect(report.running_vms).toBe(1);
      expect(report.vcpus_used).toBe(vcpus);
    },
  );
});

describe('figures from raw readings', () => {
  it.each([
    ['x64', 'x86_64'],
    ['arm64', 'aarch64'],
    ['ia32', 'i686'],
    ['arm', 'armv7l'],
    ['ppc64', 'ppc64le'],
    ['s390x', 's390x'],
    ['riscv64', 'riscv64'],
    ['loong64', 'loongarch64'],
  ])('names Node arch %s as %s', (node, nova) => {
    expect(novaArch(node)).toBe(nova);
  });

  it('sorts and deduplicates CPU flags', () => {
    expect(cpuFeatures('sse2  avx\nsse2 fpu ')).toEqual(['avx', 'fpu', 'sse2']);
  });

  it.each([
    // sockets, physical cores, logical CPUs → sockets, cores per socket, threads per core
    [1, 2, 2, { sockets: 1, cores: 2, threads: 1 }],
    [2, 16, 32, { sockets: 2, cores: 8, threads: 2 }],
    [0, 0, 0, { sockets: 1, cores: 1, threads: 1 }],
  ])('turns %i sockets, %i cores, %i CPUs into Nova topology', (s, p, l, t) => {
    expect(cpuTopology(s, p, l)).toEqual(t);
  });

  it("reads this host's topology as many logical CPUs as it has", async () => {
    const report = await printReport(['--instances-path', '/tmp']);
    const t = report.cpu_info.topology;
    expect(t.sockets * t.cores * t.threads).toBeLessThanOrEqual(cpus().length);
  });

  it('picks the longest mount point that holds the path, on whole components', () => {
    const mounts = [
      { mount: '/', size: 1, available: 1 },
      { mount: '/var', size: 2, available: 2 },
      { mount: '/var/lib/nova', size: 3, available: 3 },
    ];
    expect(mountFor(mounts, '/var/lib/nova/instances')?.mount).toBe('/var/lib/nova');
    expect(mountFor(mounts, '/var/lib/novax')?.mount).toBe('/var');
    expect(mountFor(mounts, '/variable')?.mount).toBe('/');
    expect(mountFor(mounts, '/var')?.mount).toBe('/var');
  });

  it('resolves a missing path to its nearest existing ancestor', async () => {
    expect(await nearestExisting('/tmp/qm-none/a/b')).toBe(await nearestExisting('/tmp'));
    expect(await nearestExisting('/no-such-root-dir')).toBe('/');
  });

  it('counts disk in whole GiB, used as size − available, least as free − over-commit', () => {
    // size 10.5 GiB, available 3.7 GiB: local_gb 10, free 3 → used 7; 5 GiB of growth → least floor(−1.3) = −2.
    const fs = { size: 10.5 * GIB, available: 3.7 * GIB };
    expect(diskFigures(fs, 0)).toEqual({ local_gb: 10, local_gb_used: 7, disk_available_least: 3 });
    expect(diskFigures(fs, 5 * GIB).disk_available_least).toBe(-2);
  });

  it('counts used memory as total − free − buffers − cached (Nova), in MiB', () => {
    // 8 GiB − (4 GiB + 512 MiB + 1.5 GiB + 512 KiB) = 2047.5 MiB, rounded to 2048.
    expect(
      memoryFigures({ total: 8 * GIB, free: 4 * GIB, buffers: 512 * 1024 * 1024, cached: 1.5 * GIB + 512 * 1024 }),
    ).toEqual({
      memory_mb: 8192,
      memory_mb_used: 2048,
    });
  });
});
