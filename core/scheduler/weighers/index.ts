/** Every weigher by its Nova name: the `weighers` option resolves against this registry. */
import { NO_OVERRIDES } from '../node-overrides';
import type { HostState, Weigher, WeightMultiplierKey } from '../types';
import { CPUWeigher } from './cpu-weigher';
import { DiskWeigher } from './disk-weigher';
import { IoOpsWeigher } from './io-ops-weigher';
import { NumInstancesWeigher } from './num-instances-weigher';
import { RAMWeigher } from './ram-weigher';

/** Every weigher, one line each. */
export const WEIGHER_REGISTRY: readonly Weigher[] = [
  RAMWeigher,
  CPUWeigher,
  DiskWeigher,
  IoOpsWeigher,
  NumInstancesWeigher,
];

/** Weigher name → weigher. */
export const WEIGHERS: Readonly<Record<string, Weigher>> = Object.freeze(
  Object.fromEntries(WEIGHER_REGISTRY.map((w) => [w.name, w])),
);

/**
 * The multiplier for `weigher` on `host`: the node's `<x>_weight_multiplier`
 * metadata when valid (several comma-separated values: the minimum; resolved
 * into `host.weight_multipliers`), else the global option (Nova's
 * `scheduler/utils.py` get_weight_multiplier).
 */
export const weightMultiplier = (host: HostState, weigher: Weigher, global: number): number =>
  multiplierOf(host.weight_multipliers, weigher.multiplierKey, global);

/** The multiplier under a node's resolved overrides: its own for `key`, else `global`. */
export const multiplierOf = (
  overrides: HostState['weight_multipliers'],
  key: WeightMultiplierKey,
  global: number,
): number => (overrides === NO_OVERRIDES ? global : (overrides[key] ?? global));
