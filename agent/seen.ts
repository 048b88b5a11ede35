import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { type Instance, InstanceSchema } from '../core/nodes';
import type { Notification } from './notifications';
import { writeFileAtomic } from './outbox';

/** What the agent remembers of the domains between looks and across restarts. */
export interface Seen {
  domains: Instance[];
  /** Notifications of the last diff not yet known to be in the outbox (a crash journal). */
  pending: Notification[];
}

const SeenSchema = z.object({
  domains: z.array(InstanceSchema),
  pending: z.array(z.looseObject({ message_id: z.string(), event_type: z.string() })).default([]),
});

/** `<stateFile>.domains.json`: the last-seen domain set. */
export const seenFile = (stateFile: string): string => `${stateFile}.domains.json`;

/** The last-seen file: its content, `none` when there is none yet, `unreadable` when damaged. */
export const readSeen = async (file: string): Promise<Seen | 'none' | 'unreadable'> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'none' : 'unreadable';
  }
  try {
    const parsed = SeenSchema.parse(JSON.parse(text));
    return { domains: parsed.domains, pending: parsed.pending as unknown as Notification[] };
  } catch {
    return 'unreadable';
  }
};

/** Writes the last-seen file atomically, stamped with `at`. */
export const writeSeen = (file: string, host: string, seen: Seen, at: Date): Promise<void> =>
  writeFileAtomic(file, `${JSON.stringify({ host, ...seen, updated_at: at.toISOString() })}\n`);

/** The domain set in a canonical form: equal strings, equal sets (UUID case and order aside). */
export const canonicalDomains = (ds: readonly Instance[]): string =>
  JSON.stringify(
    [...ds]
      .map((d) => ({ uuid: d.uuid.toLowerCase(), vcpus: d.vcpus, memory_mb: d.memory_mb, disk_gb: d.disk_gb }))
      .sort((a, b) => a.uuid.localeCompare(b.uuid)),
  );
