import { type Filter, PASS, reject } from '../types';

/**
 * IoOpsFilter: fewer I/O-heavy operations in progress (builds, resizes,
 * snapshots…: the node's `current_workload`) than `max_io_ops_per_host`, or the
 * node's own `max_io_ops_per_host` metadata (Nova's `io_ops_filter.py`
 * IoOpsFilter and AggregateIoOpsFilter in one).
 *
 *   passes iff num_io_ops < max
 */
export const IoOpsFilter: Filter = {
  name: 'IoOpsFilter',
  summary: 'had too many concurrent I/O operations',
  filter(host) {
    if (host.num_io_ops < host.max_io_ops_per_host) return PASS;
    return reject(`IoOpsFilter: ${host.num_io_ops} I/O operations in progress, max ${host.max_io_ops_per_host}`);
  },
};
