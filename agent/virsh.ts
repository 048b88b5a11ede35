import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** virsh talks to libvirt read-only: the agent only looks. */
const virshArgs = (uri: string, args: string[]) => ['--readonly', '-c', uri, ...args];

/** virsh's environment: the caller's, in the C locale so its output parses the same everywhere. */
const virshEnv = (env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ ...(env ?? process.env), LC_ALL: 'C' });

/** The UUIDs of the active domains (`virsh list --uuid`); rejects when libvirt cannot be read. */
export const listedUuids = (uri: string, env?: NodeJS.ProcessEnv, timeoutMs = 5000): Promise<Set<string>> =>
  new Promise((resolve, reject) => {
    execFile(
      'virsh',
      virshArgs(uri, ['--quiet', 'list', '--uuid']),
      { timeout: timeoutMs, env: virshEnv(env) },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`virsh list: ${stderr.trim() || error.message}`, { cause: error }));
        else
          resolve(
            new Set(
              stdout
                .split('\n')
                .map((l) => l.trim().toLowerCase())
                .filter(Boolean),
            ),
          );
      },
    );
  });

/**
 * Whether libvirt's event stream can tell this agent about changes. The test driver
 * (`test:///default`, `test:///path/node.xml`) keeps its state per connection: another
 * connection's changes, or a new XML file, never raise an event on ours; so poll.
 */
export const eventsUsable = (uri: string): boolean => !/^test(\+[a-z]+)?:/i.test(uri.trim());

/** A lifecycle event line of `virsh event --loop --all`: `event 'lifecycle' for domain 'vm1': Started Booted`. */
export const isLifecycleLine = (line: string): boolean => /^event 'lifecycle' for domain /.test(line.trim());

/** What an event stream needs. */
export interface EventStreamOptions {
  uri: string;
  env?: NodeJS.ProcessEnv;
  /** The program (default `virsh`). */
  virsh?: string;
  /** Called on each lifecycle line. */
  onLifecycle: () => void;
  /** Called once when the stream ends, with why (`exited with 1: <its last stderr line>`). */
  onEnd: (why: string) => void;
}

/** A running `virsh event` process. */
export interface EventStream {
  /** Whether it still runs. */
  readonly running: boolean;
  /** Ends it (SIGTERM) and waits for it to exit. */
  stop: () => Promise<void>;
}

/** Starts `virsh --readonly -c <uri> event --loop --all` (no shell). */
export const startEventStream = (o: EventStreamOptions): EventStream => {
  const c: ChildProcess = spawn(o.virsh ?? 'virsh', virshArgs(o.uri, ['event', '--loop', '--all']), {
    env: virshEnv(o.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The tail of stderr says why a stream ended (libvirtd gone, a driver without events).
  let stderr = '';
  c.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-500);
  });
  createInterface({ input: c.stdout! }).on('line', (line) => {
    if (isLifecycleLine(line)) o.onLifecycle();
  });
  let ended = false;
  const end = (why: string) => {
    if (ended) return;
    ended = true;
    const last = stderr.trim().split('\n').at(-1);
    o.onEnd(`virsh event ${why}${last ? `: ${last}` : ''}`);
  };
  c.once('error', (e) => end(`failed: ${e.message}`));
  c.once('exit', (code, signal) => end(`exited with ${code ?? signal}`));
  const running = () => c.exitCode === null && c.signalCode === null && c.pid !== undefined;
  return {
    get running() {
      return !ended && running();
    },
    stop: async () => {
      if (!running()) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      await exited;
    },
  };
};
