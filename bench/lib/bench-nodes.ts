import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../adapters/dynamodb/client';
import { fromItem, toItem } from '../../adapters/dynamodb/node-item';
import { applyReport, type Report } from '../../core/nodes';
import type { StoredNode } from '../../core/ports';

/**
 * The benches' compute nodes: a report shaped like this machine's agent's (a 64-vCPU, 256 GB
 * QEMU host), and a seed that writes nodes straight into the table as their first report would
 * have left them, so a 100k-host fleet is ready in a minute instead of 100k handler calls.
 */

/** The usage figures a bench varies per host; the rest of the report is the same everywhere. */
export type HostUsage = Pick<
  Report,
  | 'vcpus_used'
  | 'memory_mb_used'
  | 'local_gb_used'
  | 'disk_available_least'
  | 'running_vms'
  | 'current_workload'
  | 'instances'
>;

/** A report from `host` in `az` with the given usage, as the agent sends it. */
export const hostReport = (host: string, az: string, usage: HostUsage, seq = 1): Report => ({
  hypervisor_hostname: host,
  hypervisor_type: 'QEMU',
  hypervisor_version: 6_002_000,
  cpu_info: {
    arch: 'x86_64',
    vendor: 'Intel',
    model: 'Xeon',
    features: ['avx2'],
    topology: { sockets: 2, cores: 16, threads: 2 },
  },
  vcpus: 64,
  memory_mb: 262_144,
  local_gb: 4000,
  ...usage,
  availability_zone: az,
  seq,
  reported_at: new Date().toISOString(),
});

/** The claims and e2e benches' spread of usage: host i uses a different slice of each resource. */
export const spreadUsage = (i: number): HostUsage => ({
  vcpus_used: i % 32,
  memory_mb_used: 8192 + ((i * 7919) % 131_072),
  local_gb_used: (i * 13) % 2000,
  disk_available_least: 4000 - ((i * 13) % 2000),
  running_vms: i % 20,
  current_workload: i % 4,
  instances: [],
});

/** Node i's name in a bench fleet: `<prefix>-000042`. */
export const benchHost = (prefix: string, i: number): string => `${prefix}-${String(i).padStart(6, '0')}`;

/**
 * Writes nodes `from`..`to` (exclusive) into `table`: `reportOf(i)` is node i's first report,
 * named by its `hypervisor_hostname`. BatchWriteItem, 25 items a call, `concurrency` calls at
 * once, unprocessed items retried; each batch's items are built just before their call, so memory
 * stays flat whatever the fleet size.
 */
export const seedNodes = async (o: {
  endpoint: string;
  table: string;
  from: number;
  to: number;
  reportOf: (i: number) => Report;
  concurrency?: number;
  /** Called with each node as written (e.g. to snapshot the seeded fleet). */
  written?: (node: StoredNode) => void;
}): Promise<void> => {
  const db = documentClient('us-east-1', o.endpoint);
  const now = Date.now();
  let next = o.from;
  try {
    await Promise.all(
      Array.from({ length: o.concurrency ?? 8 }, async () => {
        while (next < o.to) {
          const first = next;
          next = Math.min(o.to, next + 25);
          const puts = [];
          for (let i = first; i < next; i++) {
            const r = o.reportOf(i);
            const record = applyReport(undefined, r, r.hypervisor_hostname, { id: i + 1, service_id: i + 1 }, now, {
              claimTtlS: 600,
              windowS: 7200,
            });
            const item = toItem(record, 1, now);
            o.written?.(fromItem(item as unknown as Record<string, unknown>));
            puts.push({ PutRequest: { Item: item } });
          }
          let req: Record<string, unknown[]> | undefined = { [o.table]: puts };
          while (req && Object.keys(req).length > 0) {
            const out = await db.send(new BatchWriteCommand({ RequestItems: req as never }));
            req = out.UnprocessedItems as Record<string, unknown[]> | undefined;
          }
        }
      }),
    );
  } finally {
    db.destroy();
  }
};
