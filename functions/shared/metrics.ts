/**
 * The functions' CloudWatch metrics (embedded metric format, Powertools Metrics) and the
 * request-scoped log keys. Core returns what happened; this module counts it. Dimensions
 * stay low-cardinality: service, stage and a bounded label (a filter, an event type, a
 * reason) — never a host name or a uuid; those go in the EMF line's metadata, which
 * CloudWatch keeps in the log but does not turn into series.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { QmError } from '../../core/errors';
import { logger } from './logger';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** The namespace of every metric (CONTRACT.md "Dashboard and API description"). */
export const NAMESPACE = 'Quartermaster';

/** The one Metrics instance of a function; `stage` keeps two stages of one account apart. */
export const metrics = new Metrics({
  namespace: NAMESPACE,
  serviceName: 'quartermaster',
  defaultDimensions: { stage: process.env.QM_STAGE ?? 'dev' },
});

/** High-cardinality facts of the current invocation (request id, decision id, host) kept as EMF metadata. */
let metadata: Record<string, string> = {};

/** Adds a key to every log line and every EMF line of the current invocation. */
export const tagRequest = (keys: Record<string, string>): void => {
  logger.appendKeys(keys);
  for (const [k, v] of Object.entries(keys)) metrics.addMetadata(k, v);
  metadata = { ...metadata, ...keys };
};

/** Runs `f` with `keys` on its log and EMF lines, then takes them off (one SNS record of several). */
export const withTags = async <T>(keys: Record<string, string>, f: () => Promise<T>): Promise<T> => {
  const before = metadata;
  tagRequest(keys);
  try {
    return await f();
  } finally {
    logger.removeKeys(Object.keys(keys));
    metadata = before;
  }
};

/**
 * The schedule deps with `newId` tagging the invocation with the decision id as soon as the
 * core makes it: every later log and EMF line of the request carries `decision_id`.
 */
export const tagDecisionIds = <D extends { newId: () => string }>(deps: D): D => ({
  ...deps,
  newId: () => {
    const id = deps.newId();
    tagRequest({ decision_id: id });
    return id;
  },
});

/** Emits one metric at once, under its own dimensions (a buffered line has one dimension set for all). */
const emitWith = (dimensions: Record<string, string>, name: string, unit: Unit, value: number): void => {
  const single = metrics.singleMetric();
  single.addDimensions(dimensions);
  for (const [k, v] of Object.entries(metadata)) single.addMetadata(k, v);
  // A single metric publishes itself on addMetric.
  single.addMetric(name, unit, value);
};

/**
 * Middy middleware: tags the invocation with Lambda's request id (the `request_id` a 500's
 * details give), and publishes the buffered metrics after the handler, error or not. Unlike
 * Powertools' logMetrics it says nothing when a request counted nothing (a GET).
 */
export const metricsMiddleware = <E, R>(): MiddlewareObj<E, R, Error, Context> => {
  const flush = async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    metrics.clearMetadata();
    metadata = {};
  };
  return {
    before: async (request) => {
      metadata = {};
      const id = request.context?.awsRequestId;
      if (id) tagRequest({ request_id: id });
    },
    after: flush,
    onError: flush,
  };
};

/**
 * The filter a NoValidHost is counted under: the one that rejected the most hosts (the first
 * in filter order on a tie); `NoHosts` when there was no host to reject.
 */
export const topFilter = (filterCounts: Record<string, number>): string => {
  let best = 'NoHosts';
  let most = 0;
  for (const [filter, n] of Object.entries(filterCounts)) {
    if (n > most) {
      best = filter;
      most = n;
    }
  }
  return best;
};

/** The event types the ledger acts on by name; every other instance action is counted by its phase. */
const NAMED = new Set(['instance.create.start', 'instance.create.end', 'instance.create.error', 'instance.delete.end']);

/**
 * A notification's event type as a dimension, in Nova's versioned spelling (legacy `compute.`
 * dropped, so both formats share a series), with the action of other instance events folded
 * into `instance.*.<phase>`: a sender cannot mint new series by inventing actions.
 */
export const eventTypeDimension = (eventType: string): string => {
  if (eventType === 'capacity.utilization.update') return eventType;
  const t = eventType.replace(/^compute\./, '');
  if (NAMED.has(t) || t === 'instance.update' || t === 'instance.exists') return t;
  const phase = /^instance\.[a-z_.]+\.(start|end|error)$/.exec(t)?.[1];
  return phase ? `instance.*.${phase}` : 'other';
};

/** What one POST /schedule came to. */
export type ScheduleOutcome =
  | { placed: true; latencyMs: number; claimConflicts: number }
  | { placed: false; latencyMs: number; claimConflicts: number; filter: string };

/** Counts a schedule: its latency, its lost claim races, and a NoValidHost under its filter. */
export const countSchedule = (o: ScheduleOutcome): void => {
  metrics.addMetric('ScheduleLatency', MetricUnit.Milliseconds, o.latencyMs);
  metrics.addMetric('ClaimConflicts', MetricUnit.Count, o.claimConflicts);
  // Without a dimension too, for the rate alarm (NoValidHost / ScheduleLatency's sample count).
  metrics.addMetric('NoValidHost', MetricUnit.Count, o.placed ? 0 : 1);
  if (!o.placed) emitWith({ filter: o.filter }, 'NoValidHost', MetricUnit.Count, 1);
};

/** Lost-race reason a NoValidHost is counted under when every claim attempt lost (not a filter). */
export const LOST_CLAIM_RACES = 'LostClaimRaces';

/**
 * Runs one schedule and counts it: ScheduleLatency (ms) and ClaimConflicts (claim attempts
 * that lost a race: attempts − 1, or every attempt when NoValidHost says it lost them all)
 * for a placement, a dry run or a NoValidHost; NoValidHost under its top filter. Other
 * errors (400, 503) are not schedules and count nothing here.
 */
export const observeSchedule = async <T extends { decision_id: string; stats: { attempts: number } }>(
  run: () => Promise<T>,
  maxClaimAttempts: number,
  now: () => number = Date.now,
): Promise<T> => {
  const t0 = now();
  try {
    const result = await run();
    const latencyMs = now() - t0;
    countSchedule({ placed: true, latencyMs, claimConflicts: result.stats.attempts - 1 });
    logger.info('schedule placed', { latency_ms: latencyMs, attempts: result.stats.attempts });
    return result;
  } catch (e) {
    if (e instanceof QmError && e.code === 'NoValidHost') {
      const latencyMs = now() - t0;
      const lost = Array.isArray(e.details.lost_claims_on) && e.details.lost_claims_on.length > 0;
      const counts = (e.details.filter_counts ?? {}) as Record<string, number>;
      const filter = lost ? LOST_CLAIM_RACES : topFilter(counts);
      countSchedule({ placed: false, latencyMs, claimConflicts: lost ? maxClaimAttempts : 0, filter });
      logger.info('schedule found no valid host', { latency_ms: latencyMs, filter, filter_counts: counts });
    }
    throw e;
  }
};

/** Counts a report: accepted (200) or stale (409 StaleReport). */
export const countReport = (outcome: 'accepted' | 'stale'): void => {
  metrics.addMetric(outcome === 'accepted' ? 'ReportsAccepted' : 'ReportsStale', MetricUnit.Count, 1);
};

/** Why notify parked a message itself (Lambda's own on-failure records are not the function's to count). */
export type DeadLetterReason = 'UnknownHost' | 'BadNotification';

/** Counts one notification record, emitted at once: records of one invocation differ in their dimensions. */
export const countNotification = (
  o: { outcome: 'applied' | 'duplicate'; eventType: string } | { outcome: 'dead_lettered'; reason: DeadLetterReason },
): void => {
  if (o.outcome === 'dead_lettered') {
    emitWith({ reason: o.reason }, 'NotificationsDeadLettered', MetricUnit.Count, 1);
    return;
  }
  const name = o.outcome === 'applied' ? 'NotificationsApplied' : 'NotificationsDuplicate';
  emitWith({ event_type: eventTypeDimension(o.eventType) }, name, MetricUnit.Count, 1);
};
