/**
 * Over 350 lines on purpose: one benchmark made of many small measurements of
 * one kind (the same drive/tally loop over each mix and its raw baselines);
 * splitting it would scatter one table's rows across files.
 *
 * Notifications applied per second through the notify handler's code path
 * (parseNotification + DynamoEventStore.apply: one TransactWriteItems of the
 * idempotency record and the node update) against DynamoDB Local, with 8
 * concurrent workers, beside the raw conditional UpdateItem rate of a node item
 * (and the raw TransactWriteItems of the same shape) measured in slices
 * interleaved with each row's own: fresh events, 10 % re-sent duplicates,
 * duplicates only, and (if it drains) the same fresh mix published to the local
 * SNS endpoint. Run alone with
 * `npx tsx -e "import('./bench/notify.ts').then(m=>m.benchNotify(console.error)).then(r=>console.log(JSON.stringify(r,null,1)))"`.
 */

import { randomUUID } from 'node:crypto';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../adapters/dynamodb/client';
import { DynamoEventStore } from '../adapters/dynamodb/event-store';
import { notification } from '../agent/notifications';
import { parseNotification } from '../core/events';
import { type Stack, startStack } from '../scripts/lib/stack';
import { seed } from './e2e';

export interface NotifyRow {
  path: string;
  workers: number;
  seconds: number;
  /** Messages handled (fresh and duplicate). */
  events: number;
  events_per_s: number;
  /**
   * Raw conditional UpdateItem/s of a node item, 8 concurrent, measured in slices interleaved with the row's own
   * (for the SNS row: right after it).
   */
  raw_update_per_s: number;
  ratio: number;
  /** Raw TransactWriteItems/s of the same shape (conditional Put + conditional node Update), 8 concurrent, this run. */
  raw_transact_per_s: number;
  transact_ratio: number;
  /** Mean wall time of one message (for the SNS row: publish until its idempotency record is read back). */
  mean_ms: number;
  /** TransactWriteItems sent per message (a wrong first guess of the node's facts costs a second one); null over SNS. */
  transactions_per_event: number | null;
  fresh_mean_ms: number | null;
  duplicate_mean_ms: number | null;
  /**
   * What one message costs, in raw UpdateItems: raw_update_per_s / events_per_s (1 / ratio). Comparable
   * between rows measured under different background load, as mean ms is not.
   */
  raw_updates_per_event: number;
  /**
   * What a duplicate costs against a fresh event: in a row with both, duplicate_mean_ms over the fresh mean of
   * the same row (same load); in the duplicates-only row, its raw_updates_per_event over the fresh-only row's.
   */
  duplicate_vs_fresh: number | null;
  /** How duplicate_vs_fresh was measured. */
  duplicate_basis: 'mean ms, same row' | 'raw UpdateItems per message, against the fresh row' | null;
  applied: number;
  duplicate: number;
  errors: number;
  /** SNS row only: ms from the end of publishing until the last message was applied. */
  drain_ms?: number;
}

export interface NotifyResult {
  nodes: number;
  rows: NotifyRow[];
  /** Why the SNS row is missing, when it is. */
  sns_skipped?: string;
}

const WORKERS = 8;
const NODES = 1000;
const hostName = (i: number) => `bench-${String(i).padStart(6, '0')}`;
const ACTIONS = ['reboot', 'power_off', 'resize', 'snapshot', 'rebuild'];

/** A fresh notification from `host`, built as the agent builds it. */
const body = (host: string, event_type: string, payload: Record<string, unknown>) =>
  JSON.stringify(notification(host, event_type, payload, new Date(), randomUUID));

/**
 * Fresh messages, per worker, in rounds of four: a create.end of a new uuid
 * (nobody claimed it: an announce), an X.start, the delete.end of the uuid
 * created four rounds before and the X.end of the X.start four rounds before,
 * on their hosts; a quarter each in steady state, spread over every host (one
 * shared counter stepping by a number prime to 1,000).
 */
class FreshMix {
  private seq = 0;
  private readonly pending = Array.from({ length: WORKERS }, () => ({
    deletes: [] as { host: string; uuid: string }[],
    ends: [] as { host: string; action: string; uuid: string }[],
    k: 0,
  }));
  private nextHost() {
    return hostName((this.seq++ * 389) % NODES);
  }
  next(w: number): string {
    const p = this.pending[w % WORKERS]!;
    const step = p.k++ % 4;
    const lag = 4;
    if (step === 2 && p.deletes.length >= lag) {
      const d = p.deletes.shift()!;
      return body(d.host, 'compute.instance.delete.end', { instance_id: d.uuid });
    }
    if (step === 3 && p.ends.length >= lag) {
      const e = p.ends.shift()!;
      return body(e.host, `compute.instance.${e.action}.end`, { instance_id: e.uuid });
    }
    const host = this.nextHost();
    const uuid = randomUUID();
    if (step % 2 === 0) {
      p.deletes.push({ host, uuid });
      return body(host, 'compute.instance.create.end', { instance_id: uuid, vcpus: 2, memory_mb: 4096, disk_gb: 40 });
    }
    const action = ACTIONS[p.k % ACTIONS.length]!;
    p.ends.push({ host, action, uuid });
    return body(host, `compute.instance.${action}.start`, { instance_id: uuid });
  }
}

interface Tally {
  n: number;
  ms: number;
  freshN: number;
  freshMs: number;
  dupN: number;
  dupMs: number;
  applied: number;
  duplicate: number;
  errors: number;
  firstError: string;
  tx: number;
}
const tally = (): Tally => ({
  n: 0,
  ms: 0,
  freshN: 0,
  freshMs: 0,
  dupN: 0,
  dupMs: 0,
  applied: 0,
  duplicate: 0,
  errors: 0,
  firstError: '',
  tx: 0,
});

/** `workers` loops of `once(w)` for `seconds`; returns the seconds until the last loop finished. */
const drive = async (workers: number, seconds: number, once: (w: number) => Promise<void>) => {
  const t0 = performance.now();
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (Date.now() < end) await once(w);
    }),
  );
  return (performance.now() - t0) / 1000;
};

/**
 * Runs each of `runs` in turn, `sliceS` seconds at a time, until each has had
 * `seconds`: the raw rates and the path of a row see the same background load
 * (on a shared machine it moves by 2× within a minute). Returns each run's
 * completions per second of its own slices.
 */
const interleaved = async (
  workers: number,
  seconds: number,
  sliceS: number,
  runs: ((w: number) => Promise<void>)[],
) => {
  const n = runs.map(() => 0);
  const elapsed = runs.map(() => 0);
  for (let done = 0; done < seconds; done += sliceS) {
    for (const [i, run] of runs.entries()) {
      elapsed[i]! += await drive(workers, Math.min(sliceS, seconds - done), async (w) => {
        await run(w);
        n[i]!++;
      });
    }
  }
  return runs.map((_, i) => n[i]! / elapsed[i]!);
};

/**
 * Worker `w`'s write to a node item of its own, conditioned on the version `v` it
 * wrote last (`attr`: one attribute per raw measurement, so they do not mix).
 */
const versionedUpdate = (stack: Stack, w: number, attr: string, v: number) => ({
  TableName: stack.nodesTable,
  Key: { host: hostName(NODES - 1 - w) },
  UpdateExpression: `SET changed_at = :now, ${attr} = :next`,
  ConditionExpression: `attribute_not_exists(${attr}) OR ${attr} = :v`,
  ExpressionAttributeValues: { ':now': Date.now(), ':v': v, ':next': v + 1 },
});

/** One conditional UpdateItem of a node item of the worker's own (the raw rate of the issue). */
const rawUpdate = (stack: Stack, db: DynamoDBDocumentClient) => {
  const v = Array.from({ length: WORKERS }, () => 0);
  return async (w: number) => {
    await db.send(new UpdateCommand(versionedUpdate(stack, w, 'bench_v', v[w] ?? 0)));
    v[w] = (v[w] ?? 0) + 1;
  };
};

/** The same as the transaction an event sends: a conditional Put of a new id and the conditional node Update. */
const rawTransact = (stack: Stack, db: DynamoDBDocumentClient) => {
  const v = Array.from({ length: WORKERS }, () => 0);
  return async (w: number) => {
    await db.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: stack.eventsTable,
              Item: { id: `#bench-raw-${randomUUID()}`, expires_at: Math.floor(Date.now() / 1000) + 600 },
              ConditionExpression: 'attribute_not_exists(id)',
            },
          },
          { Update: versionedUpdate(stack, w, 'bench_tv', v[w] ?? 0) },
        ],
      }),
    );
    v[w] = (v[w] ?? 0) + 1;
  };
};

const mean = (sum: number, n: number) => (n > 0 ? sum / n : null);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The fresh mix published to the local SNS endpoint (serverless-offline-sns
 * invokes the bundled notify handler in serverless-offline's process), at most
 * `cap` messages unconfirmed at once: a poller reads the idempotency records of
 * the unconfirmed ones back (BatchGetItem, consistent) every 20 ms. Publishing
 * stops after `seconds`; the drain is the time until the last one is read back.
 */
const snsRate = async (stack: Stack, mix: FreshMix, seconds: number, cap: number) => {
  const sns = new SNSClient({
    endpoint: stack.snsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const db = documentClient('us-east-1', stack.dynamodbUrl);
  const outstanding = new Map<string, number>();
  let publishing = true;
  let published = 0;
  let confirmed = 0;
  let latencyMs = 0;
  const t0 = performance.now();
  const poller = (async () => {
    let lastProgress = performance.now();
    while (publishing || outstanding.size > 0) {
      const ids = [...outstanding.keys()].slice(0, 100);
      if (ids.length > 0) {
        const out = await db.send(
          new BatchGetCommand({
            RequestItems: {
              [stack.eventsTable]: {
                Keys: ids.map((id) => ({ id })),
                ConsistentRead: true,
                ProjectionExpression: 'id',
              },
            },
          }),
        );
        const now = performance.now();
        for (const item of out.Responses?.[stack.eventsTable] ?? []) {
          const at = outstanding.get(item.id as string);
          if (at === undefined) continue;
          outstanding.delete(item.id as string);
          latencyMs += now - at;
          confirmed++;
          lastProgress = now;
        }
        if (now - lastProgress > 30_000) throw new Error(`${outstanding.size} published messages never applied`);
      }
      await sleep(20);
    }
    return performance.now();
  })();
  const end = t0 + seconds * 1000;
  let pollerDone = false;
  const stop = () => {
    pollerDone = true;
  };
  poller.then(stop, stop);
  try {
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, w) => {
        while (performance.now() < end && !pollerDone) {
          if (outstanding.size >= cap) {
            await sleep(2);
            continue;
          }
          const b = mix.next(w);
          outstanding.set(JSON.parse(b).message_id, performance.now());
          await sns.send(new PublishCommand({ TopicArn: stack.topicArn, Message: b }));
          published++;
        }
      }),
    );
    const publishedAt = performance.now();
    publishing = false;
    const doneAt = await poller;
    return {
      published,
      confirmed,
      seconds: (doneAt - t0) / 1000,
      drain_ms: doneAt - publishedAt,
      mean_ms: latencyMs / Math.max(1, confirmed),
    };
  } finally {
    publishing = false;
    await poller.catch(() => {});
    sns.destroy();
    db.destroy();
  }
};

export const benchNotify = async (log: (s: string) => void, o = { seconds: 10 }): Promise<NotifyResult> => {
  const stack = await startStack({
    stage: 'benchn',
    httpPort: 3700,
    snsPort: 4702,
    dynamodbPort: 8700,
    sqsPort: 10024,
    lambdaPort: 3702,
    secret: `benchn-${randomUUID()}`,
    buildDir: '.esbuild-benchn',
  });
  try {
    log(`notify: seeding ${NODES.toLocaleString('en-US')} nodes`);
    await seed(stack, 0, NODES);

    // The notify handler's store, with a client that counts the transactions it sends.
    const db = documentClient('us-east-1', stack.dynamodbUrl);
    let t = tally();
    const counting = {
      send: (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
        if (command instanceof TransactWriteCommand) t.tx++;
        return db.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;
    const store = new DynamoEventStore(counting, stack.nodesTable, stack.eventsTable, 7200);
    const mix = new FreshMix();
    /** Bodies known applied, to re-send as duplicates. */
    const appliedBodies: string[] = [];

    const handle = async (b: string, expect: 'applied' | 'duplicate') => {
      const t0 = performance.now();
      try {
        const outcome = await store.apply(parseNotification(b));
        if (outcome === 'applied') t.applied++;
        else if (outcome === 'duplicate') t.duplicate++;
        if (outcome !== expect) {
          t.errors++;
          t.firstError ||= `expected ${expect}, got ${outcome}: ${b}`;
        } else if (outcome === 'applied' && appliedBodies.length < 200_000) appliedBodies.push(b);
      } catch (e) {
        t.errors++;
        t.firstError ||= `${(e as Error).name}: ${(e as Error).message}`;
      }
      const ms = performance.now() - t0;
      t.n++;
      t.ms += ms;
      if (expect === 'applied') {
        t.freshN++;
        t.freshMs += ms;
      } else {
        t.dupN++;
        t.dupMs += ms;
      }
    };
    const pick = () => appliedBodies[Math.floor(Math.random() * appliedBodies.length)]!;
    const counters = Array.from({ length: WORKERS }, () => 0);
    const paths = {
      fresh: (w: number) => handle(mix.next(w), 'applied'),
      tenPct: (w: number) => {
        const i = counters[w]!++;
        return i % 10 === 9 ? handle(pick(), 'duplicate') : handle(mix.next(w), 'applied');
      },
      dupOnly: () => handle(pick(), 'duplicate'),
    };

    // Warm-up (JIT, connections, DynamoDB Local's own warm-up), which also fills the pool of applied bodies.
    await drive(WORKERS, 2, paths.fresh);
    if (t.errors > 0) throw new Error(`notify warm-up: ${t.errors} errors, first: ${t.firstError}`);

    const rawDb = documentClient('us-east-1', stack.dynamodbUrl);
    const raws = [rawUpdate(stack, rawDb), rawTransact(stack, rawDb)];
    const SLICE_S = 2;

    const rows: NotifyRow[] = [];
    log(
      `notify: each row ${o.seconds} s, interleaved in ${SLICE_S} s slices with the raw UpdateItem and TransactWriteItems`,
    );
    let freshCost = 0;
    const measure = async (path: string, once: (w: number) => Promise<void>) => {
      t = tally();
      const [rate = 0, raw = 0, rawTx = 0] = await interleaved(WORKERS, o.seconds, SLICE_S, [once, ...raws]);
      const fresh = mean(t.freshMs, t.freshN);
      const dup = mean(t.dupMs, t.dupN);
      const cost = raw / rate;
      if (rows.length === 0) freshCost = cost;
      const basis =
        dup === null
          ? null
          : fresh !== null
            ? 'mean ms, same row'
            : 'raw UpdateItems per message, against the fresh row';
      const row: NotifyRow = {
        path,
        workers: WORKERS,
        seconds: o.seconds,
        events: t.n,
        events_per_s: rate,
        raw_update_per_s: raw,
        ratio: rate / raw,
        raw_transact_per_s: rawTx,
        transact_ratio: rate / rawTx,
        mean_ms: t.ms / Math.max(1, t.n),
        transactions_per_event: t.tx / Math.max(1, t.n),
        fresh_mean_ms: fresh,
        duplicate_mean_ms: dup,
        raw_updates_per_event: cost,
        duplicate_vs_fresh: dup === null ? null : fresh !== null ? dup / fresh : cost / freshCost,
        duplicate_basis: basis,
        applied: t.applied,
        duplicate: t.duplicate,
        errors: t.errors,
      };
      rows.push(row);
      log(
        `notify ${path}: ${rate.toFixed(0)} events/s (${(100 * row.ratio).toFixed(0)} % of raw UpdateItem), ` +
          `raw UpdateItem ${raw.toFixed(0)}/s, raw TransactWriteItems ${rawTx.toFixed(0)}/s, ` +
          `${cost.toFixed(2)} raw UpdateItems per message, ` +
          (row.duplicate_vs_fresh === null
            ? ''
            : `a duplicate costs ${(100 * row.duplicate_vs_fresh).toFixed(0)} % of a fresh one (${basis}), `) +
          `${row.mean_ms.toFixed(1)} ms mean, ${(t.tx / Math.max(1, t.n)).toFixed(2)} tx/event, ` +
          `applied ${t.applied}, duplicate ${t.duplicate}, errors ${t.errors}${t.firstError ? ` (${t.firstError})` : ''}`,
      );
    };
    await measure('in-process handler path, fresh events', paths.fresh);
    await measure('in-process handler path, 10 % duplicates', paths.tenPct);
    await measure('in-process handler path, duplicates only', paths.dupOnly);
    db.destroy();
    const errors = rows.reduce((s, r) => s + r.errors, 0);
    if (errors > 0) throw new Error(`notify bench: ${errors} messages failed or had an unexpected outcome`);

    let sns_skipped: string | undefined;
    try {
      // A short warm-up (the handler's first invocations build its clients), then the measured run.
      await snsRate(stack, mix, 2, 64);
      const s = await snsRate(stack, mix, o.seconds, 64);
      const rate = s.confirmed / s.seconds;
      // Publishing runs unbroken (every window would pay a drain), so its raw rates are measured right after it.
      const [raw = 0, rawTx = 0] = await interleaved(WORKERS, o.seconds / 2, 1, raws);
      rows.push({
        path: 'SNS publish → local SNS → notify handler (≤ 64 unconfirmed)',
        workers: WORKERS,
        seconds: Number(s.seconds.toFixed(1)),
        events: s.confirmed,
        events_per_s: rate,
        raw_update_per_s: raw,
        ratio: rate / raw,
        raw_transact_per_s: rawTx,
        transact_ratio: rate / rawTx,
        mean_ms: s.mean_ms,
        transactions_per_event: null,
        fresh_mean_ms: s.mean_ms,
        duplicate_mean_ms: null,
        raw_updates_per_event: raw / rate,
        duplicate_vs_fresh: null,
        duplicate_basis: null,
        applied: s.confirmed,
        duplicate: 0,
        errors: s.published - s.confirmed,
        drain_ms: s.drain_ms,
      });
      log(
        `notify over SNS: ${rate.toFixed(0)} events/s, drain ${s.drain_ms.toFixed(0)} ms, ` +
          `raw UpdateItem ${raw.toFixed(0)}/s, raw TransactWriteItems ${rawTx.toFixed(0)}/s`,
      );
    } catch (e) {
      sns_skipped = (e as Error).message;
      log(`notify over SNS skipped: ${sns_skipped}`);
    }
    rawDb.destroy();
    return { nodes: NODES, rows, ...(sns_skipped ? { sns_skipped } : {}) };
  } finally {
    await stack.stop();
  }
};
