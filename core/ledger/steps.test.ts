import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NodeEvent } from '../events';
import { likelyFacts, type NodeFacts, type Step, stepFor, workloadAfter } from './steps';
import type { InstanceState } from './usage';

const UUID = '0f9c1b2a-3d4e-4f50-8a1b-2c3d4e5f6a7b';
const base = { message_id: 'm', event_type: 't', host: 'h' };
const EVENTS = {
  create_end: { ...base, kind: 'create_end', instance: UUID, vcpus: 1, memory_mb: 1, disk_gb: 1, workload: -1 },
  release: { ...base, kind: 'release', instance: UUID, workload: -1 },
  workload: { ...base, kind: 'workload', workload: 1 },
  utilization: { ...base, kind: 'utilization', workload: 2, free_ram_mb_delta: 0, free_disk_gb_delta: 0, vm_delta: 0 },
} satisfies Record<NodeEvent['kind'], NodeEvent>;

/** Facts with room in every map and nothing measured, with overrides. */
const facts = (over: Partial<NodeFacts> = {}): NodeFacts => ({
  instance: 'none',
  tombstones: 0,
  announced: 0,
  current_workload: 0,
  memory_mb_used: 0,
  local_gb_used: 0,
  running_vms: 0,
  ...over,
});

const STATES: InstanceState[] = ['claimed', 'confirmed', 'announced', 'reported', 'released', 'gone', 'none'];

const EXPECTED_STEPS: Record<NodeEvent['kind'], Record<InstanceState, Step>> = {
  create_end: {
    claimed: { op: 'confirm' },
    confirmed: { op: 'none' },
    announced: { op: 'none' },
    reported: { op: 'none' },
    released: { op: 'none' },
    gone: { op: 'none' },
    none: { op: 'announce' },
  },
  release: {
    claimed: { op: 'release', from: 'claimed', tombstone: true },
    confirmed: { op: 'release', from: 'confirmed', tombstone: true },
    announced: { op: 'release', from: 'announced', tombstone: true },
    reported: { op: 'release', from: 'reported', tombstone: true },
    released: { op: 'none' },
    gone: { op: 'none' },
    none: { op: 'tombstone' },
  },
  workload: Object.fromEntries(STATES.map((s) => [s, { op: 'workload' }])) as Record<InstanceState, Step>,
  utilization: Object.fromEntries(STATES.map((s) => [s, { op: 'utilization' }])) as Record<InstanceState, Step>,
};

const STEP_TABLE = (Object.keys(EVENTS) as NodeEvent['kind'][]).flatMap((kind) =>
  STATES.map((state) => [kind, state, EXPECTED_STEPS[kind][state]] as const),
);

describe('stepFor', () => {
  it('has one row per (event kind × instance state)', () => {
    expect(STEP_TABLE).toHaveLength(4 * 7);
  });

  it.each(STEP_TABLE)('%s with the instance %s → %o', (kind, state, step) => {
    expect(stepFor(EVENTS[kind], facts({ instance: state }))).toEqual(step);
    // The figures do not choose the step.
    expect(stepFor(EVENTS[kind], facts({ instance: state, current_workload: 9, running_vms: 0 }))).toEqual(step);
  });
});

describe('likelyFacts', () => {
  it.each([
    ['create_end', { ...EVENTS.create_end }, facts({ instance: 'claimed', current_workload: 1 })],
    ['release', { ...EVENTS.release }, facts({ instance: 'reported', current_workload: 1, running_vms: 1 })],
    ['workload start', { ...EVENTS.workload, workload: 1 }, facts()],
    ['workload end', { ...EVENTS.workload, workload: -1 }, facts({ current_workload: 1 })],
    ['utilization +2', { ...EVENTS.utilization, workload: 2 }, facts()],
    ['utilization −3', { ...EVENTS.utilization, workload: -3 }, facts({ current_workload: 3 })],
    ['utilization 0', { ...EVENTS.utilization, workload: 0 }, facts()],
    [
      'utilization, used up and vms down',
      { ...EVENTS.utilization, workload: 0, free_ram_mb_delta: 512, free_disk_gb_delta: -3, vm_delta: -2 },
      facts({ memory_mb_used: 512, running_vms: 2 }),
    ],
  ] as const)('guesses the usual facts for %s', (_, e, expected) => {
    expect(likelyFacts(e as NodeEvent)).toEqual(expected);
  });

  it('guesses a workload from which the event lands exactly, without clamping', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1000 }), (workload) => {
        const f = likelyFacts({ ...EVENTS.utilization, workload });
        expect(workloadAfter({ ...EVENTS.utilization, workload }, f.current_workload)).toBe(
          f.current_workload + workload,
        );
      }),
    );
  });
});
