import { z } from 'zod';
import { BadNotificationError, ValidationError } from './errors';
import { MAX_MEASURED } from './ledger/bounds';
import { HOST_PATTERN, parseWith, UUID_PATTERN } from './schema';

/**
 * Nova's lifecycle notifications (CONTRACT.md "Notifications (SNS)"), parsed
 * into the event each carries. What an event does to a node's ledger is
 * core/ledger/steps.ts and change.ts (docs/accounting.md); the DynamoDB
 * adapter writes that change in one transaction.
 *
 * Both of Nova's formats are read as Nova sends them: legacy (unversioned,
 * `compute.instance.*`, sizes flat in the payload, after
 * `nova/notifications/base.py` `info_from_instance`) and versioned
 * (`instance.*`, the instance an `InstancePayload` under `nova_object.data`),
 * bare or inside oslo.messaging's v2 envelope.
 */

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

export { BadNotificationError };
/** The name agent/cli.ts imports (another module's owner moves it to BadNotificationError). */
export const BadNotification = BadNotificationError;
export type BadNotification = BadNotificationError;

/** `compute.instance.<action>.<phase>` (legacy) or `instance.<action>.<phase>` (versioned). */
const INSTANCE = /^(compute\.)?instance\.([a-z_]+(?:\.[a-z_]+)*)\.(start|end|error)$/;
/** Nova's periodic and state-change notices: well-formed, and nothing for the ledger to do. */
const NOTICES = /^(?:compute\.)?instance\.(?:update|exists)$/;

const json = (text: string, what: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    throw new BadNotificationError(`UnparseableMessage: ${what} is not JSON`);
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

/** Parses one SNS message body into the event it carries, or throws BadNotificationError naming what is wrong. */
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
    if (!m) throw new BadNotificationError(`UnknownEventType: ${n.event_type}`);
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
    if (e instanceof ValidationError) throw new BadNotificationError(`InvalidMessage: ${e.message}`);
    throw e;
  }
};

const sizes = (f: { vcpus: number; memory_mb: number }, disk_gb: number) => ({
  vcpus: f.vcpus,
  memory_mb: f.memory_mb,
  disk_gb,
});
