import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Instance, ReportSchema } from '../core/nodes';
import { createCollector, DEFAULT_LIBVIRT_URI, DEFAULT_VIRSH_URI, xenMemoryFigures } from './collect';
import {
  isUnder,
  localDisks,
  novaVersion,
  parseDomblkinfo,
  parseDomblkinfoOne,
  parseDomblklist,
  parseDominfo,
  parseNodeinfoMemoryKib,
  parseVirshVersion,
  readLibvirt,
} from './libvirt';
import { lineLog, pathWithout, removeTempDirs, run, tempDir } from './test-support';

afterAll(removeTempDirs);

const GIB = 2 ** 30;
const MIB = 2 ** 20;
const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const INSTANCES = '/var/lib/nova/instances';
/** libvirt's test driver URI for a node XML in agent/fixtures. */
const nodeUri = (file: string) => `test://${join(FIXTURES, file)}`;
/** What the test driver answers for every disk: `domblkinfo`'s capacity, in bytes. */
const TEST_DRIVER_CAPACITY = 1_099_506_450_432;

const virshPath = await run('sh', ['-c', 'command -v virsh']).then(
  (out) => out.trim(),
  () => '',
);
const hasVirsh = virshPath !== '';
const SKIP = hasVirsh ? '' : ' — SKIPPED: virsh is not on PATH (apt-get install libvirt-clients)';

/** The three active domains of fixtures/node-three-domains.xml, as the agent must report them. */
const THREE: Instance[] = [
  // paused: active, counted; 1 of 4 vCPUs online; 1000000 KiB floored to MiB; one disk
  { uuid: '6b29edcd-00fd-4019-8e84-cc16b7afec19', vcpus: 1, memory_mb: 976, disk_gb: 1023 },
  // vda + vdb under the instances path; the Ceph volume, /srv/shared/scratch.img and the empty CD-ROM are not
  {
    uuid: '882315da-fb95-4c50-814b-cda400eadc21',
    vcpus: 2,
    memory_mb: 2048,
    disk_gb: Math.floor((2 * TEST_DRIVER_CAPACITY) / GIB),
  },
  // boot from volume: no local disk
  { uuid: 'ee8eca59-01a7-4bbe-8657-3438492be603', vcpus: 8, memory_mb: 16384, disk_gb: 0 },
];

/** Writes an executable `virsh` shell script into a fresh directory; returns a PATH with it first. */
const fakeVirsh = (script: string): { path: string; dir: string } => {
  const dir = tempDir('qm-virsh-');
  writeFileSync(join(dir, 'virsh'), `#!/bin/sh\n${script}`);
  chmodSync(join(dir, 'virsh'), 0o755);
  return { dir, path: `${dir}:${process.env.PATH ?? ''}` };
};

/** (MemFree + Buffers + Cached) of /proc/meminfo, in MiB: what Nova's _get_avail_memory_kb reads. */
const availMiB = (): number => {
  const info = readFileSync('/proc/meminfo', 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(info)?.[1] ?? 0);
  return (kb('MemFree') + kb('Buffers') + kb('Cached')) / 1024;
};

describe('virsh output parsing', () => {
  it('encodes versions as Nova does: QEMU 6.2.0 is 6002000, missing parts are 0', () => {
    expect(novaVersion('6.2.0')).toBe(6_002_000);
    expect(novaVersion('4.17')).toBe(4_017_000);
    expect(novaVersion('0.0.2')).toBe(2);
  });

  it('reads the running hypervisor from `virsh version`, or the API with version 0', () => {
    const qemu = [
      'Compiled against library: libvirt 8.0.0',
      'Using library: libvirt 8.0.0',
      'Using API: QEMU 8.0.0',
      'Running hypervisor: QEMU 6.2.0',
      '',
    ].join('\n');
    expect(parseVirshVersion(qemu)).toEqual({ type: 'QEMU', version: 6_002_000 });
    expect(parseVirshVersion('Using API: Xen 9.0.0\nRunning hypervisor: Xen 4.17.0\n')).toEqual({
      type: 'Xen',
      version: 4_017_000,
    });
    expect(parseVirshVersion('Using library: libvirt 9.0.0\nUsing API: LXC 9.0.0\n')).toEqual({
      type: 'LXC',
      version: 0,
    });
    expect(parseVirshVersion('')).toBeUndefined();
  });

  it('reads dominfo: id (none when inactive), online vCPUs, max and used memory', () => {
    const info = [
      'Id:             0',
      'Name:           Domain-0',
      'UUID:           00000000-0000-0000-0000-000000000000',
      'State:          running',
      'CPU(s):         4',
      'Max memory:     8388608 KiB',
      'Used memory:    4194304 KiB',
    ].join('\n');
    expect(parseDominfo(info)).toEqual({
      id: 0,
      uuid: '00000000-0000-0000-0000-000000000000',
      vcpus: 4,
      memory_mb: 8192,
      usedKib: 4_194_304,
    });
    expect(parseDominfo(info.replace('Id:             0', 'Id:             -'))?.id).toBeUndefined();
    expect(parseDominfo('Name: x\n')).toBeUndefined();
  });

  it('reads domblklist --details with or without its header; `-` is no source', () => {
    const out = [
      ' Type      Device   Target   Source',
      '--------------------------------------------',
      ' file      disk     vda      /var/lib/nova/instances/a b/disk',
      ' network   disk     vdb      volumes/volume-1',
      ' file      cdrom    hdc      -',
      '',
    ].join('\n');
    expect(parseDomblklist(out)).toEqual([
      { type: 'file', device: 'disk', target: 'vda', source: '/var/lib/nova/instances/a b/disk' },
      { type: 'network', device: 'disk', target: 'vdb', source: 'volumes/volume-1' },
      { type: 'file', device: 'cdrom', target: 'hdc', source: undefined },
    ]);
  });

  it('reads domblkinfo, all disks or one, and nodeinfo memory', () => {
    expect(parseDomblkinfo(' vda   100   40   40\n hdc   -   -   -\n')).toEqual([
      { target: 'vda', capacity: 100, allocation: 40 },
    ]);
    expect(parseDomblkinfoOne('vda', 'Capacity:       100\nAllocation:     40\nPhysical:       40\n')).toEqual({
      target: 'vda',
      capacity: 100,
      allocation: 40,
    });
    expect(parseDomblkinfoOne('hdc', '')).toBeUndefined();
    expect(parseNodeinfoMemoryKib('CPU(s):              8\nMemory size:         16777216 KiB\n')).toBe(16_777_216);
  });

  it('counts only file and block disks with a source under the instances path, on whole components', () => {
    expect(isUnder('/var/lib/nova/instances/u/disk', '/var/lib/nova/instances/')).toBe(true);
    expect(isUnder('/var/lib/nova/instances-old/u/disk', INSTANCES)).toBe(false);
    expect(isUnder('/var/lib/nova/instances', INSTANCES)).toBe(false);
    expect(isUnder('/data/instances/u/disk', [INSTANCES, '/data/instances'])).toBe(true);
    const devices = [
      { type: 'file', device: 'disk', target: 'vda', source: `${INSTANCES}/u/disk` },
      { type: 'block', device: 'disk', target: 'vdb', source: `${INSTANCES}/u/lvm` },
      { type: 'network', device: 'disk', target: 'vdc', source: 'volumes/v' },
      { type: 'file', device: 'disk', target: 'vdd', source: '/srv/elsewhere.img' },
      { type: 'file', device: 'cdrom', target: 'hdc', source: undefined },
    ];
    expect(localDisks(devices, INSTANCES).map((d) => d.target)).toEqual(['vda', 'vdb']);
    expect(localDisks(devices, undefined).map((d) => d.target)).toEqual(['vda', 'vdb', 'vdd']);
  });

  it("sums Xen's memory as Nova did: node total, guests + dom0 − dom0's free, floored to MiB", () => {
    const mem = { total: 8 * GIB, free: 1 * GIB, buffers: 256 * MIB, cached: 768 * MIB };
    // guests 3 GiB + dom0 4 GiB − (1 GiB + 256 MiB + 768 MiB) = 5 GiB
    expect(
      xenMemoryFigures({ nodeKib: 64 * 1024 * 1024, guestsKib: 3 * 1024 * 1024, dom0Kib: 4 * 1024 * 1024 }, mem),
    ).toEqual({ memory_mb: 65536, memory_mb_used: 5120 });
    // dom0 unread: Nova skips it (and dom0's free memory with it); node unread: dom0's own total.
    expect(
      xenMemoryFigures({ nodeKib: undefined, guestsKib: 3 * 1024 * 1024 + 1023, dom0Kib: undefined }, mem),
    ).toEqual({ memory_mb: 8192, memory_mb_used: 3072 });
  });

  it('keeps the old option and constant names as aliases', () => {
    expect(DEFAULT_LIBVIRT_URI).toBe('qemu:///system');
    expect(DEFAULT_VIRSH_URI).toBe(DEFAULT_LIBVIRT_URI);
  });
});

describe.skipIf(!hasVirsh)(`libvirt's test driver through real virsh${SKIP}`, () => {
  it('reads the hypervisor, the three active domains and their disks under the instances path', async () => {
    const host = await readLibvirt({ uri: nodeUri('node-three-domains.xml'), instancesPath: INSTANCES });
    expect(host).toEqual({
      // The test driver's `Running hypervisor: TEST 0.0.2`.
      hypervisorType: 'TEST',
      hypervisorVersion: 2,
      instances: THREE,
      // The test driver reports allocation > capacity: nothing left to grow.
      diskOverCommitBytes: 0,
    });
  });

  it('counts every file and block disk when no instances path is given', async () => {
    const host = await readLibvirt({ uri: nodeUri('node-three-domains.xml') });
    expect(host.instances.find((i) => i.uuid.startsWith('882315da'))?.disk_gb).toBe(
      Math.floor((3 * TEST_DRIVER_CAPACITY) / GIB),
    );
  });

  it('reports instances, vcpus_used, running_vms and the hypervisor from a three-domain node', async () => {
    const log: string[] = [];
    const collect = createCollector({
      host: 'node-1',
      instancesPath: INSTANCES,
      libvirtUri: nodeUri('node-three-domains.xml'),
      log: lineLog(log),
    });
    const report = await collect();
    expect(ReportSchema.safeParse({ ...report, seq: 1, reported_at: new Date().toISOString() }).success).toBe(true);
    expect(report.instances).toEqual(THREE);
    expect(report.vcpus_used).toBe(1 + 2 + 8);
    expect(report.running_vms).toBe(3);
    expect(report.hypervisor_type).toBe('TEST');
    expect(report.hypervisor_version).toBe(2);
    expect(log).toEqual([]);
  });

  it('still takes the URI under its old option name virshUri', async () => {
    const report = await createCollector({
      instancesPath: INSTANCES,
      virshUri: nodeUri('node-three-domains.xml'),
      log: () => {},
    })();
    expect(report.running_vms).toBe(3);
  });

  it('sees one instance gone and one new in node-swapped.xml', async () => {
    const host = await readLibvirt({ uri: nodeUri('node-swapped.xml'), instancesPath: INSTANCES });
    expect(host.instances).toEqual([
      { uuid: '5c01bcc9-1ed4-4753-8d24-e92c145608ba', vcpus: 4, memory_mb: 4096, disk_gb: 1023 },
      THREE[0],
      THREE[2],
    ]);
  });

  it('answers from domblkinfo per disk when virsh has no `domblkinfo --all`', async () => {
    const { path } = fakeVirsh(
      `for a; do [ "$a" = --all ] && { echo "error: command 'domblkinfo' doesn't support option --all" >&2; exit 1; }; done\nexec '${virshPath}' "$@"\n`,
    );
    const host = await readLibvirt({
      uri: nodeUri('node-three-domains.xml'),
      instancesPath: INSTANCES,
      env: { ...process.env, PATH: path },
    });
    expect(host.instances).toEqual(THREE);
  });

  it("on Xen, leaves domain 0 and shut-off domains out of instances and adds dom0's memory to memory_mb_used", async () => {
    // The test driver says TEST and numbers domains from 1: answer `version` as Xen, and
    // `dominfo 0` as Domain-0 with id 0, as libvirt's Xen driver does; the rest is real virsh.
    const { path } = fakeVirsh(
      [
        'for a; do [ "$a" = version ] && { printf "Compiled against library: libvirt 9.0.0\\nUsing library: libvirt 9.0.0\\nUsing API: Xen 9.0.0\\nRunning hypervisor: Xen 4.17.0\\n"; exit 0; }; done',
        'last=""; for a; do last=$a; done',
        `if [ "$last" = 0 ]; then out=$('${virshPath}' --readonly --quiet -c "$4" dominfo Domain-0) || exit 1`,
        '  printf "%s\\n" "$out" | sed "s/^Id:\\( *\\).*$/Id:\\10/"; exit 0; fi',
        `exec '${virshPath}' "$@"`,
        '',
      ].join('\n'),
    );
    const env = { ...process.env, PATH: path };
    const uri = nodeUri('node-xen.xml');
    const host = await readLibvirt({ uri, instancesPath: INSTANCES, env });
    const guests = [
      { uuid: '93acaaa3-fb2b-49d3-bce1-eac32ea6f916', vcpus: 2, memory_mb: 4096, disk_gb: 1023 },
      { uuid: 'fad070b5-7e2d-438f-907f-fa2d8c066b91', vcpus: 1, memory_mb: 1024, disk_gb: 0 },
    ];
    expect(host).toEqual({
      hypervisorType: 'Xen',
      hypervisorVersion: 4_017_000,
      instances: guests,
      diskOverCommitBytes: 0,
      // Used memory: guests 2048 + 1024 MiB (not their maximum), dom0 262144 MiB; node 512 GiB.
      xen: { nodeKib: 536_870_912, guestsKib: 3072 * 1024, dom0Kib: 262_144 * 1024 },
    });

    const report = await createCollector({ instancesPath: INSTANCES, libvirtUri: uri, env, log: () => {} })();
    const free = availMiB();
    expect(report.instances).toEqual(guests);
    expect(report.vcpus_used).toBe(3);
    expect(report.running_vms).toBe(2);
    expect(report.hypervisor_type).toBe('Xen');
    expect(report.hypervisor_version).toBe(4_017_000);
    expect(report.memory_mb).toBe(524_288);
    // Nova: guests + dom0 − dom0's (this host's) MemFree + Buffers + Cached; memory moves between reads.
    expect(Math.abs(report.memory_mb_used - (3072 + 262_144 - free))).toBeLessThanOrEqual(256);
  });
});

describe.skipIf(!hasVirsh)(`libvirt that does not answer${SKIP}`, () => {
  const LINE = /^\S+Z libvirt uri=(\S+) status=unreachable error=(.+) note="reporting no instances"$/;
  /** A clock that stands still, so two lines of the same outage read the same. */
  const AT = () => new Date('2026-11-26T01:00:00Z');

  const expectNoLibvirt = (report: Awaited<ReturnType<ReturnType<typeof createCollector>>>) => {
    expect(report.instances).toEqual([]);
    expect(report.vcpus_used).toBe(0);
    expect(report.running_vms).toBe(0);
    expect(report.hypervisor_type).toBe('none');
    expect(report.hypervisor_version).toBe(0);
    // Capacity is still reported.
    expect(report.vcpus).toBeGreaterThan(0);
    expect(report.memory_mb).toBeGreaterThan(0);
    expect(report.local_gb).toBeGreaterThan(0);
  };

  it.each([
    ['a node XML that does not exist', 'test:///qm-no-such-dir/node.xml', /failed to connect to the hypervisor/],
    ['a remote libvirtd that refuses the connection', 'qemu+tcp://127.0.0.1:1/system', /Connection refused/],
  ])('reports capacity with no instances for %s, logging why once across two reports', async (_, uri, why) => {
    const log: string[] = [];
    const collect = createCollector({ instancesPath: '/tmp', libvirtUri: uri, log: lineLog(log) });
    expectNoLibvirt(await collect());
    expectNoLibvirt(await collect());
    expect(log).toHaveLength(1);
    const [, loggedUri, reason] = LINE.exec(log[0] ?? '') ?? [];
    expect(loggedUri).toBe(uri);
    expect(reason).toMatch(why);
    expect(reason).not.toContain('\n');
  });

  it('reports no instances when virsh is not on PATH, and says so once', async () => {
    const log: string[] = [];
    const env = { ...process.env, PATH: pathWithout('virsh') };
    const collect = createCollector({
      instancesPath: '/tmp',
      libvirtUri: 'test:///default',
      env,
      log: lineLog(log, AT),
    });
    expectNoLibvirt(await collect());
    expectNoLibvirt(await collect());
    expect(log).toEqual([
      '2026-11-26T01:00:00Z libvirt uri=test:///default status=unreachable error="virsh version: virsh not found on PATH (Debian/Ubuntu: apt-get install libvirt-clients)" note="reporting no instances"',
    ]);
  });

  it('logs an outage again after libvirt came back, and not while it lasts', async () => {
    const { dir, path } = fakeVirsh(
      `[ -f "$QM_TEST_DOWN" ] && { echo 'error: failed to connect to the hypervisor' >&2; exit 1; }\nexec '${virshPath}' "$@"\n`,
    );
    const down = join(dir, 'down');
    const log: string[] = [];
    const collect = createCollector({
      instancesPath: INSTANCES,
      libvirtUri: nodeUri('node-three-domains.xml'),
      env: { ...process.env, PATH: path, QM_TEST_DOWN: down },
      log: lineLog(log, AT),
    });
    writeFileSync(down, '');
    expectNoLibvirt(await collect());
    expectNoLibvirt(await collect());
    expect(log).toHaveLength(1);
    rmSync(down);
    expect(existsSync(down)).toBe(false);
    expect((await collect()).instances).toEqual(THREE);
    writeFileSync(down, '');
    expectNoLibvirt(await collect());
    expect(log).toHaveLength(2);
    expect(log[1]).toBe(log[0]);
    expect(log[0]).toMatch(LINE);
  });

  it('gives up on a libvirtd that accepts the connection but never answers', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      await expect(readLibvirt({ uri: `qemu+tcp://127.0.0.1:${port}/system`, timeoutMs: 500 })).rejects.toThrow(
        'virsh version: no answer within 500 ms',
      );
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      silent.close();
    }
  });
});
