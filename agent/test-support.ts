import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { createLog, type Log } from './log';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '..');
export const AGENT_BIN = join(ROOT, 'bin', 'qm-agent.mjs');

/** One request the test server saw. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP server on 127.0.0.1 whose answers the test scripts. */
export interface TestServer {
  url: string;
  port: number;
  requests: SeenRequest[];
  close: () => Promise<void>;
}

/** What to answer: a status and a JSON body. */
export type Answer = { status: number; body?: unknown };

/** Starts a server on 127.0.0.1 (port 0 unless given) answering with `answer(request, index)`. */
export const startServer = (answer: (r: SeenRequest, index: number) => Answer, port = 0): Promise<TestServer> =>
  new Promise((done, fail) => {
    const requests: SeenRequest[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const seen = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        const index = requests.push(seen) - 1;
        const a = answer(seen, index);
        res.writeHead(a.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(a.body ?? {}));
      });
    });
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      const p = (server.address() as AddressInfo).port;
      done({
        url: `http://127.0.0.1:${p}`,
        port: p,
        requests,
        close: () =>
          new Promise((c) => {
            server.closeAllConnections();
            server.close(() => c());
          }),
      });
    });
  });

/** A port that nothing listens on (just freed by a server of ours). */
export const freePort = async (): Promise<number> => {
  const s = await startServer(() => ({ status: 200 }));
  await s.close();
  return s.port;
};

/** The environment without any `QM_*` setting of the caller's shell. */
export const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('QM_')) env[k] = v;
  return { ...env, ...extra };
};

const tempDirs: string[] = [];

/** A fresh directory under the OS temp dir, removed by `removeTempDirs`. */
export const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};

/** Removes every directory `tempDir` made. */
export const removeTempDirs = (): void => {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
};

/** A PATH with every program of the current one except `name` (symlinks in a temp dir). */
export const pathWithout = (name: string): string => {
  const dir = tempDir('qm-path-');
  const seen = new Set<string>([name]);
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      continue;
    }
    for (const e of entries) {
      if (seen.has(e)) continue;
      seen.add(e);
      symlinkSync(join(d, e), join(dir, e));
    }
  }
  return dir;
};

/** The result of a finished child process. */
export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin/qm-agent.mjs` with `args` and `env`; resolves when it exits. */
export const runAgent = (args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<Finished> =>
  new Promise((done, fail) => {
    const child = spawn(process.execPath, [AGENT_BIN, ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });

/** Runs a program (no shell) and resolves to its stdout; rejects when it fails. */
export const run = (file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> =>
  new Promise((done, fail) => {
    execFile(file, args, { env: { ...(env ?? process.env), LC_ALL: 'C' } }, (error, stdout) =>
      error ? fail(error) : done(stdout),
    );
  });

/** Waits until `check` is true, polling every 20 ms; throws after `timeoutMs`. */
export const waitFor = async (check: () => boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** A `Log` that appends its text lines to `lines` (stamped by `now`, default the system clock). */
export const lineLog = (lines: string[], now?: () => Date): Log => createLog({ write: (l) => lines.push(l), now });
