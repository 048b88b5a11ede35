import { z } from 'zod';
import { ValidationError } from './errors';
import { MAX_ANNOUNCED, MAX_TOMBSTONES } from './nodes';
import { HOST_PATTERN, parseWith, UUID_PATTERN } from './schema';

/**
 * Nova's lifecycle notifications (CONTRACT.md "Notifications (SNS)"), and what
 * each one does to a node's ledger (docs/accounting.md). Pure: the notify
 * function parses, the DynamoDB adapter turns a step into one transaction.
 *
 * Both of Nova's formats are read as Nova sends them: legacy (unversioned,
 * `compute.instance.*`, sizes flat in the payload, after
 * `nova/notifications/base.py` `info_from_instance`) and versioned
 * (`instance.*`, the instance an `InstancePayload` under `nova_object.data`),
 * bare or inside oslo.messaging's v2 envelope.
 */

/**
 * A figure a message moves (`memory_mb_used`, `local_gb_used`, `running_vms`,
 * `current_workload`) stays in [0, 2^40]: never below 0 (rule 5), and never past
 * the report's own bound, so no sequence of deltas takes a stored number beyond
 * what a JavaScript number holds exactly.
 */
export const MAX_MEASURED = 2 ** 40;

/** `current + delta`, kept in [0, MAX_MEASURED]. */
export const clampFigure = (current: number, delta: number): number =>
  Math.min(MAX_MEASURED, Math.max(0, current + delta));

/** An instance size in a message: a count up to 2^40, so 256 announced ones still sum exactly. */
const size = () => z.number().int().nonnegative().max(MAX_MEASURED);

/** oslo.messaging's `str(timeutils.utcnow())`: `2026-11-30 09:14:21.806512`, UTC (no fraction when it is 0). */
const OSLO_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?$/;
const isIso = (s: string) => z.iso.datetime({ offset: true }).safeParse(s).success;

/**
 * `compute.<host>` (legacy), `nova-<binary>:<host>` (versioned: `nova-compute`,
 * or `nova-api` when it deletes an instance whose compute host is down).
 */
const PUBLISHER = /^(?:compute\.|nova-[a-z]+:)(.*)$/;
const PUBLISHER_FORMS = 'must be compute.<host> or nova-<service>:<host>';

/** The notification. Extra fields (oslo.messaging's `_context_*`, Nova's longer payloads) are ignored. */
const NotificationSchema = z.object({
  message_id: z.string().min(1).max(128),
  event_type: z.string().min(1).max(255),
  publisher_id: z
    .string()
    .max(300)
    .regex(PUBLISHER, PUBLISHER_FORMS)
    .refine((p) => HOST_PATTERN.test(PUBLISHER.exec(p)?.[1] ?? ''), `${PUBLISHER_FORMS} with a valid hostname`),
  timestamp: z
    .string()
    .max(64)
    .refine(
      (t) => OSLO_TIMESTAMP.test(t) || isIso(t),
      'must be ISO 8601 or oslo\'s "YYYY-MM-DD HH:MM:SS.ffffff" (UTC)',
    ),
  priority: z.string().min(1).max(32),
  payload: z.record(z.string(), z.unknown()),
});

/** oslo.messaging's v2 envelope: the notification serialized once more, as a string. */
const OsloEnvelopeSchema = z.object({
  'oslo.version': z.literal('2.0', { error: 'must be "2.0"' }),
  'oslo.message': z.string({ error: 'must be the message as a JSON string' }),
});

const uuid = z
  .string()
  .regex(UUID_PATTERN, 'must be a uuid')
  .transform((u) => u.toLowerCase());
/** Where a payload names its instance's host: a hostname, or null/absent (then the publisher's). */
const payloadHost = z.string().regex(HOST_PATTERN, 'must be a hostname').nullish();

/** Legacy: `info_from_instance`'s fields; `disk_gb` is root_gb + ephemeral_gb (Nova sends all three). */
const LegacyInstance = z.object({ instance_id: uuid, host: payloadHost });
const LegacySized = LegacyInstance.extend({
  vcpus: size(),
  memory_mb: size(),
  disk_gb: size().optional(),
  root_gb: size().optional(),
  ephemeral_gb: size().optional(),
}).refine((p) => p.disk_gb !== undefined || p.root_gb !== undefined, {
  path: ['disk_gb'],
  message: 'is required (or root_gb and ephemeral_gb)',
});
const LegacyHost = z.object({ host: payloadHost });

/** Versioned: an InstancePayload (InstanceActionPayload, InstanceCreatePayload, …) under `nova_object.data`. */
const data = <T extends z.ZodRawShape>(shape: T) => z.object({ 'nova_object.data': z.object(shape) });
const VersionedInstance = data({ uuid, host: payloadHost });
const VersionedSized = data({
  uuid,
  host: payloadHost,
  flavor: data({ vcpus: size(), memory_mb: size(), root_gb: size(), ephemeral_gb: size(), swap: size() }),
});
const VersionedHost = z.object({ 'nova_object.data': z.object({ host: payloadHost }).optional() });

const delta = () =>
  z
    .number()
    .int()
    .min(-(2 ** 40))
    .max(2 ** 40);
const UtilizationPayload = z.object({
  free_ram_mb_delta: delta(),
  free_disk_gb_delta: delta(),
  work_delta: delta(),
  vm_delta: delta(),
});

export type NodeEvent = {
  message_id: string;
  event_type: string;
  host: string;
  /** Moves current_workload: +1 for X.start, −1 for X.end / X.error, raw for a utilization update (clamped). */
  workload: number;
} & (
  | { kind: 'create_end'; instance: string; vcpus: number; memory_mb: number; disk_gb: number }
  | { kind: 'release'; instance: string }
  | { kind: 'workload' }
  | { kind: 'utilization'; free_ram_mb_delta: number; free_disk_gb_delta: number; vm_delta: number }
);

/** Thrown for a message that can never apply: it goes to the dead-letter queue with this reason. */
export class BadNotification extends Error {
  override name = 'BadNotification';
}

/** `compute.instance.<action>.<phase>` (legacy) or `instance.<action>.<phase>` (versioned). */
const INSTANCE = /^(compute\.)?instance\.([a-z_]+(?:\.[a-z_]+)*)\.(start|end|error)$/;
/** Nova's periodic and state-change notices: well-formed, and nothing for the ledger to do. */
const NOTICES = /^(?:compute\.)?instance\.(?:update|exists)$/;

const json = (text: string, what: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    throw new BadNotification(`UnparseableMessage: ${what} is not JSON`);
  }
};

/** The notification a body carries: itself, or the one inside oslo.messaging's v2 envelope. */
const unwrap = (body: string): unknown => {
  const outer = json(body, 'the message');
  if (outer === null || typeof outer !== 'object' || !('oslo.version' in outer || 'oslo.message' in outer))
    return outer;
  const env = parseWith(OsloEnvelopeSchema, outer);
  return json(env['oslo.message'], 'oslo.message');
};

/** Parses one SNS message body into the event it carries, or throws BadNotification naming what is wrong. */
export const parseNotification = (body: string): NodeEvent => {
  try {
    const n = parseWith(NotificationSchema, unwrap(body));
    const publisherHost = PUBLISHER.exec(n.publisher_id)?.[1] as string;
    const payload = <T>(schema: z.ZodType<T>) =>
      parseWith(z.object({ payload: schema }), { payload: n.payload }).payload;
    const base = (host: string | null | undefined) => ({
      message_id: n.message_id,
      event_type: n.event_type,
      host: host ?? publisherHost,
    });
    if (n.event_type === 'capacity.utilization.update') {
      const p = payload(UtilizationPayload.extend({ host: payloadHost }));
      return {
        ...base(p.host),
        kind: 'utilization',
        workload: p.work_delta,
        free_ram_mb_delta: p.free_ram_mb_delta,
        free_disk_gb_delta: p.free_disk_gb_delta,
        vm_delta: p.vm_delta,
      };
    }
    const m = INSTANCE.exec(n.event_type);
    const legacy = m ? m[1] !== undefined : n.event_type.startsWith('compute.');
    const hostOnly = () => (legacy ? payload(LegacyHost).host : payload(VersionedHost)['nova_object.data']?.host);
    if (NOTICES.test(n.event_type)) return { ...base(hostOnly()), kind: 'workload', workload: 0 };
    if (!m) throw new BadNotification(`UnknownEventType: ${n.event_type}`);
    const [, , action, phase] = m;
    if (action === 'create' && phase === 'end') {
      if (legacy) {
        const p = payload(LegacySized);
        const disk_gb = p.disk_gb ?? (p.root_gb ?? 0) + (p.ephemeral_gb ?? 0);
        return { ...base(p.host), kind: 'create_end', instance: p.instance_id, ...sizes(p, disk_gb), workload: -1 };
      }
      const d = payload(VersionedSized)['nova_object.data'];
      const f = d.flavor['nova_object.data'];
      // As the claim counts it: root + ephemeral + swap rounded up to GB (core/scheduler/scheduler.ts).
      const disk_gb = f.root_gb + f.ephemeral_gb + Math.ceil(f.swap / 1024);
      return { ...base(d.host), kind: 'create_end', instance: d.uuid, ...sizes(f, disk_gb), workload: -1 };
    }
    // create.error ends the create.start's operation too.
    if ((action === 'create' && phase === 'error') || (action === 'delete' && phase === 'end')) {
      const [instance, host] = legacy
        ? ((p) => [p.instance_id, p.host])(payload(LegacyInstance))
        : ((d) => [d.uuid, d.host])(payload(VersionedInstance)['nova_object.data']);
      return { ...base(host), kind: 'release', instance, workload: -1 };
    }
    // Any other X.error ends its X.start's operation, as X.end does.
    return { ...base(hostOnly()), kind: 'workload', workload: phase === 'start' ? 1 : -1 };
  } catch (e) {
    if (e instanceof ValidationError) throw new BadNotification(`InvalidMessage: ${e.message}`);
    throw e;
  }
};

const sizes = (f: { vcpus: number; memory_mb: number }, disk_gb: number) => ({
  vcpus: f.vcpus,
  memory_mb: f.memory_mb,
  disk_gb,
});

/** What the ledger knows of one instance on one node (from the item as stored). */
export type InstanceState = 'claimed' | 'confirmed' | 'announced' | 'reported' | 'released' | 'gone' | 'none';

/** The measured figures a message may move; each stays in [0, MAX_MEASURED]. */
export const FIGURES = ['current_workload', 'memory_mb_used', 'local_gb_used', 'running_vms'] as const;
export type Figure = (typeof FIGURES)[number];

/** The facts of a node item one event's step depends on. */
export type NodeFacts = {
  instance: InstanceState;
  /** Entries in `gone` and `announced`: whether one more fits (MAX_TOMBSTONES, MAX_ANNOUNCED). */
  tombstones: number;
  announced: number;
} & Record<Figure, number>;

/** What one event does, given the facts: the adapter guards the write with exactly these facts. */
export type Step =
  /** create.end of a claimed instance: the claim stops expiring; running_vms + 1. */
  | { op: 'confirm' }
  /** create.end of an instance nobody claimed: counted on top of the report until one lists it; running_vms + 1. */
  | { op: 'announce' }
  /**
   * delete.end / create.error: take the instance's stored resources off; running_vms − 1 unless it was an
   * unconfirmed claim; a tombstone unless MAX_TOMBSTONES are kept.
   */
  | { op: 'release'; from: 'claimed' | 'confirmed' | 'announced' | 'reported'; tombstone: boolean }
  /** Release of an instance the ledger does not hold: only a tombstone, so a late create.end changes nothing. */
  | { op: 'tombstone' }
  /** Already reflected (e.g. the report listed it first), or the bound is reached: only the workload moves. */
  | { op: 'none' }
  | { op: 'utilization' }
  | { op: 'workload' };

/** Which bounded map the step for `e` depends on, given its instance state: its condition states how full it is. */
export const boundedBy = (e: NodeEvent, f: Pick<NodeFacts, 'instance'>): 'gone' | 'announced' | undefined => {
  if (e.kind === 'release' && f.instance !== 'released' && f.instance !== 'gone') return 'gone';
  if (e.kind === 'create_end' && f.instance === 'none') return 'announced';
  return undefined;
};

/** Whether the bounded map the step depends on has room for one more entry. */
export const hasRoom = (map: 'gone' | 'announced', f: NodeFacts): boolean =>
  map === 'gone' ? f.tombstones < MAX_TOMBSTONES : f.announced < MAX_ANNOUNCED;

export const stepFor = (e: NodeEvent, f: NodeFacts): Step => {
  switch (e.kind) {
    case 'create_end':
      if (f.instance === 'claimed') return { op: 'confirm' };
      if (f.instance === 'none' && hasRoom('announced', f)) return { op: 'announce' };
      return { op: 'none' };
    case 'release':
      if (
        f.instance === 'claimed' ||
        f.instance === 'confirmed' ||
        f.instance === 'announced' ||
        f.instance === 'reported'
      )
        return { op: 'release', from: f.instance, tombstone: hasRoom('gone', f) };
      if (f.instance === 'none' && hasRoom('gone', f)) return { op: 'tombstone' };
      return { op: 'none' };
    case 'utilization':
      return { op: 'utilization' };
    case 'workload':
      return { op: 'workload' };
  }
};

/**
 * How far the step asks each figure to move (before clamping): the workload by
 * `e.workload`; running_vms by ±1 for what create.end / a release changes;
 * a utilization update's raw deltas (free goes up, so used goes down, as in
 * Nova's `compute_node_utilization_update`).
 */
export const figureDeltas = (e: NodeEvent, step: Step): Partial<Record<Figure, number>> => {
  const d: Partial<Record<Figure, number>> = {};
  if (e.workload !== 0) d.current_workload = e.workload;
  if (step.op === 'confirm' || step.op === 'announce') d.running_vms = 1;
  if (step.op === 'release' && step.from !== 'claimed') d.running_vms = -1;
  if (e.kind === 'utilization') {
    if (e.free_ram_mb_delta !== 0) d.memory_mb_used = -e.free_ram_mb_delta;
    if (e.free_disk_gb_delta !== 0) d.local_gb_used = -e.free_disk_gb_delta;
    if (e.vm_delta !== 0) d.running_vms = e.vm_delta;
  }
  return d;
};

/** The workload after the event: moved by `e.workload`, kept in [0, MAX_MEASURED]. */
export const workloadAfter = (e: NodeEvent, current: number): number => clampFigure(current, e.workload);

/** The facts after the step is applied: the next event's first guess for the same host. */
export const factsAfter = (e: NodeEvent, f: NodeFacts): NodeFacts => {
  const step = stepFor(e, f);
  const after = { ...f };
  for (const [k, d] of Object.entries(figureDeltas(e, step)) as [Figure, number][]) after[k] = clampFigure(f[k], d);
  if (step.op === 'tombstone' || (step.op === 'release' && step.tombstone)) after.tombstones++;
  if (step.op === 'announce') after.announced++;
  if (step.op === 'release' && step.from === 'announced') after.announced--;
  return after;
};

/**
 * The guess before any read: the common case for each event (a scheduled
 * create, a delete after a report), with figures from which every move lands
 * exactly and room in the bounded maps.
 */
export const likelyFacts = (e: NodeEvent): NodeFacts => {
  const instance = e.kind === 'create_end' ? 'claimed' : e.kind === 'release' ? 'reported' : 'none';
  const f: NodeFacts = {
    instance,
    tombstones: 0,
    announced: 0,
    current_workload: 0,
    memory_mb_used: 0,
    local_gb_used: 0,
    running_vms: 0,
  };
  for (const [k, d] of Object.entries(figureDeltas(e, stepFor(e, f))) as [Figure, number][]) f[k] = Math.max(0, -d);
  return f;
};
