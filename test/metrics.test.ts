import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, describe, expect, it } from 'vitest';
import { call, report, stack, uniqueHost } from './helpers';

/**
 * The metrics and log lines the functions print, read where the local stack keeps
 * serverless-offline's output (scripts/lib/stack.ts: .qm/offline-<port>.log). The file
 * grows across runs, so every lookup is by an id this test made.
 */
type Line = Record<string, unknown>;
type Emf = Line & {
  _aws: {
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }>;
  };
};

const logFile = () => resolve(`.qm/offline-${new URL(stack().baseUrl).port}.log`);

/** Every JSON line of the stack's output (a line may carry a prefix before its JSON). */
const jsonLines = (): Line[] => {
  if (!existsSync(logFile())) return [];
  const out: Line[] = [];
  for (const raw of readFileSync(logFile(), 'utf8').split('\n')) {
    const at = raw.indexOf('{');
    if (at < 0) continue;
    try {
      out.push(JSON.parse(raw.slice(at)) as Line);
    } catch {
      // Not one of ours (serverless-offline's own output).
    }
  }
  return out;
};
const emfLines = (match: (l: Line) => boolean) => jsonLines().filter((l): l is Emf => '_aws' in l && match(l)) as Emf[];
const logLines = (match: (l: Line) => boolean) => jsonLines().filter((l) => 'level' in l && match(l));

/** Waits until `find` returns at least `n` lines: output reaches the file shortly after the answer. */
const eventually = async <T>(find: () => T[], n: number, what: string): Promise<T[]> => {
  for (let i = 0; i < 100; i++) {
    const found = find();
    if (found.length >= n) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: found ${find().length} of ${n} lines in ${logFile()}`);
};

const dimensionsOf = (l: Emf) => l._aws.CloudWatchMetrics[0]?.Dimensions;
const unitOf = (l: Emf, name: string) => l._aws.CloudWatchMetrics[0]?.Metrics.find((m) => m.Name === name)?.Unit;

const zone = async () => {
  const az = `az-${randomUUID().slice(0, 8)}`;
  const host = uniqueHost('metrics');
  expect((await report(host, { availability_zone: az })).status).toBe(200);
  return { az, host };
};
const scheduleIn = (az: string, memory_mb: number) =>
  call<Record<string, unknown>>('POST', '/schedule', {
    body: {
      request_spec: {
        instance_type: { name: 'm1.x', vcpus: 1, memory_mb, root_gb: 20, ephemeral_gb: 0, swap: 0 },
        instance_properties: { availability_zone: az },
        num_instances: 1,
      },
    },
  });

const sns = new SNSClient({
  endpoint: stack().snsUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
afterAll(() => sns.destroy());

describe('the metrics the functions print (EMF, namespace Quartermaster)', () => {
  it('counts a placed schedule: ScheduleLatency in ms, no NoValidHost, no claim conflict', async () => {
    const { az } = await zone();
    const r = await scheduleIn(az, 2048);
    expect(r.status).toBe(200);
    const id = r.body.decision_id as string;
    const [line] = await eventually(() => emfLines((l) => l.decision_id === id), 1, 'the schedule line');
    expect(line?._aws.CloudWatchMetrics[0]?.Namespace).toBe('Quartermaster');
    expect(dimensionsOf(line as Emf)).toEqual([['service', 'stage']]);
    expect(line).toMatchObject({ service: 'quartermaster', stage: 'test', NoValidHost: 0, ClaimConflicts: 0 });
    expect(unitOf(line as Emf, 'ScheduleLatency')).toBe('Milliseconds');
    expect(line?.ScheduleLatency).toBeGreaterThanOrEqual(0);
    expect(line?.request_id).toEqual(expect.any(String));
  });

  it('counts a NoValidHost once without a dimension and once under the filter that rejected the most hosts', async () => {
    const { az } = await zone();
    const r = await scheduleIn(az, 10_000_000);
    expect(r.status).toBe(409);
    const details = (r.body.error as { details: { decision_id: string; filter_counts: Record<string, number> } })
      .details;
    const id = details.decision_id;
    const lines = await eventually(() => emfLines((l) => l.decision_id === id), 2, 'the NoValidHost lines');
    const main = lines.find((l) => 'ScheduleLatency' in l);
    expect(main).toMatchObject({ NoValidHost: 1, ClaimConflicts: 0 });
    const byFilter = lines.find((l) => 'filter' in l) as Emf;
    expect(dimensionsOf(byFilter)).toEqual([['service', 'stage', 'filter']]);
    const most = Math.max(...Object.values(details.filter_counts));
    // The first of the most rejecting filters (filter_counts is sorted by count, then filter order).
    const top = Object.entries(details.filter_counts).find(([, n]) => n === most)?.[0];
    expect(byFilter).toMatchObject({ NoValidHost: 1, filter: top });
    expect(details.filter_counts).toHaveProperty(byFilter.filter as string);
  });

  it('counts a report accepted, then the same seq again as stale, with the host as metadata only', async () => {
    const host = uniqueHost('metrics');
    expect((await report(host, { seq: 5 })).status).toBe(200);
    expect((await report(host, { seq: 5 })).status).toBe(409);
    const lines = await eventually(() => emfLines((l) => l.host === host), 2, 'the report lines');
    expect(lines.map((l) => [l.ReportsAccepted, l.ReportsStale])).toEqual([
      [1, undefined],
      [undefined, 1],
    ]);
    for (const l of lines) expect(dimensionsOf(l)).toEqual([['service', 'stage']]);
  });

  it('counts a notification applied and its duplicate under the event type, and logs both with host and request id', async () => {
    const { host } = await zone();
    const message_id = randomUUID();
    const body = JSON.stringify({
      message_id,
      event_type: 'compute.instance.create.end',
      publisher_id: `compute.${host}`,
      timestamp: new Date().toISOString(),
      priority: 'INFO',
      payload: { instance_id: randomUUID(), vcpus: 1, memory_mb: 512, disk_gb: 1 },
    });
    await sns.send(new PublishCommand({ TopicArn: stack().topicArn, Message: body }));
    await eventually(() => emfLines((l) => l.message_id === message_id), 1, 'the applied line');
    await sns.send(new PublishCommand({ TopicArn: stack().topicArn, Message: body }));
    const lines = await eventually(() => emfLines((l) => l.message_id === message_id), 2, 'the duplicate line');
    const applied = lines.find((l) => 'NotificationsApplied' in l) as Emf;
    const duplicate = lines.find((l) => 'NotificationsDuplicate' in l) as Emf;
    expect(applied).toMatchObject({ NotificationsApplied: 1, event_type: 'instance.create.end', host });
    expect(duplicate).toMatchObject({ NotificationsDuplicate: 1, event_type: 'instance.create.end', host });
    expect(dimensionsOf(duplicate)).toEqual([['service', 'stage', 'event_type']]);
    // Two invocations, two request ids; each log line names its host and its invocation.
    const logs = await eventually(
      () => logLines((l) => l.message_id === message_id && l.message === 'notification'),
      2,
      'the notification log lines',
    );
    expect(logs.map((l) => l.outcome).sort()).toEqual(['applied', 'duplicate']);
    for (const l of logs) expect(l).toMatchObject({ host, request_id: expect.any(String) });
    expect(new Set(logs.map((l) => l.request_id)).size).toBe(2);
  });
});

describe('the log lines of a request', () => {
  it('carry the request id on every line of a schedule, and the decision id once it is made', async () => {
    const { az } = await zone();
    const r = await scheduleIn(az, 1024);
    expect(r.status).toBe(200);
    const id = r.body.decision_id as string;
    const [first] = await eventually(() => logLines((l) => l.decision_id === id), 1, 'the schedule log line');
    const requestId = first?.request_id;
    expect(requestId).toEqual(expect.any(String));
    // Lambda's awsRequestId, as Powertools names it too.
    expect(first?.function_request_id).toBe(requestId);
    // The log line and the metrics line reach the log file as separate writes: wait for both.
    const ofRequest = await eventually(
      () => [...logLines((l) => l.request_id === requestId), ...emfLines((l) => l.request_id === requestId)],
      2,
      'the lines of the request',
    );
    for (const l of ofRequest) expect(l.decision_id).toBe(id);
  });
});
