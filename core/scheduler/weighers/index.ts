/** Every weigher by its Nova name: the `weighers` option resolves against this registry. */
import { NO_OVERRIDES } from '../node-overrides';
import type { HostState, Weigher } from '../types';
import { CPUWeigher } from './cpu-weigher';
import { DiskWeigher } from './disk-weigher';
import { IoOpsWeigher } from './io-ops-weigher';
import { NumInstancesWeigher } from './num-instances-weigher';
import { RAMWeigher } from './ram-weigher';

/** Weigher name → weigher. */
export const WEIGHERS: Readonly<Record<string, Weigher>> = Object.freeze(
  Object.fromEntries([RAMWeigher, CPUWeigher, DiskWeigher, IoOpsWeigher, NumInstancesWeigher].map((w) => [w.name, w])),
);

/**
 * The multiplier for `weigher` on `host`: the node's `<x>_weight_multiplier`
 * metadata when valid (several comma-separated values: the minimum; resolved
 * into `host.weight_multipliers`), else the global option (Nova's
 * `scheduler/utils.py` get_weight_multiplier).
 */
export const weightMultiplier = (host: HostState, weigher: Weigher, global: number): number => {
  const overrides = host.weight_multipliers;
  return overrides === NO_OVERRIDES ? global : (overrides[weigher.multiplierKey] ?? global);
};
