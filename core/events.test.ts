import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type NovaSample, onTheWire, SAMPLE_HOST, SAMPLE_UUID, samples } from '../test/nova-samples';
import { BadNotificationError as BadNotification } from './errors';
import { type NodeEvent, parseNotification } from './events';
import { workloadAfter } from './ledger/steps';

const UUID = '0f9c1b2a-3d4e-4f50-8a1b-2c3d4e5f6a7b';
const UPPER_UUID = '0F9C1B2A-3D4E-4F50-8A1B-2C3D4E5F6A7B';

const sized = { instance_id: UUID, vcpus: 2, memory_mb: 2048, disk_gb: 20 };

/** A Nova notification envelope as SNS delivers it; `over` replaces (or, with undefined, removes) fields. */
const message = (over: Record<string, unknown> = {}): string => {
  const env: Record<string, unknown> = {
    message_id: 'msg-1',
    event_type: 'compute.instance.create.end',
    publisher_id: 'compute.node-1',
    timestamp: '2026-11-26 00:00:00.000000',
    priority: 'INFO',
    payload: sized,
    ...over,
  };
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete env[k];
  return JSON.stringify(env);
};

/** The BadNotification `body` raises; fails the test if it parses or throws anything else. */
const rejection = (body: string): BadNotification => {
  try {
    parseNotification(body);
  } catch (e) {
    expect(e).toBeInstanceOf(BadNotification);
    return e as BadNotification;
  }
  throw new Error(`parsed: ${body}`);
};

describe('parseNotification: valid messages', () => {
  it('parses create.end into a sized create_end that ends one operation', () => {
    expect(parseNotification(message())).toEqual({
      message_id: 'msg-1',
      event_type: 'compute.instance.create.end',
      host: 'node-1',
      kind: 'create_end',
      instance: UUID,
      vcpus: 2,
      memory_mb: 2048,
      disk_gb: 20,
      workload: -1,
    });
  });

  it('accepts zero-sized flavors (counts may be 0)', () => {
    const e = parseNotification(message({ payload: { instance_id: UUID, vcpus: 0, memory_mb: 0, disk_gb: 0 } }));
    expect(e).toMatchObject({ kind: 'create_end', vcpus: 0, memory_mb: 0, disk_gb: 0 });
  });

  it('parses create.error into a release ending one operation', () => {
    expect(
      parseNotification(message({ event_type: 'compute.instance.create.error', payload: { instance_id: UUID } })),
    ).toEqual({
      message_id: 'msg-1',
      event_type: 'compute.instance.create.error',
      host: 'node-1',
      kind: 'release',
      instance: UUID,
      workload: -1,
    });
  });

  it('parses delete.end into a release ending one operation', () => {
    expect(
      parseNotification(message({ event_type: 'compute.instance.delete.end', payload: { instance_id: UUID } })),
    ).toEqual({
      message_id: 'msg-1',
      event_type: 'compute.instance.delete.end',
      host: 'node-1',
      kind: 'release',
      instance: UUID,
      workload: -1,
    });
  });

  it.each([
    ['compute.instance.create.start', 1],
    ['compute.instance.delete.start', 1],
    ['compute.instance.power_off.start', 1],
    ['compute.instance.power_off.end', -1],
    ['compute.instance.resize.confirm.start', 1],
    ['compute.instance.resize.confirm.end', -1],
    ['compute.instance.rebuild.end', -1],
  ])('parses %s as a workload event moving by %i, whatever its payload', (event_type, workload) => {
    expect(parseNotification(message({ event_type, payload: {} }))).toEqual({
      message_id: 'msg-1',
      event_type,
      host: 'node-1',
      kind: 'workload',
      workload,
    });
  });

  it('parses capacity.utilization.update: workload is work_delta, the other deltas are raw', () => {
    const body = message({
      event_type: 'capacity.utilization.update',
      payload: { free_ram_mb_delta: -512, free_disk_gb_delta: 7, work_delta: 3, vm_delta: -1 },
    });
    expect(parseNotification(body)).toEqual({
      message_id: 'msg-1',
      event_type: 'capacity.utilization.update',
      host: 'node-1',
      kind: 'utilization',
      workload: 3,
      free_ram_mb_delta: -512,
      free_disk_gb_delta: 7,
      vm_delta: -1,
    });
  });

  it('accepts utilization deltas at ±2^40', () => {
    const e = parseNotification(
      message({
        event_type: 'capacity.utilization.update',
        payload: { free_ram_mb_delta: 2 ** 40, free_disk_gb_delta: -(2 ** 40), work_delta: -(2 ** 40), vm_delta: 0 },
      }),
    );
    expect(e).toMatchObject({ free_ram_mb_delta: 2 ** 40, free_disk_gb_delta: -(2 ** 40), workload: -(2 ** 40) });
  });

  it.each([
    ['compute.instance.create.end', sized],
    ['compute.instance.delete.end', { instance_id: UUID }],
    ['compute.instance.create.error', { instance_id: UUID }],
  ])('lowercases an uppercase instance uuid (%s)', (event_type, payload) => {
    const e = parseNotification(message({ event_type, payload: { ...payload, instance_id: UPPER_UUID } }));
    expect(e).toMatchObject({ instance: UUID });
  });

  it('takes the host from publisher_id compute.<host>, dots and all', () => {
    expect(parseNotification(message({ publisher_id: 'compute.rack1.node-7.example.org' })).host).toBe(
      'rack1.node-7.example.org',
    );
    expect(parseNotification(message({ publisher_id: 'compute.Node_1' })).host).toBe('Node_1');
    expect(parseNotification(message({ publisher_id: 'compute.a' })).host).toBe('a');
  });

  it('accepts and drops extra envelope and payload fields', () => {
    const body = message({
      _context_user_id: 'u',
      _context_roles: ['admin'],
      _unique_id: 'x',
      payload: { ...sized, display_name: 'vm', state: 'active', image_meta: { a: 1 } },
    });
    expect(parseNotification(body)).toEqual({
      message_id: 'msg-1',
      event_type: 'compute.instance.create.end',
      host: 'node-1',
      kind: 'create_end',
      instance: UUID,
      vcpus: 2,
      memory_mb: 2048,
      disk_gb: 20,
      workload: -1,
    });
  });

  it('accepts extra fields in a utilization payload', () => {
    const e = parseNotification(
      message({
        event_type: 'capacity.utilization.update',
        payload: { free_ram_mb_delta: 1, free_disk_gb_delta: 2, work_delta: 0, vm_delta: 4, note: 'x' },
      }),
    );
    expect(e).toEqual({
      message_id: 'msg-1',
      event_type: 'capacity.utilization.update',
      host: 'node-1',
      kind: 'utilization',
      workload: 0,
      free_ram_mb_delta: 1,
      free_disk_gb_delta: 2,
      vm_delta: 4,
    });
  });
});

const FORMS = 'must be compute.<host> or nova-<service>:<host>';

describe('parseNotification: bad messages', () => {
  it.each(['', '{', 'not json', "{'a':1}", '{"a":1,}'])('rejects %j as UnparseableMessage', (body) => {
    const e = rejection(body);
    expect(e.message).toBe('UnparseableMessage: the message is not JSON');
    expect(e.name).toBe('BadNotificationError');
    expect(e.code).toBe('BadNotification');
  });

  it.each([
    'compute.instance.frob',
    'foo.bar',
    'compute.instance.create.END',
    'compute.instance.create.end.x',
    'Compute.instance.create.end',
    'capacity.utilization.update.end',
  ])('rejects event_type %s as UnknownEventType', (event_type) => {
    expect(rejection(message({ event_type })).message).toBe(`UnknownEventType: ${event_type}`);
  });

  it('names the event type before looking at the payload', () => {
    expect(rejection(message({ event_type: 'foo.bar', payload: { nothing: true } })).message).toBe(
      'UnknownEventType: foo.bar',
    );
  });

  it('checks the envelope before the event type', () => {
    expect(rejection(message({ event_type: 'foo.bar', publisher_id: undefined })).message).toMatch(
      /^InvalidMessage: publisher_id: /,
    );
  });

  it.each([
    ['message_id', { message_id: undefined }],
    ['message_id', { message_id: '' }],
    ['message_id', { message_id: 'x'.repeat(129) }],
    ['event_type', { event_type: undefined }],
    ['event_type', { event_type: 42 }],
    ['publisher_id', { publisher_id: undefined }],
    ['timestamp', { timestamp: undefined }],
    ['priority', { priority: undefined }],
    ['payload', { payload: undefined }],
    ['payload', { payload: [] }],
    ['payload', { payload: 'x' }],
  ])('rejects a bad envelope field as InvalidMessage naming %s', (field, over) => {
    expect(rejection(message(over)).message).toMatch(new RegExp(`^InvalidMessage: ${field}: `));
  });

  it.each([
    ['scheduler.node-1', FORMS],
    ['node-1', FORMS],
    ['nova-compute.node-1', FORMS],
    ['Nova-compute:node-1', FORMS],
    ['compute.', `${FORMS} with a valid hostname`],
    ['compute..node', `${FORMS} with a valid hostname`],
    ['compute.-node', `${FORMS} with a valid hostname`],
    ['compute.node-', `${FORMS} with a valid hostname`],
    ['compute.no de', `${FORMS} with a valid hostname`],
    ['nova-compute:', `${FORMS} with a valid hostname`],
    ['nova-compute:no de', `${FORMS} with a valid hostname`],
  ])('rejects publisher_id %j: %s', (publisher_id, why) => {
    expect(rejection(message({ publisher_id })).message).toBe(`InvalidMessage: publisher_id: ${why}`);
  });

  it.each(['null', '"a string"', '[]', '42', 'true'])('rejects the JSON %s as InvalidMessage of the body', (body) => {
    expect(rejection(body).message).toMatch(/^InvalidMessage: body: /);
  });

  it.each([
    ['payload.memory_mb', { instance_id: UUID, vcpus: 2, disk_gb: 20 }],
    ['payload.memory_mb', { ...sized, memory_mb: -1 }],
    ['payload.memory_mb', { ...sized, memory_mb: 1.5 }],
    ['payload.memory_mb', { ...sized, memory_mb: '2048' }],
    ['payload.vcpus', { ...sized, vcpus: undefined }],
    ['payload.disk_gb', { ...sized, disk_gb: null }],
    ['payload.instance_id', { ...sized, instance_id: undefined }],
  ])('rejects a create.end payload as InvalidMessage naming %s', (field, payload) => {
    expect(rejection(message({ payload })).message).toMatch(new RegExp(`^InvalidMessage: ${field}: `));
  });

  it.each([
    'not-a-uuid',
    '0f9c1b2a3d4e4f508a1b2c3d4e5f6a7b',
    '0f9c1b2a-3d4e-4f50-8a1b-2c3d4e5f6a7',
    'gf9c1b2a-3d4e-4f50-8a1b-2c3d4e5f6a7b',
  ])('rejects instance_id %j with "must be a uuid"', (instance_id) => {
    for (const event_type of ['compute.instance.create.end', 'compute.instance.delete.end']) {
      expect(rejection(message({ event_type, payload: { ...sized, instance_id } })).message).toBe(
        'InvalidMessage: payload.instance_id: must be a uuid',
      );
    }
  });

  it.each(['compute.instance.delete.end', 'compute.instance.create.error'])(
    'rejects %s without an instance_id, naming payload.instance_id',
    (event_type) => {
      expect(rejection(message({ event_type, payload: {} })).message).toMatch(
        /^InvalidMessage: payload\.instance_id: /,
      );
    },
  );

  it.each([
    ['payload.work_delta', { free_ram_mb_delta: 1, free_disk_gb_delta: 2, vm_delta: 3 }],
    ['payload.free_ram_mb_delta', { free_ram_mb_delta: 1.5, free_disk_gb_delta: 2, work_delta: 0, vm_delta: 3 }],
    [
      'payload.free_disk_gb_delta',
      { free_ram_mb_delta: 1, free_disk_gb_delta: 2 ** 40 + 1, work_delta: 0, vm_delta: 3 },
    ],
    ['payload.vm_delta', { free_ram_mb_delta: 1, free_disk_gb_delta: 2, work_delta: 0, vm_delta: -(2 ** 40) - 1 }],
  ])('rejects a utilization payload as InvalidMessage naming %s', (field, payload) => {
    expect(rejection(message({ event_type: 'capacity.utilization.update', payload })).message).toMatch(
      new RegExp(`^InvalidMessage: ${field.replace('.', '\\.')}: `),
    );
  });
});

const base = { message_id: 'm', event_type: 't', host: 'h' };
const EVENTS = {
  create_end: { ...base, kind: 'create_end', instance: UUID, vcpus: 1, memory_mb: 1, disk_gb: 1, workload: -1 },
  release: { ...base, kind: 'release', instance: UUID, workload: -1 },
  workload: { ...base, kind: 'workload', workload: 1 },
  utilization: { ...base, kind: 'utilization', workload: 2, free_ram_mb_delta: 0, free_disk_gb_delta: 0, vm_delta: 0 },
} satisfies Record<NodeEvent['kind'], NodeEvent>;

describe('workload deltas', () => {
  it.each([
    ['compute.instance.create.start', {}, 1],
    ['compute.instance.create.end', sized, -1],
    ['compute.instance.create.error', { instance_id: UUID }, -1],
    ['compute.instance.delete.start', {}, 1],
    ['compute.instance.delete.end', { instance_id: UUID }, -1],
    ['compute.instance.reboot.start', {}, 1],
    ['compute.instance.reboot.end', {}, -1],
    ['capacity.utilization.update', { free_ram_mb_delta: 0, free_disk_gb_delta: 0, work_delta: -4, vm_delta: 0 }, -4],
    ['capacity.utilization.update', { free_ram_mb_delta: 0, free_disk_gb_delta: 0, work_delta: 0, vm_delta: 0 }, 0],
  ])('%s moves the workload by the expected delta (case %#)', (event_type, payload, workload) => {
    expect(parseNotification(message({ event_type, payload })).workload).toBe(workload);
  });

  it.each([
    [1, 0, 1],
    [1, 5, 6],
    [-1, 1, 0],
    [-1, 0, 0],
    [-1, 3, 2],
    [-4, 2, 0],
    [-4, 4, 0],
    [-4, 10, 6],
    [0, 7, 7],
  ])('workloadAfter(delta %i, current %i) is %i', (workload, current, after) => {
    expect(workloadAfter({ ...EVENTS.utilization, workload }, current)).toBe(after);
  });

  it('never goes below 0, and otherwise adds the delta', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1000 }), fc.nat(1000), (workload, current) => {
        const after = workloadAfter({ ...EVENTS.utilization, workload }, current);
        expect(after).toBeGreaterThanOrEqual(0);
        if (current + workload >= 0) expect(after).toBe(current + workload);
        else expect(after).toBe(0);
      }),
    );
  });
});

describe('event type names', () => {
  it('rejects an instance event type with an empty segment', () => {
    expect(() =>
      parseNotification(
        JSON.stringify({
          message_id: 'm',
          event_type: 'compute.instance...start',
          publisher_id: 'compute.h',
          timestamp: '2026-11-30 09:14:21.806512',
          priority: 'INFO',
          payload: {},
        }),
      ),
    ).toThrow(/^UnknownEventType/);
  });
});

describe("parseNotification: Nova's own samples (test/fixtures/nova)", () => {
  const versioned = samples('versioned');
  const legacy = samples('legacy');
  const head = { host: SAMPLE_HOST, instance: SAMPLE_UUID };
  // test_flavor: 1 vCPU, 512 MB, root 1 GB, ephemeral 0, swap 0.
  const flavor = { vcpus: 1, memory_mb: 512, disk_gb: 1 };

  it.each([
    ['instance-create-end', { ...head, kind: 'create_end', ...flavor, workload: -1 }],
    ['instance-create-error', { ...head, kind: 'release', workload: -1 }],
    ['instance-delete-end', { ...head, kind: 'release', workload: -1 }],
    // nova-api deletes an instance whose compute host is down: the payload's host names the node.
    ['instance-delete-end_compute_down', { ...head, kind: 'release', workload: -1 }],
    ['instance-create-start', { host: SAMPLE_HOST, kind: 'workload', workload: 1 }],
    ['instance-delete-start', { host: SAMPLE_HOST, kind: 'workload', workload: 1 }],
    ['instance-power_off-start', { host: SAMPLE_HOST, kind: 'workload', workload: 1 }],
    ['instance-power_off-end', { host: SAMPLE_HOST, kind: 'workload', workload: -1 }],
    ['instance-power_on-start', { host: SAMPLE_HOST, kind: 'workload', workload: 1 }],
    ['instance-power_on-end', { host: SAMPLE_HOST, kind: 'workload', workload: -1 }],
    ['instance-reboot-start', { host: SAMPLE_HOST, kind: 'workload', workload: 1 }],
    ['instance-reboot-end', { host: SAMPLE_HOST, kind: 'workload', workload: -1 }],
    ['instance-reboot-error', { host: SAMPLE_HOST, kind: 'workload', workload: -1 }],
    ['instance-resize-start', { host: SAMPLE_HOST, kind: 'workload', workload: 1 }],
    ['instance-resize-end', { host: SAMPLE_HOST, kind: 'workload', workload: -1 }],
    ['instance-resize-error', { host: SAMPLE_HOST, kind: 'workload', workload: -1 }],
    ['instance-resize_finish-start', { host: SAMPLE_HOST, kind: 'workload', workload: 1 }],
    ['instance-resize_finish-end', { host: SAMPLE_HOST, kind: 'workload', workload: -1 }],
    ['instance-resize_confirm-start', { host: SAMPLE_HOST, kind: 'workload', workload: 1 }],
    ['instance-resize_confirm-end', { host: SAMPLE_HOST, kind: 'workload', workload: -1 }],
  ] as const)('parses the versioned sample %s, bare and in the oslo.messaging v2 envelope', (name, expected) => {
    const sample = versioned[name] as NovaSample;
    for (const envelope of [false, true]) {
      const e = parseNotification(onTheWire(sample, { message_id: 'm-1', envelope }));
      expect(e).toEqual({ message_id: 'm-1', event_type: sample.event_type, ...expected });
    }
  });

  it('has every versioned and legacy sample the table names (20 and 19)', () => {
    expect(Object.keys(versioned)).toHaveLength(20);
    expect(Object.keys(legacy)).toHaveLength(19);
  });

  it.each(Object.keys(samples('legacy')))('parses the legacy sample %s, bare and enveloped', (name) => {
    const sample = legacy[name] as NovaSample;
    const [, action, phase] = /^compute\.instance\.(.+)\.(start|end|error)$/.exec(name) ?? [];
    const expected =
      action === 'create' && phase === 'end'
        ? { ...head, kind: 'create_end', ...flavor, workload: -1 }
        : (action === 'create' && phase === 'error') || (action === 'delete' && phase === 'end')
          ? { ...head, kind: 'release', workload: -1 }
          : { host: SAMPLE_HOST, kind: 'workload', workload: phase === 'start' ? 1 : -1 };
    for (const envelope of [false, true]) {
      expect(parseNotification(onTheWire(sample, { message_id: 'm-1', envelope }))).toEqual({
        message_id: 'm-1',
        event_type: name,
        ...expected,
      });
    }
  });

  it('counts a versioned flavor disk as root + ephemeral + swap rounded up to GB, as a claim does', () => {
    const s = structuredClone(versioned['instance-create-end'] as NovaSample);
    const f = (
      (s.payload['nova_object.data'] as Record<string, Record<string, unknown>>).flavor as Record<
        string,
        Record<string, unknown>
      >
    )['nova_object.data'] as Record<string, unknown>;
    Object.assign(f, { root_gb: 20, ephemeral_gb: 5, swap: 1025, vcpus: 4, memory_mb: 8192 });
    expect(parseNotification(onTheWire(s))).toMatchObject({ vcpus: 4, memory_mb: 8192, disk_gb: 27 });
  });

  it('takes a legacy disk_gb as sent, else root_gb + ephemeral_gb', () => {
    const p = { instance_id: UUID, vcpus: 1, memory_mb: 1 };
    expect(parseNotification(message({ payload: { ...p, disk_gb: 7, root_gb: 5, ephemeral_gb: 2 } }))).toMatchObject({
      disk_gb: 7,
    });
    expect(parseNotification(message({ payload: { ...p, root_gb: 5, ephemeral_gb: 2 } }))).toMatchObject({
      disk_gb: 7,
    });
    expect(parseNotification(message({ payload: { ...p, root_gb: 5 } }))).toMatchObject({ disk_gb: 5 });
    expect(rejection(message({ payload: p })).message).toBe(
      'InvalidMessage: payload.disk_gb: is required (or root_gb and ephemeral_gb)',
    );
  });

  it("names the host by the payload's host where set, else by the publisher", () => {
    const s = versioned['instance-create-start'] as NovaSample; // host: null
    expect(parseNotification(onTheWire(s, { host: 'node-9' })).host).toBe('node-9');
    const moved = structuredClone(versioned['instance-delete-end'] as NovaSample);
    (moved.payload['nova_object.data'] as Record<string, unknown>).host = 'other-node';
    expect(
      parseNotification(JSON.stringify({ message_id: 'm', timestamp: '2026-11-30 09:14:21', ...moved })).host,
    ).toBe('other-node');
    expect(parseNotification(message({ payload: { ...sized, host: 'node-2' } })).host).toBe('node-2');
    expect(parseNotification(message({ payload: { ...sized, host: null } })).host).toBe('node-1');
    expect(rejection(message({ payload: { ...sized, host: 'no de' } })).message).toBe(
      'InvalidMessage: payload.host: must be a hostname',
    );
  });

  it('names a missing versioned field by its path under nova_object.data', () => {
    const s = structuredClone(versioned['instance-create-end'] as NovaSample);
    const d = s.payload['nova_object.data'] as Record<string, Record<string, Record<string, unknown>>>;
    delete (d.flavor as Record<string, Record<string, unknown>>)['nova_object.data']?.memory_mb;
    expect(rejection(onTheWire(s)).message).toMatch(
      /^InvalidMessage: payload\.nova_object\.data\.flavor\.nova_object\.data\.memory_mb: /,
    );
    const noUuid = structuredClone(versioned['instance-delete-end'] as NovaSample);
    delete (noUuid.payload['nova_object.data'] as Record<string, unknown>).uuid;
    expect(rejection(onTheWire(noUuid)).message).toMatch(/^InvalidMessage: payload\.nova_object\.data\.uuid: /);
    expect(rejection(message({ event_type: 'instance.delete.end', payload: { instance_id: UUID } })).message).toMatch(
      /^InvalidMessage: payload\.nova_object\.data: /,
    );
  });
});

describe('parseNotification: envelopes and timestamps', () => {
  it.each([
    '2026-11-30 09:14:21.806512',
    '2026-11-30 09:14:21',
    '2026-11-30T09:14:21Z',
    '2026-11-30T09:14:21.806Z',
    '2026-11-30T10:14:21+01:00',
  ])('accepts the timestamp %j', (timestamp) => {
    expect(parseNotification(message({ timestamp })).kind).toBe('create_end');
  });

  it.each(['t', '30/11/2026', '2026-11-30', '2026-11-30 09:14', '2026-11-30 09:14:21.8065129', 12])(
    'rejects the timestamp %j, naming it',
    (timestamp) => {
      expect(rejection(message({ timestamp })).message).toMatch(/^InvalidMessage: timestamp: /);
    },
  );

  it('accepts nova-<service>:<host> and compute.<host> publishers for either format', () => {
    expect(parseNotification(message({ publisher_id: 'nova-compute:node-3' })).host).toBe('node-3');
    expect(parseNotification(message({ publisher_id: 'nova-api:api-1', payload: { ...sized, host: 'n4' } })).host).toBe(
      'n4',
    );
  });

  it.each([
    [{ 'oslo.version': '1.0', 'oslo.message': message() }, /^InvalidMessage: oslo\.version: must be "2\.0"/],
    [{ 'oslo.version': '2.0' }, /^InvalidMessage: oslo\.message: /],
    [{ 'oslo.version': '2.0', 'oslo.message': JSON.parse(message()) }, /^InvalidMessage: oslo\.message: /],
    [{ 'oslo.version': '2.0', 'oslo.message': '{' }, /^UnparseableMessage: oslo\.message is not JSON/],
    [{ 'oslo.version': '2.0', 'oslo.message': '[]' }, /^InvalidMessage: body: /],
    [{ 'oslo.message': message() }, /^InvalidMessage: oslo\.version: /],
    [
      { 'oslo.version': '2.0', 'oslo.message': JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': message() }) },
      /^InvalidMessage: message_id: /,
    ],
  ])('rejects a bad envelope %j', (env, reason) => {
    expect(rejection(JSON.stringify(env)).message).toMatch(reason);
  });

  it('reads the message inside an envelope exactly as the bare one', () => {
    const bare = message({ _context_user_id: 'u', _unique_id: 'x' });
    expect(parseNotification(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': bare }))).toEqual(
      parseNotification(bare),
    );
  });

  it.each(['instance.update', 'instance.exists', 'compute.instance.update', 'compute.instance.exists'])(
    'accepts Nova notice %s as changing nothing',
    (event_type) => {
      expect(parseNotification(message({ event_type, payload: {} }))).toEqual({
        message_id: 'msg-1',
        event_type,
        host: 'node-1',
        kind: 'workload',
        workload: 0,
      });
    },
  );
});

describe('parseNotification: fuzzed Nova messages', () => {
  const json = fc.jsonValue();
  it('never throws anything but BadNotification, for any JSON, bare or enveloped', () => {
    fc.assert(
      fc.property(json, fc.boolean(), (v, envelope) => {
        const text = JSON.stringify(v) ?? 'null';
        const body = envelope ? JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': text }) : text;
        try {
          parseNotification(body);
        } catch (e) {
          expect(e).toBeInstanceOf(BadNotification);
        }
      }),
    );
  });

  it('parses a versioned create.end with any flavor sizes up to 2^40 exactly, and refuses beyond', () => {
    const limit = 2 ** 40;
    fc.assert(
      fc.property(
        fc.record({
          vcpus: fc.integer({ min: 0, max: limit }),
          memory_mb: fc.integer({ min: 0, max: limit }),
          root_gb: fc.integer({ min: 0, max: limit }),
          ephemeral_gb: fc.integer({ min: 0, max: 1024 }),
          swap: fc.integer({ min: 0, max: 1 << 20 }),
          over: fc.option(fc.constantFrom('vcpus', 'memory_mb', 'root_gb'), { nil: undefined }),
        }),
        (f) => {
          const s = structuredClone(samples('versioned')['instance-create-end'] as NovaSample);
          const fl = (s.payload['nova_object.data'] as Record<string, Record<string, Record<string, unknown>>>).flavor;
          const { over, ...sizes } = f;
          Object.assign(fl?.['nova_object.data'] ?? {}, sizes, over ? { [over]: limit + 1 } : {});
          if (over) {
            expect(rejection(onTheWire(s)).message).toMatch(new RegExp(`flavor\\.nova_object\\.data\\.${over}: `));
            return;
          }
          expect(parseNotification(onTheWire(s))).toMatchObject({
            vcpus: f.vcpus,
            memory_mb: f.memory_mb,
            disk_gb: f.root_gb + f.ephemeral_gb + Math.ceil(f.swap / 1024),
          });
        },
      ),
    );
  });
});
