import type { Weigher } from '../types';

/**
 * CPUWeigher: more free vCPUs weigh more (Nova's `weights/cpu.py`; minval 0).
 *
 *   raw = vcpus_total × cpu_allocation_ratio − vcpus_used
 */
export const CPUWeigher: Weigher = {
  name: 'CPUWeigher',
  multiplierKey: 'cpu_weight_multiplier',
  defaultMultiplier: 1.0,
  minval: 0,
  weigh: (host) => host.vcpus_total * host.cpu_allocation_ratio - host.vcpus_used,
};
