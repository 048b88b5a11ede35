import { defineFilter } from './define-filter';

/**
 * IoOpsFilter: fewer I/O-heavy operations in progress (builds, resizes,
 * snapshots…: the node's `current_workload`) than `max_io_ops_per_host`, or the
 * node's own `max_io_ops_per_host` metadata (Nova's `io_ops_filter.py`
 * IoOpsFilter and AggregateIoOpsFilter in one).
 *
 *   passes iff num_io_ops < max
 */
export const IoOpsFilter = defineFilter<undefined, { num_io_ops: number; max: number }>({
  name: 'IoOpsFilter',
  summary: 'had too many concurrent I/O operations',
  reasons: {
    busy: {
      count: 'had too many concurrent I/O operations',
      render: (f) => `IoOpsFilter: ${f.num_io_ops} I/O operations in progress, max ${f.max}`,
    },
  },
  passes: (host) => host.num_io_ops < host.max_io_ops_per_host,
  explain: (host) => ({ code: 'busy', figures: { num_io_ops: host.num_io_ops, max: host.max_io_ops_per_host } }),
});
