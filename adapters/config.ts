import { z } from 'zod';

/**
 * Typed configuration, read from the environment once at cold start.
 * A missing or malformed setting fails the cold start loudly, naming the variable.
 */
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

const EnvSchema = z.object({
  QM_STAGE: z.string().min(1).default('dev'),
  QM_REGION: z.string().min(1).default('us-east-1'),
  QM_NODES_TABLE: z.string().min(3),
  QM_DECISIONS_TABLE: z.string().min(3).optional(),
  QM_DECISION_TTL: int(7 * 24 * 3600, 60),
  QM_FLEET_RESCAN_S: int(300, 1),
  QM_FLEET_REFRESH_MS: int(0, 0),
  QM_CHANGE_SHARDS: int(16, 1),
  QM_FEED_LOOKBACK_MS: int(10_000, 0),
  QM_FEED_NEAR_MS: int(1_000, 0),
  QM_SNAPSHOT_EVERY_S: int(60, 0),
  QM_MAX_CLAIM_ATTEMPTS: int(5, 1),
  QM_DECISION_RANKING_LIMIT: int(100, 0),
  QM_DYNAMODB_ENDPOINT: z.string().optional(),
  QM_DYNAMODB_TIMEOUT_MS: int(5_000, 100),
  QM_SECRET: z.string().optional(),
  QM_SECRET_PREVIOUS: z.string().optional(),
  QM_SECRET_PARAM: z.string().optional(),
  QM_SERVICE_DOWN_TIME: int(60, 1),
  QM_CLAIM_TTL: int(600, 1),
  // At least notify's maximumEventAge (3600 s): no retry may outlive its message's idempotency record.
  QM_IDEMPOTENCY_TTL_S: int(7200, 3600),
  QM_EVENTS_TABLE: z.string().min(3).optional(),
  QM_MAX_BODY_BYTES: int(262_144, 1024),
  QM_DLQ_URL: z.string().optional(),
  QM_SQS_ENDPOINT: z.string().optional(),
});

export type Config = {
  stage: string;
  region: string;
  nodesTable: string;
  /** Only the schedule function needs it. */
  decisionsTable: string | undefined;
  decisionTtlS: number;
  fleetRescanS: number;
  /** How long a container may reuse its fleet copy without reading the changes (0: every request). */
  fleetRefreshMs: number;
  /** Partition-key values of the change index (every writer and the schedule function's reader share it). */
  changeShards: number;
  /** How far before its previous read each change-feed read reaches back (index lag + clock skew). */
  feedLookbackMs: number;
  feedNearMs: number;
  /** How often the schedule container holding the lease writes the fleet snapshot (0: never). */
  snapshotEveryS: number;
  maxClaimAttempts: number;
  decisionRankingLimit: number;
  dynamodbEndpoint: string | undefined;
  /** A DynamoDB call that has not answered in this long fails and is retried (the bench stretches it with wall time). */
  dynamodbTimeoutMs: number;
  /** The token secret given directly (local stack only) … */
  secret: string | undefined;
  /** The secret before a rotation (local stack only; a deployed stage reads the parameter's previous version). */
  previousSecret: string | undefined;
  /** … or the SSM parameter that holds it (a deployed stage). */
  secretParam: string | undefined;
  serviceDownTimeS: number;
  claimTtlS: number;
  /** How long a notification's message_id is remembered (DynamoDB TTL on the events table); also tombstones. */
  idempotencyTtlS: number;
  /** The notify function's idempotency records. */
  eventsTable: string | undefined;
  maxBodyBytes: number;
  dlqUrl: string | undefined;
  sqsEndpoint: string | undefined;
};

/** Thrown at cold start; the function refuses to serve with a broken config. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const blank = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v);

/** Reads and validates the configuration from `env`. */
export const readConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  const cleaned = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, blank(v)]));
  const r = EnvSchema.safeParse(cleaned);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ConfigError(`invalid configuration: ${i?.path.join('.')}: ${i?.message}`);
  }
  const e = r.data;
  if (!e.QM_SECRET && !e.QM_SECRET_PARAM) {
    throw new ConfigError('invalid configuration: set QM_SECRET_PARAM (an SSM parameter) or, locally, QM_SECRET');
  }
  return {
    stage: e.QM_STAGE,
    region: e.QM_REGION,
    nodesTable: e.QM_NODES_TABLE,
    decisionsTable: e.QM_DECISIONS_TABLE,
    decisionTtlS: e.QM_DECISION_TTL,
    fleetRescanS: e.QM_FLEET_RESCAN_S,
    fleetRefreshMs: e.QM_FLEET_REFRESH_MS,
    changeShards: e.QM_CHANGE_SHARDS,
    feedLookbackMs: e.QM_FEED_LOOKBACK_MS,
    feedNearMs: e.QM_FEED_NEAR_MS,
    snapshotEveryS: e.QM_SNAPSHOT_EVERY_S,
    maxClaimAttempts: e.QM_MAX_CLAIM_ATTEMPTS,
    decisionRankingLimit: e.QM_DECISION_RANKING_LIMIT,
    dynamodbEndpoint: e.QM_DYNAMODB_ENDPOINT,
    dynamodbTimeoutMs: e.QM_DYNAMODB_TIMEOUT_MS,
    secret: e.QM_SECRET,
    previousSecret: e.QM_SECRET_PREVIOUS,
    secretParam: e.QM_SECRET_PARAM,
    serviceDownTimeS: e.QM_SERVICE_DOWN_TIME,
    claimTtlS: e.QM_CLAIM_TTL,
    idempotencyTtlS: e.QM_IDEMPOTENCY_TTL_S,
    eventsTable: e.QM_EVENTS_TABLE,
    maxBodyBytes: e.QM_MAX_BODY_BYTES,
    dlqUrl: e.QM_DLQ_URL,
    sqsEndpoint: e.QM_SQS_ENDPOINT,
  };
};

/** The development secret of the local stack; never used by a deployed stage (which has no QM_SECRET). */
export const DEV_SECRET = 'quartermaster-local-development-secret';
