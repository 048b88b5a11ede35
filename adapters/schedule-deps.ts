import { randomUUID } from 'node:crypto';
import { HostStateCache, type ScheduleDeps } from '../core/schedule-service';
import type { ResolvedOptions } from '../core/scheduler/options';
import { type Config, ConfigError } from './config';
import { documentClient } from './dynamodb/client';
import { DynamoDecisionStore } from './dynamodb/decision-store';
import { CachedFleet } from './dynamodb/fleet-cache';
import { coldScan, type FleetSeed, fleetSeed, SnapshottingFleet } from './dynamodb/fleet-seed';
import { FleetSnapshotStore } from './dynamodb/fleet-snapshot';
import { DynamoFleetStore } from './dynamodb/fleet-store';

/**
 * CachedFleet with the `seed` option the feed branch adds (its first refresh loads the seed and
 * reads the feed from its as-of − lookback). Until that lands the option is ignored and a cold
 * container scans as before; drop this type once CachedFleet declares the option.
 */
type SeededFleet = new (
  store: DynamoFleetStore,
  rescanMs: number,
  now: () => number,
  refreshMs: number,
  opts: { seed?: FleetSeed },
) => CachedFleet;

const logJson = (fields: Record<string, unknown>) => console.log(JSON.stringify({ level: 'INFO', ...fields }));

/** What one schedule container holds: its stores, its in-memory fleet, its host-state cache. */
export const makeScheduleDeps = (config: Config, opts: ResolvedOptions): ScheduleDeps => {
  if (!config.decisionsTable) throw new ConfigError('invalid configuration: QM_DECISIONS_TABLE is required');
  const db = documentClient(config.region, config.dynamodbEndpoint);
  const store = new DynamoFleetStore(db, config.nodesTable, config.decisionsTable);
  const snapshots = new FleetSnapshotStore(db, config.nodesTable);
  const seed = fleetSeed(snapshots, () => coldScan(db, config.nodesTable), Date.now, logJson);
  const cached = new (CachedFleet as unknown as SeededFleet)(
    store,
    config.fleetRescanS * 1000,
    Date.now,
    config.fleetRefreshMs,
    { seed },
  );
  return {
    fleet: new SnapshottingFleet(cached, snapshots, config.snapshotEveryS * 1000, Date.now, logJson),
    hostStates: new HostStateCache(opts),
    store,
    decisions: new DynamoDecisionStore(db, config.decisionsTable),
    opts,
    decisionTtlS: config.decisionTtlS,
    rankingLimit: config.decisionRankingLimit,
    maxClaimAttempts: config.maxClaimAttempts,
    now: Date.now,
    rng: Math.random,
    newId: randomUUID,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
};
