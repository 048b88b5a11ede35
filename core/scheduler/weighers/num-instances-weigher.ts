import type { Weigher } from '../types';

/**
 * NumInstancesWeigher: raw value is the number of instances; the default
 * multiplier 0.0 leaves it without effect until an operator picks spreading
 * (negative) or packing (positive) (Nova's `weights/num_instances.py`, 2023.2;
 * no minval: both bounds come from the hosts).
 */
export const NumInstancesWeigher: Weigher = {
  name: 'NumInstancesWeigher',
  multiplierKey: 'num_instances_weight_multiplier',
  defaultMultiplier: 0.0,
  weigh: (host) => host.num_instances,
};
