import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** What the agent keeps between runs. */
export interface AgentState {
  host: string;
  /** The last seq the agent used (sent or about to be sent). */
  seq: number;
}

/** `~/.quartermaster/agent-<host>.json`. */
export const defaultStateFile = (host: string): string => join(homedir(), '.quartermaster', `agent-${host}.json`);

/**
 * The seq of the next report: one past the stored seq, or the clock in ms when that is
 * larger. The clock keeps seq moving forward when the state file is lost (a new host, a
 * wiped disk); the stored seq keeps it moving when the clock steps back. A report that
 * still lands behind the server is answered 409 with `stored_seq`, which the reporter
 * adopts.
 */
export const nextSeq = (stored: number, nowMs: number): number => Math.max(stored + 1, Math.floor(nowMs));

/** Reads the state file; a missing or unreadable file counts as seq 0. */
export const readState = async (file: string, host: string): Promise<AgentState> => {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    const seq = (parsed as { seq?: unknown } | null)?.seq;
    return { host, seq: typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : 0 };
  } catch {
    return { host, seq: 0 };
  }
};

/** Writes the state file atomically: a temporary file in the same directory, then rename(2). */
export const writeState = async (file: string, state: AgentState): Promise<void> => {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ ...state, updated_at: new Date().toISOString() })}\n`, { mode: 0o600 });
  await rename(tmp, file);
};
