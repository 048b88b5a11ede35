import { z } from 'zod';
import { ValidationError } from './errors';
import { count, HOST_PATTERN, parseWith, UUID_PATTERN } from './schema';

/**
 * Nova's lifecycle notifications (CONTRACT.md "Notifications (SNS)"), and what
 * each one does to a node's ledger (docs/accounting.md). Pure: the notify
 * function parses, the DynamoDB adapter turns a step into one transaction.
 */

/** The notification envelope. Extra fields (oslo.messaging's `_context_*`, Nova's longer payloads) are ignored. */
const EnvelopeSchema = z.object({
  message_id: z.string().min(1).max(128),
  event_type: z.string().min(1).max(255),
  publisher_id: z
    .string()
    .regex(/^compute\.[^.].*$/, 'must be compute.<host>')
    .refine((p) => HOST_PATTERN.test(p.slice('compute.'.length)), 'must be compute.<host> with a valid hostname'),
  timestamp: z.string().min(1).max(64),
  priority: z.string().min(1).max(32),
  payload: z.record(z.string(), z.unknown()),
});

const uuid = z
  .string()
  .regex(UUID_PATTERN, 'must be a uuid')
  .transform((u) => u.toLowerCase());

const SizedPayload = z.object({ instance_id: uuid, vcpus: count(), memory_mb: count(), disk_gb: count() });
const InstancePayload = z.object({ instance_id: uuid });
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
  /** Moves current_workload: +1 for X.start, −1 for X.end (never below 0), raw for a utilization update. */
  workload: number;
} & (
  | { kind: 'create_end'; instance: string; vcpus: number; memory_mb: number; disk_gb: number }
  | { kind: 'release'; instance: string }
  | { kind: 'workload' }
  | { kind: 'utilization'; free_ram_mb_delta: number; free_disk_gb_delta: number; vm_delta: number }
);

/** Thrown for a message that can never be applied: it goes to the dead-letter queue with this reason. */
export class BadNotification extends Error {
  override name = 'BadNotification';
}

const INSTANCE = /^compute\.instance\.([a-z_]+(?:\.[a-z_]+)*)\.(start|end|error)$/;

/** Parses one SNS message body into the event it carries, or throws BadNotification naming what is wrong. */
export const parseNotification = (body: string): NodeEvent => {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new BadNotification('UnparseableMessage: the message is not JSON');
  }
  try {
    const env = parseWith(EnvelopeSchema, json);
    const base = { message_id: env.message_id, event_type: env.event_type, host: env.publisher_id.slice(8) };
    const payload = (schema: z.ZodType) => parseWith(z.object({ payload: schema }), { payload: env.payload }).payload;
    if (env.event_type === 'capacity.utilization.update') {
      const p = payload(UtilizationPayload) as z.infer<typeof UtilizationPayload>;
      return {
        ...base,
        kind: 'utilization',
        workload: p.work_delta,
        free_ram_mb_delta: p.free_ram_mb_delta,
        free_disk_gb_delta: p.free_disk_gb_delta,
        vm_delta: p.vm_delta,
      };
    }
    const m = INSTANCE.exec(env.event_type);
    if (!m) throw new BadNotification(`UnknownEventType: ${env.event_type}`);
    const [, action, phase] = m;
    if (action === 'create' && phase === 'end') {
      const p = payload(SizedPayload) as z.infer<typeof SizedPayload>;
      return {
        ...base,
        kind: 'create_end',
        instance: p.instance_id,
        vcpus: p.vcpus,
        memory_mb: p.memory_mb,
        disk_gb: p.disk_gb,
        workload: -1,
      };
    }
    // create.error ends the create.start's operation too.
    if ((action === 'create' && phase === 'error') || (action === 'delete' && phase === 'end')) {
      const p = payload(InstancePayload) as z.infer<typeof InstancePayload>;
      return { ...base, kind: 'release', instance: p.instance_id, workload: -1 };
    }
    if (phase === 'error') throw new BadNotification(`UnknownEventType: ${env.event_type}`);
    return { ...base, kind: 'workload', workload: phase === 'start' ? 1 : -1 };
  } catch (e) {
    if (e instanceof ValidationError) throw new BadNotification(`InvalidMessage: ${e.message}`);
    throw e;
  }
};

/** What the ledger knows of one instance on one node (from the item as stored). */
export type InstanceState = 'claimed' | 'confirmed' | 'announced' | 'reported' | 'released' | 'gone' | 'none';

/** The facts of a node item one event's step depends on. */
export interface NodeFacts {
  instance: InstanceState;
  current_workload: number;
}

/** What one event does, given the facts: the adapter guards the write with exactly these facts. */
export type Step =
  /** create.end of a claimed instance: the claim stops expiring; running_vms + 1. */
  | { op: 'confirm' }
  /** create.end of an instance nobody claimed: counted on top of the report until one lists it; running_vms + 1. */
  | { op: 'announce' }
  /** delete.end / create.error: take the instance's stored resources off; running_vms − 1 unless it was an unconfirmed claim. */
  | { op: 'release'; from: 'claimed' | 'confirmed' | 'announced' | 'reported' }
  /** Release of an instance the ledger does not hold: only a tombstone, so a late create.end changes nothing. */
  | { op: 'tombstone' }
  /** Already reflected (e.g. the report listed it first): only the workload moves, if at all. */
  | { op: 'none' }
  | { op: 'utilization' }
  | { op: 'workload' };

export const stepFor = (e: NodeEvent, f: NodeFacts): Step => {
  switch (e.kind) {
    case 'create_end':
      if (f.instance === 'claimed') return { op: 'confirm' };
      if (f.instance === 'none') return { op: 'announce' };
      return { op: 'none' };
    case 'release':
      if (
        f.instance === 'claimed' ||
        f.instance === 'confirmed' ||
        f.instance === 'announced' ||
        f.instance === 'reported'
      )
        return { op: 'release', from: f.instance };
      if (f.instance === 'none') return { op: 'tombstone' };
      return { op: 'none' };
    case 'utilization':
      return { op: 'utilization' };
    case 'workload':
      return { op: 'workload' };
  }
};

/** The workload after the event: moved by `e.workload`, never below 0. */
export const workloadAfter = (e: NodeEvent, current: number): number => Math.max(0, current + e.workload);

/** The guess before any read: the common case for each event (a scheduled create, a delete after a report). */
export const likelyFacts = (e: NodeEvent): NodeFacts => ({
  instance: e.kind === 'create_end' ? 'claimed' : e.kind === 'release' ? 'reported' : 'none',
  current_workload: Math.max(0, -e.workload),
});
