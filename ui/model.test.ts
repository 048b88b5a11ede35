import { describe, expect, it } from 'vitest';
import { fleetTotals, hostUsage, matches, type NodeView, sortNodes } from './model';

const node = (host: string, over: Partial<NodeView> = {}): NodeView => ({
  host,
  status: 'up',
  disabled: false,
  vcpus: 32,
  vcpus_used: 4,
  memory_mb: 65_536,
  memory_mb_used: 8192,
  local_gb: 1000,
  local_gb_used: 100,
  free_ram_mb: 65_536 - 8192,
  free_disk_gb: 900,
  instances: [],
  claims: [],
  announced: [],
  released: [],
  drift: [],
  metadata: {},
  ...over,
});

describe('hostUsage', () => {
  it('reads RAM and disk claims from the API’s free figures and sums vCPU claims the report does not list', () => {
    // RAM: 65,536 − 8,192 used − 4,096 claimed = 53,248 free. vCPU: the listed claim is in vcpus_used already.
    const n = node('a', {
      free_ram_mb: 53_248,
      free_disk_gb: 860,
      instances: [{ uuid: 'AAAAAAAA-0000-0000-0000-000000000000', vcpus: 1 }],
      claims: [
        { instance_uuid: 'bbbbbbbb-0000-0000-0000-000000000000', vcpus: 2, memory_mb: 4096, disk_gb: 40 },
        { instance_uuid: 'aaaaaaaa-0000-0000-0000-000000000000', vcpus: 1, memory_mb: 0, disk_gb: 0 },
      ],
      released: [{ instance_uuid: 'cccccccc-0000-0000-0000-000000000000', vcpus: 1 }],
    });
    expect(hostUsage(n)).toEqual({
      // pending vCPU = 2 (unlisted claim) − 1 (released) = 1; free = 32 − 4 − 1.
      vcpu: { total: 32, used: 4, claimed: 1, free: 27 },
      ram: { total: 65_536, used: 8192, claimed: 4096, free: 53_248 },
      disk: { total: 1000, used: 100, claimed: 40, free: 860 },
    });
  });

  it('takes releases that outweigh claims off used, so no part is negative', () => {
    // free 61,440 > 65,536 − 8,192: pending = −4,096, shown as 4,096 used and nothing claimed.
    expect(hostUsage(node('a', { free_ram_mb: 61_440 })).ram).toEqual({
      total: 65_536,
      used: 4096,
      claimed: 0,
      free: 61_440,
    });
  });

  it('counts a field that is missing or not a number as 0', () => {
    expect(hostUsage({ host: 'x', vcpus: Number.NaN, memory_mb: 'lots' as never }).ram.total).toBe(0);
  });
});

describe('fleetTotals', () => {
  it('counts disabled hosts apart from up and down, and hosts with drift', () => {
    const t = fleetTotals([
      node('a'),
      node('b', { status: 'down' }),
      node('c', { disabled: true, status: 'down' }),
      node('d', { drift: [{ kind: 'unknown_instance' }] }),
    ]);
    expect([t.hosts, t.up, t.down, t.disabled, t.drifting]).toEqual([4, 2, 1, 1, 1]);
    expect(t.vcpu.total).toBe(128);
  });
});

describe('sortNodes and matches', () => {
  const fleet = [node('b', { memory_mb_used: 60_000, free_ram_mb: 5536 }), node('a'), node('c', { disabled: true })];

  it('sorts by fill, fullest first when descending, ties by name', () => {
    expect(sortNodes(fleet, 'ram', -1).map((n) => n.host)).toEqual(['b', 'a', 'c']);
    expect(sortNodes(fleet, 'host', 1).map((n) => n.host)).toEqual(['a', 'b', 'c']);
  });

  it('filters by every word of the text (name, zone, metadata) and by state', () => {
    const n = node('rack1-a', { availability_zone: 'az1', metadata: { owner: 'team-x' } });
    expect(matches(n, 'rack1 owner=team-x', 'all')).toBe(true);
    expect(matches(n, 'rack1 az2', 'all')).toBe(false);
    expect(matches(n, '', 'disabled')).toBe(false);
    expect(matches(n, '', 'up')).toBe(true);
  });
});
