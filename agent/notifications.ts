import type { Instance } from '../core/nodes';

/**
 * Nova's lifecycle notifications as the agent publishes them (CONTRACT.md
 * "Notifications (SNS)"; parsed by core/events.ts). Pure: no clock, no ids,
 * no I/O — the caller passes `now` and `newId`.
 */

/** The two lifecycle events the agent sees from libvirt. */
export const CREATE_END = 'compute.instance.create.end';
export const DELETE_END = 'compute.instance.delete.end';

/** What a create.end / delete.end carries: Nova's instance payload, cut to what the ledger reads. */
export interface InstancePayload {
  instance_id: string;
  vcpus?: number;
  memory_mb?: number;
  disk_gb?: number;
  /** The compute host, as in Nova's payload (the ledger reads the host from publisher_id). */
  host: string;
}

/** One Nova notification; the SNS message body is its JSON. */
export interface Notification {
  message_id: string;
  event_type: string;
  /** `compute.<host>`. */
  publisher_id: string;
  /** ISO 8601, UTC. */
  timestamp: string;
  priority: 'INFO' | 'WARN' | 'ERROR';
  payload: Record<string, unknown>;
}

/** A notification from `host`: a fresh envelope around `payload`. */
export const notification = (
  host: string,
  event_type: string,
  payload: Record<string, unknown>,
  now: Date,
  newId: () => string,
  priority: Notification['priority'] = 'INFO',
): Notification => ({
  message_id: newId(),
  event_type,
  publisher_id: `compute.${host}`,
  timestamp: now.toISOString(),
  priority,
  payload,
});

/** The payload of an instance's create.end or delete.end on `host`. */
export const instancePayload = (host: string, i: Instance): InstancePayload => ({
  instance_id: i.uuid.toLowerCase(),
  vcpus: i.vcpus,
  memory_mb: i.memory_mb,
  disk_gb: i.disk_gb,
  host,
});

/**
 * What changed between two looks at the domains: delete.end for each instance that
 * vanished (sized as last seen), then create.end for each that appeared, each group
 * sorted by uuid. UUIDs compare case-insensitively; an instance in both looks is no
 * event, whatever its size did (a resize is not a lifecycle event here).
 * Deletes go first so a host that swaps instances frees before it fills.
 */
export const diffDomains = (
  before: readonly Instance[],
  after: readonly Instance[],
  host: string,
  now: Date,
  newId: () => string,
): Notification[] => {
  const key = (i: Instance) => i.uuid.toLowerCase();
  const was = new Map(before.map((i) => [key(i), i]));
  const is = new Map(after.map((i) => [key(i), i]));
  const byUuid = (a: Instance, b: Instance) => key(a).localeCompare(key(b));
  const gone = [...was.values()].filter((i) => !is.has(key(i))).sort(byUuid);
  const came = [...is.values()].filter((i) => !was.has(key(i))).sort(byUuid);
  const out = (type: string) => (i: Instance) => notification(host, type, { ...instancePayload(host, i) }, now, newId);
  return [...gone.map(out(DELETE_END)), ...came.map(out(CREATE_END))];
};

/** The fields of a `notify` log line about `n`, the same for the watch and `qm-agent notify`. */
export const noteFields = (host: string, n: Notification, status: string) => ({
  host,
  event: n.event_type,
  instance: String(n.payload.instance_id ?? ''),
  message_id: n.message_id,
  status,
});
