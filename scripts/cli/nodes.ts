/**
 * `qm nodes`, `qm node <host>`, `qm disable <host>`, `qm enable <host>`: the fleet
 * at a glance, one node in full, and the operator's switch (PATCH /nodes/{host}).
 */
import type { Command } from 'commander';
import { HOST_PATTERN } from '../../core/schema';
import { type Api, type ApiFlags, CliError, connect, EXIT, guard, segment, withApiFlags } from './api';
import { bar, colourFor, gb, mb, type Paint, Progress, painter, pairs, table } from './format';

interface Usage {
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
}

/** The parts of the API's node view the CLI reads (functions/shared/responses.ts has all of it). */
export interface NodeJson extends Record<string, unknown> {
  host: string;
  status: 'up' | 'down';
  availability_zone: string;
  disabled: boolean;
  disabled_reason: string | null;
  deleted: number;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  vcpus_used: number;
  memory_mb_used: number;
  local_gb_used: number;
  free_ram_mb: number;
  free_disk_gb: number;
  running_vms: number;
  instances: Array<{ uuid: string } & Usage>;
  claims: Array<{ instance_uuid: string; claimed_at: string; expires_at: string; confirmed_at?: string } & Usage>;
  announced: Array<{ instance_uuid: string; at: string } & Usage>;
  released: Array<{ instance_uuid: string; at: string } & Usage>;
  drift: Array<{ kind: string; instance_uuid: string; since: string; detail: string } & Usage>;
  metadata: Record<string, string>;
}

/** One resource of a node: measured used, claimed (the ledger's pending usage) and capacity. */
export interface Gauge {
  used: number;
  claimed: number;
  total: number;
}

/**
 * used / claimed / free per resource. Claimed is what the ledger adds to the last
 * report (live claims not yet listed + announced − released): for RAM and disk the
 * API's own free figures say it (`free = total − used − claimed`); vCPUs have no
 * free column, so it is summed from the same lists.
 */
export const gaugesOf = (n: NodeJson): { vcpu: Gauge; ram: Gauge; disk: Gauge } => {
  const listed = new Set(n.instances.map((i) => i.uuid.toLowerCase()));
  const sum = (xs: Usage[]) => xs.reduce((t, x) => t + x.vcpus, 0);
  const claimedVcpus =
    sum(n.claims.filter((c) => !listed.has(c.instance_uuid.toLowerCase()))) + sum(n.announced) - sum(n.released);
  return {
    vcpu: { used: n.vcpus_used, claimed: claimedVcpus, total: n.vcpus },
    ram: { used: n.memory_mb_used, claimed: n.memory_mb - n.memory_mb_used - n.free_ram_mb, total: n.memory_mb },
    disk: { used: n.local_gb_used, claimed: n.local_gb - n.local_gb_used - n.free_disk_gb, total: n.local_gb },
  };
};

const BAR = 10;
const cell = (g: Gauge, unit: (x: number) => string, paint: Paint) =>
  `${bar(g.used, g.claimed, g.total, BAR, paint)} ${unit(g.used)}+${unit(g.claimed)}/${unit(g.total)}`;
const plain = (x: number) => String(x);

const statusOf = (n: NodeJson, paint: Paint) =>
  n.deleted ? paint('dim', 'deleted') : n.status === 'up' ? paint('good', 'up') : paint('bad', 'down');

/** The fleet table: one row per node, then the totals. */
export const renderNodes = (nodes: NodeJson[], paint: Paint): string => {
  if (nodes.length === 0) return 'no nodes';
  const sorted = [...nodes].sort((a, b) => a.host.localeCompare(b.host));
  const rows = sorted.map((n) => {
    const g = gaugesOf(n);
    return [
      n.host,
      statusOf(n, paint),
      n.availability_zone,
      n.disabled ? paint('warn', 'disabled') : '-',
      cell(g.vcpu, plain, paint),
      cell(g.ram, mb, paint),
      cell(g.disk, gb, paint),
      String(n.running_vms),
      String(n.claims.length),
      n.drift.length ? paint('warn', String(n.drift.length)) : '0',
    ];
  });
  const header = ['HOST', 'STATUS', 'ZONE', 'DISABLED', 'VCPU', 'RAM', 'DISK', 'VMS', 'CLAIMS', 'DRIFT'];
  const live = nodes.filter((n) => !n.deleted);
  const total = (k: 'vcpu' | 'ram' | 'disk') =>
    live
      .map((n) => gaugesOf(n)[k])
      .reduce((t, g) => ({ used: t.used + g.used, claimed: t.claimed + g.claimed, total: t.total + g.total }), {
        used: 0,
        claimed: 0,
        total: 0,
      });
  const up = live.filter((n) => n.status === 'up').length;
  const disabled = live.filter((n) => n.disabled).length;
  const deleted = nodes.length - live.length;
  const free = (g: Gauge, unit: (x: number) => string) => `${unit(g.total - g.used - g.claimed)} free`;
  const v = total('vcpu');
  const r = total('ram');
  const d = total('disk');
  return [
    table(header, rows, ['l', 'l', 'l', 'l', 'l', 'l', 'l', 'r', 'r', 'r']),
    '',
    `${live.length} nodes: ${up} up, ${live.length - up} down, ${disabled} disabled${deleted ? `, ${deleted} deleted not counted` : ''}`,
    `vCPU ${cell(v, plain, paint)} (${free(v, plain)})   RAM ${cell(r, mb, paint)} (${free(r, mb)})   disk ${cell(d, gb, paint)} (${free(d, gb)})`,
    paint(
      'dim',
      `bars: ${'█'} used  ${'▒'} claimed  ${'░'} free; figures: used+claimed/total (capacity before allocation ratios)`,
    ),
  ].join('\n');
};

const list = (title: string, header: string[], rows: string[][]) =>
  rows.length === 0 ? `${title}: none` : `${title} (${rows.length}):\n${indent(table(header, rows))}`;
const indent = (s: string) =>
  s
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
const usageCells = (u: Usage) => [String(u.vcpus), mb(u.memory_mb), gb(u.disk_gb)];

/** Every column of the compute_nodes row (in Nova's order), then the ledger and the metadata. */
const COLUMNS = [
  'id',
  'service_id',
  'hypervisor_hostname',
  'hypervisor_type',
  'hypervisor_version',
  'vcpus',
  'vcpus_used',
  'memory_mb',
  'memory_mb_used',
  'free_ram_mb',
  'local_gb',
  'local_gb_used',
  'free_disk_gb',
  'disk_available_least',
  'running_vms',
  'current_workload',
  'cpu_info',
  'created_at',
  'updated_at',
  'deleted',
  'deleted_at',
  'availability_zone',
  'status',
  'disabled',
  'disabled_reason',
  'seq',
  'reported_at',
  'tokens_revoked_at',
];

/** One node in full. */
export const renderNode = (n: NodeJson, paint: Paint): string => {
  const g = gaugesOf(n);
  const free = (x: Gauge, unit: (v: number) => string) =>
    `${unit(x.used)} used + ${unit(x.claimed)} claimed of ${unit(x.total)} (${unit(x.total - x.used - x.claimed)} free)`;
  const head = [
    `${paint('bold', n.host)}  ${statusOf(n, paint)}  zone ${n.availability_zone}  ${
      n.disabled ? paint('warn', `disabled${n.disabled_reason ? ` (${n.disabled_reason})` : ''}`) : 'enabled'
    }`,
    `  vCPU  ${bar(g.vcpu.used, g.vcpu.claimed, g.vcpu.total, 20, paint)}  ${free(g.vcpu, plain)}`,
    `  RAM   ${bar(g.ram.used, g.ram.claimed, g.ram.total, 20, paint)}  ${free(g.ram, mb)}`,
    `  disk  ${bar(g.disk.used, g.disk.claimed, g.disk.total, 20, paint)}  ${free(g.disk, gb)}`,
  ].join('\n');
  const value = (v: unknown) =>
    v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const columns = pairs(COLUMNS.filter((k) => k in n).map((k) => [k, value(n[k])]));
  return [
    head,
    '',
    `columns:\n${columns}`,
    '',
    list(
      'claims',
      ['INSTANCE', 'VCPUS', 'RAM', 'DISK', 'CLAIMED', 'EXPIRES', 'CONFIRMED'],
      n.claims.map((c) => [c.instance_uuid, ...usageCells(c), c.claimed_at, c.expires_at, c.confirmed_at ?? '-']),
    ),
    list(
      'instances',
      ['INSTANCE', 'VCPUS', 'RAM', 'DISK'],
      n.instances.map((i) => [i.uuid, ...usageCells(i)]),
    ),
    list(
      'announced (create.end, not yet reported)',
      ['INSTANCE', 'VCPUS', 'RAM', 'DISK', 'AT'],
      n.announced.map((a) => [a.instance_uuid, ...usageCells(a), a.at]),
    ),
    list(
      'released (delete.end, still reported)',
      ['INSTANCE', 'VCPUS', 'RAM', 'DISK', 'AT'],
      n.released.map((a) => [a.instance_uuid, ...usageCells(a), a.at]),
    ),
    list(
      'drift',
      ['KIND', 'INSTANCE', 'VCPUS', 'RAM', 'DISK', 'SINCE', 'DETAIL'],
      n.drift.map((d) => [d.kind, d.instance_uuid, ...usageCells(d), d.since, d.detail]),
    ),
    list(
      'metadata',
      ['KEY', 'VALUE'],
      Object.entries(n.metadata ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, v]),
    ),
  ].join('\n');
};

/** Every page of GET /nodes (`deleted=true` adds the soft-deleted ones). */
export const allNodes = async (api: Api, withDeleted: boolean, progress: Progress): Promise<NodeJson[]> => {
  const nodes: NodeJson[] = [];
  let next: string | undefined;
  do {
    const q = new URLSearchParams({
      limit: '1000',
      ...(withDeleted ? { deleted: 'true' } : {}),
      ...(next ? { next } : {}),
    });
    const page = await api.send<{ nodes: NodeJson[]; next?: string }>('GET', `/nodes?${q}`);
    nodes.push(...page.nodes);
    next = page.next;
    if (next) progress.update(`reading nodes… ${nodes.length}`);
  } while (next);
  progress.done();
  return nodes;
};

/** A host argument, or a usage error (exit 2). */
export const hostArg = (host: string): string => {
  if (!HOST_PATTERN.test(host)) throw new CliError(`${host} is not a hostname`, EXIT.usage);
  return host;
};

const printJson = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
const paintStdout = () => painter(colourFor(process.stdout));

/** Registers the node commands on `program`; `mint` gives the default operator token. */
export const registerNodeCommands = (program: Command, mint: () => Promise<string>): void => {
  withApiFlags(
    program
      .command('nodes')
      .description('every node: status, zone, disabled, vCPU / RAM / disk used+claimed of total, VMs, claims, drift')
      .option('--all', 'include soft-deleted nodes'),
    'print {"nodes": [...]}: every page of GET /nodes in one',
  ).action((opts: ApiFlags & { all?: boolean }) =>
    guard(opts, async () => {
      const nodes = await allNodes(await connect(opts, mint), Boolean(opts.all), new Progress());
      if (opts.json) printJson({ nodes });
      else process.stdout.write(`${renderNodes(nodes, paintStdout())}\n`);
    }),
  );

  withApiFlags(
    program.command('node <host>').description('one node: every column, its claims, instances, drift and metadata'),
  ).action((host: string, opts: ApiFlags) =>
    guard(opts, async () => {
      const node = await (await connect(opts, mint)).send<NodeJson>('GET', `/nodes/${segment(hostArg(host))}`);
      if (opts.json) printJson(node);
      else process.stdout.write(`${renderNode(node, paintStdout())}\n`);
    }),
  );

  withApiFlags(
    program
      .command('disable <host>')
      .description('take a node out of scheduling (ComputeFilter rejects it) until `qm enable`')
      .option('--reason <text>', 'why, shown as disabled_reason'),
    'print the node',
  ).action((host: string, opts: ApiFlags & { reason?: string }) =>
    guard(opts, async () => {
      const api = await connect(opts, mint);
      // Without --reason an earlier reason is cleared: it would describe another outage.
      const node = await api.send<NodeJson>('PATCH', `/nodes/${segment(hostArg(host))}`, {
        disabled: true,
        disabled_reason: opts.reason ?? null,
      });
      if (opts.json) printJson(node);
      else
        process.stdout.write(
          `disabled ${node.host}${node.disabled_reason ? ` (${node.disabled_reason})` : ''}: the scheduler skips it until \`qm enable ${node.host}\`\n`,
        );
    }),
  );

  withApiFlags(
    program.command('enable <host>').description('return a node to scheduling (clears disabled_reason)'),
    'print the node',
  ).action((host: string, opts: ApiFlags) =>
    guard(opts, async () => {
      const api = await connect(opts, mint);
      const node = await api.send<NodeJson>('PATCH', `/nodes/${segment(hostArg(host))}`, {
        disabled: false,
        disabled_reason: null,
      });
      if (opts.json) printJson(node);
      else process.stdout.write(`enabled ${node.host}: the scheduler considers it again\n`);
    }),
  );
};
