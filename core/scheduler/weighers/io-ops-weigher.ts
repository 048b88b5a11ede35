import type { Weigher } from '../types';

/**
 * IoOpsWeigher: raw value is the number of I/O operations in progress; the
 * default multiplier −1.0 prefers quiet hosts (Nova's `weights/io_ops.py`; minval 0).
 */
export const IoOpsWeigher: Weigher = {
  name: 'IoOpsWeigher',
  multiplierKey: 'io_ops_weight_multiplier',
  defaultMultiplier: -1.0,
  minval: 0,
  weigh: (host) => host.num_io_ops,
};
