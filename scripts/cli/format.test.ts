import { describe, expect, it } from 'vitest';
import { bar, colourFor, gb, mb, Progress, painter, table, unpainted, visible } from './format';
import { gaugesOf, type NodeJson, renderNodes } from './nodes';
import { scheduleBody } from './schedule';
import { verdictLine } from './why';

const plain = painter(false);

describe('the CLI output for people', () => {
  it('colours only a terminal, and never when NO_COLOR is set', () => {
    expect(colourFor({ isTTY: true }, {})).toBe(true);
    expect(colourFor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colourFor({ isTTY: false }, {})).toBe(false);
    expect(colourFor({}, {})).toBe(false);
    // no-color.org: an empty NO_COLOR does not count.
    expect(colourFor({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(painter(true)('bad', 'down')).toBe('\x1b[31mdown\x1b[0m');
    expect(plain('bad', 'down')).toBe('down');
  });

  it('aligns table columns by visible width, numbers to the right', () => {
    const t = table(
      ['HOST', 'N'],
      [
        [painter(true)('good', 'a'), '1'],
        ['long-host', '100'],
      ],
      ['l', 'r'],
    );
    const lines = t.split('\n').map((l) => unpainted(l));
    expect(lines).toEqual(['HOST         N', 'a            1', 'long-host  100']);
    expect(visible(painter(true)('used', '██'))).toBe(2);
  });

  it('draws used, claimed and free cells that always add up to the width', () => {
    // 10 cells: 4/40 used → 1, (4+2)/40 → 2 (1.5 rounds up), so 1 claimed; the rest free.
    expect(bar(4, 2, 40, 10, plain)).toBe('█▒░░░░░░░░');
    expect(bar(40, 20, 40, 10, plain)).toBe('██████████');
    expect(bar(0, 0, 0, 4, plain)).toBe('····');
    for (const [u, c, t] of [
      [1, 1, 3],
      [2, 7, 9],
      [0, 5, 7],
      [6, -2, 7],
    ] as const) {
      expect([...bar(u, c, t, 10, plain)]).toHaveLength(10);
    }
  });

  it('writes sizes as people read them', () => {
    expect([mb(512), mb(2048), mb(8000), mb(65_536)]).toEqual(['512M', '2.0G', '7.8G', '64G']);
    expect([gb(20), gb(1536)]).toEqual(['20G', '1.5T']);
  });

  it('shows progress on a terminal only, and clears it', () => {
    const out: string[] = [];
    const tty = { isTTY: true, write: (s: string) => out.push(s) > 0 };
    const p = new Progress(tty);
    p.update('reading nodes… 1000');
    p.done();
    expect(out).toEqual(['\r\x1b[Kreading nodes… 1000', '\r\x1b[K']);
    const pipe: string[] = [];
    const q = new Progress({ isTTY: false, write: (s: string) => pipe.push(s) > 0 });
    q.update('x');
    q.done();
    expect(pipe).toEqual([]);
  });
});

const node = (over: Partial<NodeJson> = {}): NodeJson => ({
  host: 'h1',
  status: 'up',
  availability_zone: 'nova',
  disabled: false,
  disabled_reason: null,
  deleted: 0,
  vcpus: 40,
  memory_mb: 65_536,
  local_gb: 1000,
  vcpus_used: 4,
  memory_mb_used: 8192,
  local_gb_used: 100,
  // 65536 − 8192 − 2048 claimed; 1000 − 100 − 20
  free_ram_mb: 55_296,
  free_disk_gb: 880,
  running_vms: 1,
  instances: [{ uuid: 'listed', vcpus: 2, memory_mb: 1024, disk_gb: 10 }],
  claims: [
    { instance_uuid: 'c1', vcpus: 1, memory_mb: 2048, disk_gb: 20, claimed_at: 't', expires_at: 't' },
    // Listed by the last report: absorbed, not counted again.
    { instance_uuid: 'LISTED', vcpus: 2, memory_mb: 1024, disk_gb: 10, claimed_at: 't', expires_at: 't' },
  ],
  announced: [],
  released: [],
  drift: [],
  metadata: {},
  ...over,
});

describe('qm nodes', () => {
  it('counts as claimed what the ledger adds: live claims not yet listed, plus announced, minus released', () => {
    expect(gaugesOf(node())).toEqual({
      vcpu: { used: 4, claimed: 1, total: 40 },
      ram: { used: 8192, claimed: 2048, total: 65_536 },
      disk: { used: 100, claimed: 20, total: 1000 },
    });
    const withLedger = node({
      announced: [{ instance_uuid: 'a', vcpus: 4, memory_mb: 0, disk_gb: 0, at: 't' }],
      released: [{ instance_uuid: 'r', vcpus: 2, memory_mb: 0, disk_gb: 0, at: 't' }],
    });
    expect(gaugesOf(withLedger).vcpu.claimed).toBe(1 + 4 - 2);
  });

  it('marks down, disabled and deleted nodes, and leaves deleted ones out of the totals', () => {
    const out = renderNodes(
      [node(), node({ host: 'h2', status: 'down', disabled: true }), node({ host: 'h3', deleted: 7 })],
      plain,
    );
    expect(out).toMatch(/^h2\s+down\s+nova\s+disabled\s/m);
    expect(out).toMatch(/^h3\s+deleted\s/m);
    expect(out).toMatch(/^2 nodes: 1 up, 1 down, 1 disabled, 1 deleted not counted$/m);
    expect(out).toMatch(/^vCPU [█▒░]{10} 8\+2\/80 \(70 free\)/m);
  });
});

describe('qm schedule', () => {
  it("builds Nova's request spec from the flags", () => {
    expect(
      scheduleBody({
        vcpus: 2,
        memoryMb: 4096,
        rootGb: 20,
        swapMb: 512,
        num: 3,
        az: 'az1',
        group: 'g',
        policy: 'anti-affinity',
        extraSpec: { 'capabilities:cpu_info:arch': 'x86_64' },
        imageProperty: { hypervisor_type: 'qemu' },
        dryRun: true,
      }),
    ).toEqual({
      request_spec: {
        instance_type: {
          vcpus: 2,
          memory_mb: 4096,
          root_gb: 20,
          ephemeral_gb: 0,
          swap: 512,
          extra_specs: { 'capabilities:cpu_info:arch': 'x86_64' },
        },
        image: { properties: { hypervisor_type: 'qemu' } },
        instance_properties: { availability_zone: 'az1' },
        num_instances: 3,
      },
      filter_properties: { scheduler_hints: { group: 'g', group_policy: 'anti-affinity' } },
      dry_run: true,
    });
    expect(() => scheduleBody({ vcpus: 1, memoryMb: 1, group: 'g' })).toThrow(/--group and --policy go together/);
  });
});

describe('qm why <decision> <host>', () => {
  it('says the filter once, even when the stored reason starts with it', () => {
    const v = { host: 'h', verdict: 'rejected' as const, filter: 'RamFilter', reason: 'RamFilter: needs 2048 MB' };
    expect(verdictLine(v)).toBe('h: rejected by RamFilter: needs 2048 MB');
    expect(verdictLine({ ...v, reason: 'needs 2048 MB', instance_index: 1 })).toBe(
      'h: rejected by RamFilter (placing instance 2): needs 2048 MB',
    );
  });

  it('gives a survivor its weight and every weigher with its sign', () => {
    const weighers = [
      { weigher: 'RAMWeigher', contribution: 1 },
      { weigher: 'IoOpsWeigher', contribution: -0.25 },
    ];
    expect(verdictLine({ host: 'h', verdict: 'passed', weight: 0.75, weighers, rank: 2 })).toBe(
      'h: passed, weight 0.750 (RAMWeigher +1.000, IoOpsWeigher -0.250), ranked 2',
    );
    expect(verdictLine({ host: 'h', verdict: 'picked', instances: [{ instance_uuid: 'u' }] })).toBe('h: picked');
  });
});
