import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NodeEvent } from '../events';
import { applyReport } from '../node/apply';
import type { Claim, NodeRecord } from '../node/record';
import type { Report } from '../node/schemas';
import { MAX_ANNOUNCED, MAX_MEASURED, MAX_TOMBSTONES } from './bounds';
import { changeFor, type Fact, instanceIs, type LedgerChange, type Move, type Path } from './change';
import { factsOf, type NodeFacts, reportedByUuid } from './steps';
import { type InstanceState, storedPending, vmsOnTop } from './usage';

const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const AT = new Date(NOW).toISOString();
const U = '0f9c1b2a-3d4e-4f50-8a1b-2c3d4e5f6a7b';
const base = { message_id: 'm', event_type: 't', host: 'h' };
const createEnd: NodeEvent = {
  ...base,
  kind: 'create_end',
  instance: U,
  vcpus: 2,
  memory_mb: 2048,
  disk_gb: 20,
  workload: -1,
};
const release: NodeEvent = { ...base, kind: 'release', instance: U, workload: -1 };
const utilization = (free_ram_mb_delta: number, vm_delta: number): NodeEvent => ({
  ...base,
  kind: 'utilization',
  workload: 0,
  free_ram_mb_delta,
  free_disk_gb_delta: 0,
  vm_delta,
});

const facts = (over: Partial<NodeFacts> = {}): NodeFacts => ({
  instance: 'none',
  tombstones: 0,
  announced: 0,
  current_workload: 1,
  memory_mb_used: 0,
  local_gb_used: 0,
  running_vms: 1,
  ...over,
});

const host: Fact = { path: ['host'], exists: true };
const val = (value: unknown) => ({ value });
const updated: Move = { op: 'set', path: ['updated_at'], to: val(AT) };
/** current_workload 1, event −1: 1 ≥ 1, so 1 − 1 = 0 lands inside. */
const workloadDown: [Fact, Move] = [
  { path: ['current_workload'], cmp: '>=', than: 1 },
  { op: 'subtract', path: ['current_workload'], by: val(1) },
];
/** running_vms 1, +1: 1 ≤ 2^40 − 1, so 1 + 1 lands inside. */
const vmsUp: [Fact, Move] = [
  { path: ['running_vms'], cmp: '<=', than: MAX_MEASURED - 1 },
  { op: 'add', path: ['running_vms'], by: val(1) },
];
/** running_vms 1, −1: 1 ≥ 1, so 1 − 1 = 0. */
const vmsDown: [Fact, Move] = [
  { path: ['running_vms'], cmp: '>=', than: 1 },
  { op: 'subtract', path: ['running_vms'], by: val(1) },
];
const counters = (op: 'add' | 'subtract', size: (f: string) => { value: unknown } | { path: Path }): Move[] =>
  (
    [
      ['claimed_vcpus', 'vcpus'],
      ['claimed_memory_mb', 'memory_mb'],
      ['claimed_disk_gb', 'disk_gb'],
    ] as const
  ).map(([c, f]) => ({ op, path: [c], by: size(f) }));
const unclaimed = instanceIs(U, 'none');

describe('changeFor: what each (event, facts) does to the item, as data', () => {
  it.each<[string, NodeEvent, NodeFacts, Pick<LedgerChange, 'facts' | 'moves'>]>([
    [
      'create.end of a claimed instance: confirmed; running_vms 1 − 0 = +1 (COUNTED), claimed_* 1 − 1 = 0',
      createEnd,
      facts({ instance: 'claimed' }),
      {
        facts: [
          host,
          { path: ['claims', U], exists: true },
          { path: ['claims', U, 'confirmed_at'], exists: false },
          workloadDown[0],
          vmsUp[0],
        ],
        moves: [workloadDown[1], vmsUp[1], { op: 'set', path: ['claims', U, 'confirmed_at'], to: val(AT) }, updated],
      },
    ],
    [
      'create.end nobody claimed, 255 announced (< 256): announced; claimed_* + payload sizes; running_vms +1',
      createEnd,
      facts({ announced: MAX_ANNOUNCED - 1 }),
      {
        facts: [
          host,
          ...unclaimed,
          { path: ['announced'], size: true, cmp: '<', than: MAX_ANNOUNCED },
          ...[workloadDown[0], vmsUp[0]],
        ],
        moves: [
          workloadDown[1],
          vmsUp[1],
          { op: 'set', path: ['announced', U], to: val({ vcpus: 2, memory_mb: 2048, disk_gb: 20, at: AT }) },
          ...counters('add', (f) => val({ vcpus: 2, memory_mb: 2048, disk_gb: 20 }[f as 'vcpus'])),
          updated,
        ],
      },
    ],
    [
      'create.end nobody claimed, 256 announced (full): only the workload moves, on the fact that it is full',
      createEnd,
      facts({ announced: MAX_ANNOUNCED }),
      {
        facts: [
          host,
          ...unclaimed,
          { path: ['announced'], size: true, cmp: '>=', than: MAX_ANNOUNCED },
          workloadDown[0],
        ],
        moves: [workloadDown[1], updated],
      },
    ],
    [
      'delete.end of a reported instance: released = inst; claimed_* − stored sizes (−1 − 0); running_vms −1; tombstone',
      release,
      facts({ instance: 'reported' }),
      {
        facts: [
          host,
          ...instanceIs(U, 'reported'),
          { path: ['gone'], size: true, cmp: '<', than: MAX_TOMBSTONES },
          workloadDown[0],
          vmsDown[0],
        ],
        moves: [
          workloadDown[1],
          vmsDown[1],
          ...counters('subtract', (f) => ({ path: ['inst', U, f] })),
          { op: 'set', path: ['gone', U], to: val(AT) },
          { op: 'set', path: ['released', U], to: { path: ['inst', U] } },
          updated,
        ],
      },
    ],
    [
      'delete.end of an unconfirmed claim: claim removed, claimed_* − its sizes (0 − 1); running_vms 0 − 0: unmoved',
      release,
      facts({ instance: 'claimed', tombstones: MAX_TOMBSTONES }),
      {
        facts: [
          host,
          ...instanceIs(U, 'claimed'),
          { path: ['gone'], size: true, cmp: '>=', than: MAX_TOMBSTONES },
          workloadDown[0],
        ],
        moves: [
          workloadDown[1],
          ...counters('subtract', (f) => ({ path: ['claims', U, f] })),
          { op: 'remove', path: ['claims', U] },
          updated,
        ],
      },
    ],
    [
      'delete.end of an unknown instance, 512 tombstones (full): nothing but the workload',
      release,
      facts({ tombstones: MAX_TOMBSTONES }),
      {
        facts: [host, ...unclaimed, { path: ['gone'], size: true, cmp: '>=', than: MAX_TOMBSTONES }, workloadDown[0]],
        moves: [workloadDown[1], updated],
      },
    ],
    [
      'utilization: memory_mb_used 100 − 512 < 0 clamps to 0; running_vms (2^40 − 2) + 5 > 2^40 clamps to 2^40',
      utilization(512, 5),
      facts({ memory_mb_used: 100, running_vms: MAX_MEASURED - 2 }),
      {
        facts: [
          host,
          { path: ['memory_mb_used'], cmp: '<', than: 512 },
          { path: ['running_vms'], cmp: '>', than: MAX_MEASURED - 5 },
        ],
        moves: [
          { op: 'set', path: ['memory_mb_used'], to: val(0) },
          { op: 'set', path: ['running_vms'], to: val(MAX_MEASURED) },
          updated,
        ],
      },
    ],
    [
      'utilization with no deltas: no figure moves, but it is a new measurement (updated_at set, remeasured)',
      utilization(0, 0),
      facts(),
      { facts: [host], moves: [updated] },
    ],
    [
      'instance.update (workload 0): nothing moves; the store only checks the node exists',
      { ...base, kind: 'workload', workload: 0 },
      facts(),
      { facts: [host], moves: [] },
    ],
  ])('%s', (_, e, f, expected) => {
    const c = changeFor(e, f, NOW);
    expect({ facts: c.facts, moves: c.moves }).toEqual(expected);
    expect(c.remeasured).toBe(e.kind === 'utilization');
  });
});

describe('instanceIs: the facts of each state, in factsOf precedence', () => {
  it.each<[InstanceState, Record<string, unknown>]>([
    ['claimed', { claims: { [U]: {} }, inst: { [U]: {} } }],
    ['confirmed', { claims: { [U]: { confirmed_at: AT } } }],
    ['announced', { announced: { [U]: {} }, gone: { [U]: AT } }],
    ['released', { released: { [U]: {} }, inst: { [U]: {} } }],
    ['reported', { inst: { [U]: {} }, gone: { [U]: AT } }],
    ['gone', { gone: { [U]: AT } }],
    ['none', {}],
  ])('%s: the facts hold of an item in that state, and of none in another', (state, maps) => {
    const item = { host: 'h', ...maps };
    expect(factsOf(release, item).instance).toBe(state);
    expect(instanceIs(U, state).every((f) => holds(item, f))).toBe(true);
    for (const other of ['claimed', 'confirmed', 'announced', 'released', 'reported', 'gone', 'none'] as const) {
      if (other !== state)
        expect(
          instanceIs(U, other).every((f) => holds(item, f)),
          other,
        ).toBe(false);
    }
  });
});

// A small interpreter of a change on a plain item, as DynamoDB applies one: the condition
// is every fact; every operand reads the item as it was before the write.
const at = (item: Record<string, unknown>, p: Path): unknown =>
  p.reduce<unknown>(
    (o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
    item,
  );
const holds = (item: Record<string, unknown>, f: Fact): boolean => {
  const v = at(item, f.path);
  if ('exists' in f) return (v !== undefined) === f.exists;
  const n = f.size ? Object.keys(v as object).length : Number(v);
  return { '<': n < f.than, '<=': n <= f.than, '>': n > f.than, '>=': n >= f.than }[f.cmp];
};
const write = (item: Record<string, unknown>, c: LedgerChange): Record<string, unknown> => {
  const next = structuredClone(item);
  const parent = (p: Path) => at(next, p.slice(0, -1)) as Record<string, unknown>;
  const read = (o: { value: unknown } | { path: Path }) => structuredClone('path' in o ? at(item, o.path) : o.value);
  for (const m of c.moves) {
    const key = m.path[m.path.length - 1] as string;
    if (m.op === 'remove') delete parent(m.path)[key];
    else if (m.op === 'set') parent(m.path)[key] = read(m.to);
    else parent(m.path)[key] = Number(at(item, m.path)) + (m.op === 'add' ? 1 : -1) * Number(read(m.by));
  }
  return next;
};

const report: Report = {
  hypervisor_hostname: 'h',
  hypervisor_type: 'QEMU',
  hypervisor_version: 1,
  cpu_info: { arch: 'x86_64', vendor: 'v', model: 'm', features: [], topology: { sockets: 1, cores: 1, threads: 1 } },
  vcpus: 64,
  memory_mb: 1 << 20,
  local_gb: 10_000,
  vcpus_used: 0,
  memory_mb_used: 0,
  local_gb_used: 0,
  disk_available_least: 10_000,
  running_vms: 0,
  current_workload: 0,
  seq: 1,
  reported_at: AT,
};
const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

describe('one rule for the report path and the events (COUNTED)', () => {
  it('after any events, running_vms and claimed_* are what a report of the same measurement would count', () => {
    const ids = fc.integer({ min: 0, max: 5 });
    fc.assert(
      fc.property(
        fc.uniqueArray(ids, { maxLength: 4 }),
        fc.uniqueArray(ids, { maxLength: 4 }),
        fc.array(fc.tuple(fc.boolean(), ids, fc.integer({ min: 1, max: 8 })), { maxLength: 12 }),
        (listed, claimed, events) => {
          // The measurement lists `listed`; the scheduler claimed `claimed` (unconfirmed) after it.
          const instances = listed.map((n) => ({ uuid: uuid(n), vcpus: 1, memory_mb: 512 * n + 1, disk_gb: n + 1 }));
          const measured = { ...report, running_vms: instances.length, instances };
          let record: NodeRecord = applyReport(undefined, measured, 'h', { id: 1, service_id: 1 }, NOW, {
            claimTtlS: 600,
            windowS: 7200,
          });
          const claims: Record<string, Claim> = Object.fromEntries(
            claimed.map((n) => [
              uuid(n),
              { instance_uuid: uuid(n), vcpus: 2, memory_mb: 1000 + n, disk_gb: 3, claimed_at: AT, expires_at: AT },
            ]),
          );
          record = { ...record, claims };
          const totals = storedPending(record);
          let item: Record<string, unknown> = {
            ...record,
            inst: reportedByUuid(record.instances),
            claimed_vcpus: totals.vcpus,
            claimed_memory_mb: totals.memory_mb,
            claimed_disk_gb: totals.disk_gb,
          };
          item.running_vms = measured.running_vms + vmsOnTop(record);
          for (const [create, n, size] of events) {
            const e: NodeEvent = create
              ? {
                  ...base,
                  kind: 'create_end',
                  instance: uuid(n),
                  vcpus: size,
                  memory_mb: size,
                  disk_gb: size,
                  workload: 0,
                }
              : { ...base, kind: 'release', instance: uuid(n), workload: 0 };
            const c = changeFor(e, factsOf(e, item), NOW);
            // The change was chosen on the item's own facts, so its condition holds.
            expect(c.facts.every((f) => holds(item, f))).toBe(true);
            item = write(item, c);
            const now = item as unknown as NodeRecord;
            // What a report of the same measurement would set, from the ledger as the events left it.
            expect(item.running_vms).toBe(measured.running_vms + vmsOnTop(now));
            const pending = storedPending(now);
            expect([item.claimed_vcpus, item.claimed_memory_mb, item.claimed_disk_gb]).toEqual([
              pending.vcpus,
              pending.memory_mb,
              pending.disk_gb,
            ]);
          }
        },
      ),
    );
  });
});
