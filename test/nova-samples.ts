import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Nova's notification samples (test/fixtures/nova/README.md), as Nova hands them to oslo.messaging. */
export interface NovaSample {
  event_type: string;
  publisher_id: string;
  priority: string;
  payload: Record<string, unknown>;
}

const DIR = join(__dirname, 'fixtures', 'nova');

/** Every sample of one format, by file name without `.json`. */
export const samples = (format: 'versioned' | 'legacy'): Record<string, NovaSample> =>
  Object.fromEntries(
    readdirSync(join(DIR, format))
      .filter((f) => f.endsWith('.json'))
      .map((f) => [f.slice(0, -'.json'.length), JSON.parse(readFileSync(join(DIR, format, f), 'utf8')) as NovaSample]),
  );

/** The instance every sample is about, and the host that sends it. */
export const SAMPLE_UUID = '178b0921-8f85-4257-88b6-2e743b5a975c';
export const SAMPLE_HOST = 'compute';

/** `str(datetime.utcnow())` in Python: oslo.messaging's timestamp. */
export const osloTimestamp = (d: Date): string => `${d.toISOString().replace('T', ' ').slice(0, 23)}000`;

/**
 * A sample as it reaches the topic: moved to `host` and instance `uuid`
 * (publisher_id and the payload's host), with the `message_id` and
 * `timestamp` oslo.messaging's Notifier adds, optionally in its v2 envelope.
 */
export const onTheWire = (
  s: NovaSample,
  o: { host?: string; uuid?: string; envelope?: boolean; message_id?: string; now?: Date } = {},
): string => {
  const n = structuredClone(s);
  const host = o.host ?? SAMPLE_HOST;
  // A compute host's own messages name it; nova-api's (an instance deleted while its host is down) name the API's.
  n.publisher_id = n.publisher_id.replace(/^(compute\.|nova-compute:).*$/, `$1${host}`);
  const data = (n.payload['nova_object.data'] ?? n.payload) as Record<string, unknown>;
  if (typeof data.host === 'string') data.host = host;
  if (o.uuid) {
    if ('uuid' in data) data.uuid = o.uuid;
    if ('instance_id' in data) data.instance_id = o.uuid;
  }
  const message = JSON.stringify({
    message_id: o.message_id ?? randomUUID(),
    timestamp: osloTimestamp(o.now ?? new Date()),
    ...n,
  });
  return o.envelope ? JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': message }) : message;
};
