/**
 * The dashboard's node arithmetic, free of the DOM (unit-tested in model.test.ts): what a node's view
 * says about used, claimed and free capacity, the fleet's totals, sorting and filtering. A stored
 * decision is read in decision-model.ts, figures are worded in format.ts. Everything here reads API
 * answers defensively: a field that is missing or not a number counts as 0 rather than breaking the page.
 */

/** One resource of one host (or of the fleet): the parts add up to `total` unless the host is overcommitted. */
export interface Usage {
  total: number;
  /** Measured by the host's last report (minus what the ledger has released since). */
  used: number;
  /** Held by the scheduler's live claims and announced instances the report does not list yet. */
  claimed: number;
  free: number;
}

export interface HostUsage {
  vcpu: Usage;
  ram: Usage;
  disk: Usage;
}

/** The three states a host is shown in; a disabled host is `disabled` whether it reports or not. */
export type HostState = 'up' | 'down' | 'disabled';

/** The fields of `GET /nodes` the dashboard reads (CONTRACT.md "Compute nodes"). */
export interface NodeView {
  host: string;
  status?: string;
  disabled?: boolean;
  disabled_reason?: string | null;
  availability_zone?: string;
  vcpus?: number;
  vcpus_used?: number;
  memory_mb?: number;
  memory_mb_used?: number;
  local_gb?: number;
  local_gb_used?: number;
  free_ram_mb?: number;
  free_disk_gb?: number;
  running_vms?: number;
  current_workload?: number;
  instances?: Array<{ uuid: string; vcpus?: number; memory_mb?: number; disk_gb?: number }>;
  claims?: Array<Record<string, unknown> & { instance_uuid: string }>;
  announced?: Array<Record<string, unknown> & { instance_uuid: string }>;
  released?: Array<Record<string, unknown> & { instance_uuid: string }>;
  drift?: Array<Record<string, unknown>>;
  metadata?: Record<string, string>;
  reported_at?: string;
  updated_at?: string;
  hypervisor_type?: string;
  hypervisor_version?: number;
  cpu_info?: { arch?: string; vendor?: string; model?: string; topology?: Record<string, number> };
  [key: string]: unknown;
}

/** A finite number, else 0. */
export const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : 0);

const sumOf = (list: ReadonlyArray<Record<string, unknown>> | undefined, field: string): number =>
  (list ?? []).reduce((s, e) => s + num(e[field]), 0);

/**
 * A part of capacity for the picture: `pending` (claims + announced − released, docs/accounting.md
 * rule 1) can be negative when releases outweigh claims; then the measurement overstates use and the
 * release comes off `used`, so the bar's parts stay non-negative.
 */
const usage = (total: number, used: number, pending: number, free: number): Usage => ({
  total,
  used: Math.max(0, used + Math.min(0, pending)),
  claimed: Math.max(0, pending),
  free: Math.max(0, free),
});

/**
 * Used, claimed and free vCPU / RAM / disk of a node, as the API's `free_ram_mb` and `free_disk_gb` count
 * them (before allocation ratios and reserved amounts). RAM and disk read pending from the API's own free
 * figures; vCPUs have no free figure in the view, so theirs is the same ledger term summed here: live
 * claims the report does not list, plus announced, minus released.
 */
export const hostUsage = (n: NodeView): HostUsage => {
  const listed = new Set((n.instances ?? []).map((i) => String(i.uuid).toLowerCase()));
  const unlisted = (n.claims ?? []).filter((c) => !listed.has(String(c.instance_uuid).toLowerCase()));
  const vcpuPending = sumOf(unlisted, 'vcpus') + sumOf(n.announced, 'vcpus') - sumOf(n.released, 'vcpus');
  const vcpus = num(n.vcpus);
  const ramPending = num(n.memory_mb) - num(n.memory_mb_used) - num(n.free_ram_mb);
  const diskPending = num(n.local_gb) - num(n.local_gb_used) - num(n.free_disk_gb);
  return {
    vcpu: usage(vcpus, num(n.vcpus_used), vcpuPending, vcpus - num(n.vcpus_used) - vcpuPending),
    ram: usage(num(n.memory_mb), num(n.memory_mb_used), ramPending, num(n.free_ram_mb)),
    disk: usage(num(n.local_gb), num(n.local_gb_used), diskPending, num(n.free_disk_gb)),
  };
};

export const hostState = (n: NodeView): HostState => (n.disabled ? 'disabled' : n.status === 'up' ? 'up' : 'down');

/** Share of a resource taken (used + claimed) ÷ total, in [0, 1]; 0 for a resource the host does not have. */
export const fill = (u: Usage): number => (u.total > 0 ? Math.min(1, (u.used + u.claimed) / u.total) : 0);

export interface FleetTotals {
  hosts: number;
  up: number;
  down: number;
  disabled: number;
  drifting: number;
  vcpu: Usage;
  ram: Usage;
  disk: Usage;
}

const add = (a: Usage, b: Usage): Usage => ({
  total: a.total + b.total,
  used: a.used + b.used,
  claimed: a.claimed + b.claimed,
  free: a.free + b.free,
});
const zero = (): Usage => ({ total: 0, used: 0, claimed: 0, free: 0 });

/** Totals over the fleet; `up`/`down` count reporting state, `disabled` counts disabled hosts apart. */
export const fleetTotals = (nodes: readonly NodeView[]): FleetTotals => {
  const t: FleetTotals = {
    hosts: 0,
    up: 0,
    down: 0,
    disabled: 0,
    drifting: 0,
    vcpu: zero(),
    ram: zero(),
    disk: zero(),
  };
  for (const n of nodes) {
    t.hosts++;
    if (n.disabled) t.disabled++;
    else if (n.status === 'up') t.up++;
    else t.down++;
    if ((n.drift ?? []).length > 0) t.drifting++;
    const u = hostUsage(n);
    t.vcpu = add(t.vcpu, u.vcpu);
    t.ram = add(t.ram, u.ram);
    t.disk = add(t.disk, u.disk);
  }
  return t;
};

/** The host table's sortable columns. */
export type SortKey = 'host' | 'state' | 'az' | 'vcpu' | 'ram' | 'disk' | 'vms' | 'claims' | 'drift' | 'reported';

const stateRank: Record<HostState, number> = { down: 0, disabled: 1, up: 2 };

const keyOf = (n: NodeView, k: SortKey): number | string => {
  switch (k) {
    case 'host':
      return n.host;
    case 'state':
      return stateRank[hostState(n)];
    case 'az':
      return String(n.availability_zone ?? '');
    case 'vcpu':
      return fill(hostUsage(n).vcpu);
    case 'ram':
      return fill(hostUsage(n).ram);
    case 'disk':
      return fill(hostUsage(n).disk);
    case 'vms':
      return num(n.running_vms);
    case 'claims':
      return (n.claims ?? []).length;
    case 'drift':
      return (n.drift ?? []).length;
    case 'reported':
      return Date.parse(String(n.reported_at ?? '')) || 0;
  }
};

/** Sorted by `key` (`dir` 1 ascending, −1 descending), ties by host name, so the order is stable across polls. */
export const sortNodes = (nodes: readonly NodeView[], key: SortKey, dir: 1 | -1): NodeView[] =>
  [...nodes].sort((a, b) => {
    const x = keyOf(a, key);
    const y = keyOf(b, key);
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return c !== 0 ? c * dir : a.host.localeCompare(b.host);
  });

/** What the state filter offers besides `all`. */
export type StateFilter = 'all' | HostState | 'drift';

/**
 * Whether a node matches the filter box (every word, case-insensitive, in its name, zone, state or
 * metadata) and the state filter.
 */
export const matches = (n: NodeView, text: string, state: StateFilter): boolean => {
  if (state === 'drift' ? (n.drift ?? []).length === 0 : state !== 'all' && hostState(n) !== state) return false;
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = [
    n.host,
    String(n.availability_zone ?? ''),
    hostState(n),
    ...Object.entries(n.metadata ?? {}).map(([k, v]) => `${k}=${v}`),
  ]
    .join(' ')
    .toLowerCase();
  return words.every((w) => hay.includes(w));
};
