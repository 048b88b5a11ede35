import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Report, ReportSchema } from '../core/nodes';
import { createCollector, type Figures } from './collect';
import { formatLine } from './log';
import {
  backoffDelayMs,
  figuresChanged,
  type ReporterOptions,
  reportFields,
  reportOnce,
  runReporter,
} from './reporter';
import { nextSeq, readState } from './state';
import {
  freePort,
  lineLog,
  removeTempDirs,
  type SeenRequest,
  startServer,
  type TestServer,
  tempDir,
  waitFor,
} from './test-support';

afterAll(removeTempDirs);

const FIGURES: Figures = {
  hypervisor_hostname: 'test-host',
  hypervisor_type: 'QEMU',
  hypervisor_version: 6002000,
  cpu_info: {
    arch: 'x86_64',
    vendor: 'AMD',
    model: 'EPYC',
    features: ['avx', 'sse2'],
    topology: { sockets: 1, cores: 2, threads: 1 },
  },
  vcpus: 2,
  memory_mb: 10_000,
  memory_mb_used: 1000,
  local_gb: 100,
  local_gb_used: 10,
  disk_available_least: 90,
  vcpus_used: 0,
  running_vms: 0,
  current_workload: 0,
  instances: [],
};

const stateFile = () => join(tempDir('qm-agent-state-'), 'agent.json');
const sent = (r: SeenRequest): Report => ReportSchema.parse(JSON.parse(r.body));
const ok = () => ({ status: 200, body: {} });
const unavailable = () => ({ status: 503, body: { error: { code: 'ServiceUnavailable', message: 'try later' } } });

const servers: TestServer[] = [];
const loops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(loops.splice(0).map((stop) => stop()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const serve = async (answer: Parameters<typeof startServer>[0], port?: number) => {
  const s = await startServer(answer, port);
  servers.push(s);
  return s;
};

/** Starts the loop with test-sized timings; returns its log and a stop that waits for it to end. */
const startLoop = (o: Partial<ReporterOptions> & Pick<ReporterOptions, 'apiUrl' | 'stateFile'>) => {
  const controller = new AbortController();
  const lines: string[] = [];
  const done = runReporter({
    host: 'test-host',
    token: 'qmn.test',
    collect: async () => FIGURES,
    intervalMs: 60_000,
    pollMs: 20,
    backoffBaseMs: 20,
    backoffCapMs: 200,
    log: lineLog(lines),
    signal: controller.signal,
    ...o,
  });
  const stop = async () => {
    controller.abort();
    await done;
  };
  loops.push(stop);
  return { lines, stop };
};

describe('backoff', () => {
  it('always waits within [0, min(cap, base·2^n)]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        (n, r, base, cap) => {
          const d = backoffDelayMs(n, () => r, base, cap);
          return d >= 0 && d <= Math.min(cap, base * 2 ** n) && Number.isFinite(d);
        },
      ),
    );
  });

  it('grows from 1 s by doubling up to the 60 s cap by default', () => {
    const top = () => 1 - Number.EPSILON;
    expect(backoffDelayMs(0, top)).toBeCloseTo(1000);
    expect(backoffDelayMs(3, top)).toBeCloseTo(8000);
    expect(backoffDelayMs(6, top)).toBeCloseTo(60_000);
    expect(backoffDelayMs(100, top)).toBeCloseTo(60_000);
    expect(backoffDelayMs(5, () => 0)).toBe(0);
  });
});

describe('change detection', () => {
  it.each<[string, Partial<Figures>, boolean]>([
    ['nothing moved', {}, false],
    // threshold = 1 % of 10 000 MiB = 100 MiB
    ['memory moved by 99 MiB (< 1 % of total)', { memory_mb_used: 1099 }, false],
    ['memory moved by 100 MiB (1 % of total)', { memory_mb_used: 1100 }, true],
    ['memory fell by 100 MiB', { memory_mb_used: 900 }, true],
    ['a vcpu came online', { vcpus: 3 }, true],
    ['a GiB of disk was used', { local_gb_used: 11 }, true],
    ['a domain started', { running_vms: 1, vcpus_used: 1 }, true],
    ['the az changed', { availability_zone: 'az1' }, true],
  ])('%s → %s', (_what, change, expected) => {
    expect(figuresChanged(FIGURES, { ...FIGURES, ...change })).toBe(expected);
  });

  it('ignores the order of object keys', () => {
    const { vcpus, ...rest } = FIGURES;
    expect(figuresChanged(FIGURES, { ...rest, vcpus })).toBe(false);
  });
});

describe('seq', () => {
  it('moves past both the stored seq and the clock', () => {
    expect(nextSeq(0, 1_700_000_000_000)).toBe(1_700_000_000_000);
    expect(nextSeq(1_800_000_000_000, 1_700_000_000_000)).toBe(1_800_000_000_001);
  });
});

describe('log line', () => {
  it('says host, seq, status and the free figures on success, and retry_in and error on failure', () => {
    const report: Report = { ...FIGURES, seq: 5, reported_at: '2026-11-26T01:00:00Z' };
    const at = new Date('2026-11-26T01:00:00Z');
    const line = (...a: Parameters<typeof reportFields>) => formatLine('text', at, 'report', reportFields(...a));
    expect(line(report, { kind: 'ok', status: 200 }, { reason: 'start' })).toBe(
      '2026-11-26T01:00:00Z report host=test-host seq=5 status=200 reason=start vcpus=2 vcpus_used=0 free_ram_mb=9000 free_disk_gb=90 running_vms=0',
    );
    expect(
      line(
        report,
        { kind: 'unavailable', status: 'error', error: 'ECONNREFUSED' },
        { reason: 'retry', retryInMs: 4200 },
      ),
    ).toBe(
      '2026-11-26T01:00:00Z report host=test-host seq=5 status=error reason=retry retry_in=4.2s error=ECONNREFUSED',
    );
  });
});

describe('the reporter loop against a real HTTP server', () => {
  it('keeps going through 503s, then reports this host with a bearer token and rising seq', async () => {
    const server = await serve((_r, i) => (i < 3 ? unavailable() : ok()));
    const file = stateFile();
    const collect = createCollector({ host: 'test-host', instancesPath: '/tmp' });
    const loop = startLoop({ apiUrl: `${server.url}/dev/`, stateFile: file, collect });
    await waitFor(() => loop.lines.some((l) => l.includes('status=200')), 20_000, 'a 200');
    await loop.stop();

    expect(server.requests.length).toBe(4);
    const seqs = server.requests.map((r) => sent(r).seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(4);
    for (const r of server.requests) {
      expect(r.method).toBe('PUT');
      expect(r.url).toBe('/dev/nodes/test-host');
      expect(r.headers.authorization).toBe('Bearer qmn.test');
    }
    expect(loop.lines.filter((l) => / report .*status=503 .*retry_in=\d+\.\ds error=/.test(l))).toHaveLength(3);
    expect(loop.lines.filter((l) => / report .*status=200 /.test(l))).toHaveLength(1);
    expect((await readState(file, 'test-host')).seq).toBe(seqs[3]);

    // A restart with the same state file carries on above the last seq.
    const again = startLoop({ apiUrl: server.url, stateFile: file, collect });
    await waitFor(() => server.requests.length === 5, 20_000, 'the report after restart');
    await again.stop();
    expect(sent(server.requests[4] as SeenRequest).seq).toBeGreaterThan(seqs[3] ?? Number.POSITIVE_INFINITY);
  });

  it('takes seq from the state file when it is ahead of the clock', async () => {
    const server = await serve(ok);
    const file = stateFile();
    const ahead = Date.now() + 10 ** 9;
    writeFileSync(file, JSON.stringify({ host: 'test-host', seq: ahead }));
    const result = await reportOnce({
      apiUrl: server.url,
      token: 't',
      host: 'test-host',
      stateFile: file,
      collect: async () => FIGURES,
      log: () => {},
    });
    expect(result.kind).toBe('ok');
    expect(sent(server.requests[0] as SeenRequest).seq).toBe(ahead + 1);
    expect(JSON.parse(readFileSync(file, 'utf8')).seq).toBe(ahead + 1);
  });

  it('sends the latest figures once the API is back from being unreachable', async () => {
    const port = await freePort();
    let figures = FIGURES;
    const loop = startLoop({
      apiUrl: `http://127.0.0.1:${port}`,
      stateFile: stateFile(),
      collect: async () => figures,
    });
    await waitFor(() => loop.lines.filter((l) => l.includes('error=ECONNREFUSED')).length >= 2, 10_000, 'refusals');
    expect(loop.lines[0]).toMatch(/ report host=test-host seq=\d+ status=error reason=start retry_in=\d+\.\ds/);
    figures = { ...FIGURES, running_vms: 1, vcpus_used: 2 };
    const server = await serve(ok, port);
    // A retry already under way may still carry the figures it collected before the change;
    // the figures as they are now must follow, without waiting for the 60 s interval.
    await waitFor(
      () => server.requests.some((r) => sent(r).running_vms === 1 && sent(r).vcpus_used === 2),
      10_000,
      'a report of the latest figures after the API came back',
    );
    await loop.stop();
    expect(server.requests.length).toBeLessThanOrEqual(2);
  });

  it('moves seq past the stored one on 409 StaleReport and resends once', async () => {
    const stored = Date.now() + 10 ** 9;
    const server = await serve((r) =>
      sent(r).seq > stored
        ? ok()
        : {
            status: 409,
            body: { error: { code: 'StaleReport', message: 'stale', details: { stored_seq: stored } } },
          },
    );
    const lines: string[] = [];
    const result = await reportOnce({
      apiUrl: server.url,
      token: 't',
      host: 'test-host',
      stateFile: stateFile(),
      collect: async () => FIGURES,
      log: lineLog(lines),
    });
    expect(result.kind).toBe('ok');
    expect(server.requests.map((r) => sent(r).seq)).toEqual([expect.any(Number), stored + 1]);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('status=409');
    expect(lines[1]).toContain('status=200');
  });

  it('does not spin on 401: it retries at the next interval even while figures change', async () => {
    const server = await serve(() => ({
      status: 401,
      body: { error: { code: 'Unauthorized', message: 'bad token' } },
    }));
    let n = 0;
    const loop = startLoop({
      apiUrl: server.url,
      stateFile: stateFile(),
      intervalMs: 500,
      collect: async () => ({ ...FIGURES, vcpus_used: n++ % 3 }),
    });
    const t0 = Date.now();
    await waitFor(() => server.requests.length >= 3, 10_000, 'three attempts');
    const elapsed = Date.now() - t0;
    await loop.stop();
    // Three attempts need two intervals (≥ 1000 ms, less the first one's head start), however
    // loaded the machine: never one per 20 ms poll although the figures change at every poll.
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(loop.lines[0]).toMatch(/status=401 reason=start retry_in=0\.5s error="Unauthorized: bad token"/);
  });

  it('reads a token file before every report, and sends a replaced token at once after a 401', async () => {
    const file = join(tempDir('qm-agent-token-'), 'token');
    writeFileSync(file, 'qmn.old\n');
    const server = await serve((r) =>
      r.headers.authorization === 'Bearer qmn.new'
        ? ok()
        : { status: 401, body: { error: { code: 'TokenRevoked', message: 'revoked' } } },
    );
    const loop = startLoop({
      apiUrl: server.url,
      stateFile: stateFile(),
      // An hour between reports: only the replaced token can explain a second request.
      intervalMs: 3_600_000,
      token: async () => readFileSync(file, 'utf8').trim(),
    });
    await waitFor(() => server.requests.length === 1, 10_000, 'the start report');
    writeFileSync(file, 'qmn.new\n');
    await waitFor(() => server.requests.length === 2, 10_000, 'the report with the new token');
    await waitFor(() => loop.lines.length >= 2, 10_000, 'its log line');
    await loop.stop();
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer qmn.old', 'Bearer qmn.new']);
    expect(loop.lines[1]).toMatch(/status=200 reason=token/);
  });

  it('reports at once when a figure changes, but not for memory jitter below 1 %', async () => {
    const server = await serve(ok);
    let figures = FIGURES;
    const loop = startLoop({ apiUrl: server.url, stateFile: stateFile(), collect: async () => figures });
    await waitFor(() => server.requests.length === 1, 10_000, 'the start report');
    figures = { ...FIGURES, memory_mb_used: FIGURES.memory_mb_used + 50 };
    await new Promise((r) => setTimeout(r, 200));
    expect(server.requests.length).toBe(1);
    figures = { ...figures, running_vms: 1, vcpus_used: 1 };
    await waitFor(() => server.requests.length === 2, 10_000, 'the change report');
    // The log line follows the answer: wait for it before stopping the loop.
    await waitFor(() => loop.lines.length >= 2, 10_000, 'the change report log line');
    await loop.stop();
    expect(sent(server.requests[1] as SeenRequest)).toMatchObject({ running_vms: 1, memory_mb_used: 1050 });
    expect(loop.lines[1]).toContain('reason=change');
  });

  it('reports again every interval when nothing changes', async () => {
    const server = await serve(ok);
    const loop = startLoop({ apiUrl: server.url, stateFile: stateFile(), intervalMs: 150 });
    await waitFor(() => server.requests.length >= 3, 10_000, 'three interval reports');
    await loop.stop();
    expect(loop.lines.slice(1, 3).every((l) => l.includes('reason=interval'))).toBe(true);
  });
});
