import { randomUUID } from 'node:crypto';
import { HostStateCache, type ScheduleDeps } from '../core/schedule-service';
import type { ResolvedOptions } from '../core/scheduler/options';
import { type Config, ConfigError } from './config';
import { documentClient } from './dynamodb/client';
import { DynamoDecisionStore } from './dynamodb/decision-store';
import { CachedFleet } from './dynamodb/fleet-cache';
import { coldScan, fleetSeed, SnapshottingFleet } from './dynamodb/fleet-seed';
import { FleetSnapshotStore } from './dynamodb/fleet-snapshot';
import { DynamoFleetStore } from './dynamodb/fleet-store';

/** A structured log line (the handler passes its Powertools logger; benches pass nothing). */
export type DepsLog = (fields: Record<string, unknown>) => void;

/** What one schedule container holds: its stores, its in-memory fleet, its host-state cache. */
export const makeScheduleDeps = (config: Config, opts: ResolvedOptions, log: DepsLog = () => {}): ScheduleDeps => {
  if (!config.decisionsTable) throw new ConfigError('invalid configuration: QM_DECISIONS_TABLE is required');
  const db = documentClient(config.region, config.dynamodbEndpoint, config.dynamodbTimeoutMs);
  const store = new DynamoFleetStore(db, config.nodesTable, config.decisionsTable, config.changeShards);
  const snapshots = new FleetSnapshotStore(db, config.nodesTable);
  const seed = fleetSeed(snapshots, () => coldScan(db, config.nodesTable), Date.now, log);
  const cached = new CachedFleet(store, config.fleetRescanS * 1000, Date.now, config.fleetRefreshMs, {
    lookbackMs: config.feedLookbackMs,
    nearMs: config.feedNearMs,
    seed,
  });
  return {
    fleet: new SnapshottingFleet(cached, snapshots, config.snapshotEveryS * 1000, Date.now, log),
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
