import type { Weigher } from '../types';

/** DiskWeigher: more free disk (MB) weighs more (Nova's `weights/disk.py`; minval 0). */
export const DiskWeigher: Weigher = {
  name: 'DiskWeigher',
  multiplierKey: 'disk_weight_multiplier',
  defaultMultiplier: 1.0,
  minval: 0,
  weigh: (host) => host.free_disk_mb,
};
