import { defineFilter } from './define-filter';

/**
 * IoOpsFilter: fewer I/O-heavy operations in progress (builds, resizes,
 * snapshots…: the node's `current_workload`) than `max_io_ops_per_host`, or the
 * node's own `max_io_ops_per_host` metadata (Nova's `io_ops_filter.py`
 * IoOpsFilter and AggregateIoOpsFilter in one).
 *
 *   passes iff num_io_ops < max
 */
export const IoOpsFilter = defineFilter({
  name: 'IoOpsFilter',
  summary: 'had too many concurrent I/O operations',
  passes: (host) => host.num_io_ops < host.max_io_ops_per_host,
  explain: (host) => `IoOpsFilter: ${host.num_io_ops} I/O operations in progress, max ${host.max_io_ops_per_host}`,
});
