import type { Weigher } from '../types';

/**
 * RAMWeigher: more free RAM weighs more, so the default multiplier (1.0)
 * spreads and a negative one stacks (Nova's `weights/ram.py`; minval 0, so an
 * overcommitted host with negative free RAM weighs as an empty one's 0).
 */
export const RAMWeigher: Weigher = {
  name: 'RAMWeigher',
  multiplierKey: 'ram_weight_multiplier',
  defaultMultiplier: 1.0,
  minval: 0,
  weigh: (host) => host.free_ram_mb,
};
