import { inject } from 'vitest';
import { nodeToken } from '../core/auth';
import type { Report } from '../core/nodes';
import { checkAnswer } from './openapi-check';

export const stack = () => inject('stack');

export interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** One HTTP call to the stack; `body` may be a raw string to send malformed input. */
export const call = async <T = Record<string, unknown>>(
  method: string,
  path: string,
  opts: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer<T>> => {
  const s = stack();
  const token = opts.token === undefined ? s.operatorToken : opts.token;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(opts.headers ?? {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(`${s.baseUrl}${path}`, {
    method,
    headers,
    // A request that never answers fails here, naming itself, instead of timing out the whole test.
    signal: AbortSignal.timeout(90_000),
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
  const text = await r.text();
  const body = (text ? JSON.parse(text) : {}) as T;
  // Every answer a test sees must be one the API's own OpenAPI document describes (test/openapi-check.ts).
  await checkAnswer(s.baseUrl, method, path, r.status, body);
  return { status: r.status, body };
};

export const tokenFor = (host: string) => nodeToken(stack().secret, host, { nowMs: Date.now() });

let unique = 0;
/** A host name no other test uses. */
export const uniqueHost = (prefix = 'h') => `${prefix}-${process.pid}-${Date.now().toString(36)}-${unique++}`;

/** A valid report for `host`, with overrides. */
export const makeReport = (host: string, over: Partial<Report> = {}): Report => ({
  hypervisor_hostname: host,
  hypervisor_type: 'QEMU',
  hypervisor_version: 6_002_000,
  cpu_info: {
    arch: 'x86_64',
    vendor: 'Intel',
    model: 'Xeon Gold 6230',
    features: ['avx', 'avx2', 'sse4_2'],
    topology: { sockets: 2, cores: 10, threads: 2 },
  },
  vcpus: 40,
  memory_mb: 65_536,
  local_gb: 1000,
  vcpus_used: 4,
  memory_mb_used: 8192,
  local_gb_used: 100,
  disk_available_least: 880,
  running_vms: 0,
  current_workload: 0,
  instances: [],
  seq: 1,
  reported_at: new Date().toISOString(),
  ...over,
});

/** PUTs a report with the host's own token. */
export const report = (host: string, over: Partial<Report> = {}) =>
  call('PUT', `/nodes/${host}`, { token: tokenFor(host), body: makeReport(host, over) });
