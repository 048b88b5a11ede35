/**
 * A host's detail (`#host=<name>`): its facts, its three resources, and the ledger's lists (claims,
 * instances, drift, metadata, announced and released) as tables.
 */
import { byId, type Child, h, replaceChildren } from './dom';
import { fmtAge, fmtGb, fmtMb, fmtPercent } from './format';
import { fill, hostState, hostUsage, type NodeView, type Usage } from './model';
import { bar, n0, partsOf, table, type Unit, updateBar, uuidCell, vcpuUnit } from './widgets';

/** An instance's uuid and its size (vCPU, RAM, disk) as table cells; a missing figure reads 0. */
const sizedCells = (uuid: unknown, e: Readonly<Record<string, unknown>>): Child[] => [
  uuidCell(uuid),
  n0(e.vcpus),
  fmtMb(Number(e.memory_mb ?? 0)),
  fmtGb(Number(e.disk_gb ?? 0)),
];

/** What the view shows now (the node as JSON), so a poll with the same figures touches nothing. */
let hostSig = '';

/** Forgets what is shown (on sign-out), so the next render builds the view afresh. */
export const forgetHost = (): void => {
  hostSig = '';
};

/** Renders `host`'s detail from its node `n`, or a note that the fleet has no such host. */
export const renderHost = (host: string, n: NodeView | undefined): void => {
  const box = byId('host');
  const sig = n ? JSON.stringify(n) : `missing:${host}`;
  // The same figures as last time: leave the DOM (and the reader's selection) alone; ages still tick.
  if (sig === hostSig && box.childElementCount > 0) return;
  hostSig = sig;
  if (!n) {
    replaceChildren(
      box,
      h(
        'div',
        { class: 'card' },
        h('h2', {}, host),
        h('p', {}, 'This host is not in the fleet (never reported, or deleted). '),
        h('a', { href: '#fleet' }, '← Fleet'),
      ),
    );
    return;
  }
  const state = hostState(n);
  const u = hostUsage(n);
  const cpu = n.cpu_info ?? {};
  const topo = cpu.topology ?? {};
  const resource = (label: string, usage: Usage, unit: Unit) => {
    const b = bar();
    updateBar(b, usage, unit);
    return h(
      'div',
      { 'data-resource': label },
      h('strong', {}, label),
      ` ${fmtPercent(fill(usage))} taken`,
      b,
      h('div', { class: 'legend' }, ...partsOf(usage, unit)),
      h('div', { class: 'muted' }, `of ${unit(usage.total)}`),
    );
  };
  const facts: Array<[string, Child]> = [
    ['State', h('span', { class: `state ${state}` }, state)],
    ['Reported', `${String(n.reported_at ?? '—')} (${fmtAge(n.reported_at, Date.now())})`],
    ['Zone', String(n.availability_zone ?? '')],
    ['Hypervisor', `${String(n.hypervisor_type ?? '')} ${String(n.hypervisor_version ?? '')}`],
    [
      'CPU',
      `${String(cpu.vendor ?? '')} ${String(cpu.model ?? '')} (${String(cpu.arch ?? '')}; ${n0(topo.sockets)} sockets × ${n0(topo.cores)} cores × ${n0(topo.threads)} threads)`,
    ],
    ['Running VMs', n0(n.running_vms)],
    ['Workload', n0(n.current_workload)],
  ];
  if (n.disabled) facts.splice(1, 0, ['Disabled because', String(n.disabled_reason ?? '(no reason given)')]);
  const ledger = (list: NodeView['announced']) =>
    (list ?? []).map((e) => [...sizedCells(e.instance_uuid, e), String(e.at ?? '')]);
  replaceChildren(
    box,
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', { id: 'host-name' }, n.host), h('a', { href: '#fleet' }, '← Fleet')),
      h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      h(
        'div',
        { class: 'resources' },
        resource('vCPU', u.vcpu, vcpuUnit),
        resource('RAM', u.ram, fmtMb),
        resource('Disk', u.disk, fmtGb),
      ),
    ),
    h(
      'div',
      { class: 'cols' },
      h(
        'div',
        { class: 'card', id: 'host-claims' },
        h('h2', {}, `Claims (${(n.claims ?? []).length})`),
        table(
          ['Instance', 'vCPU', 'RAM', 'Disk', 'Claimed', 'Expires / confirmed'],
          (n.claims ?? []).map((c) => [
            ...sizedCells(c.instance_uuid, c),
            String(c.claimed_at ?? ''),
            c.confirmed_at ? `confirmed ${String(c.confirmed_at)}` : String(c.expires_at ?? ''),
          ]),
          'No live claims.',
          [1, 2, 3],
        ),
      ),
      h(
        'div',
        { class: 'card', id: 'host-instances' },
        h('h2', {}, `Instances (${(n.instances ?? []).length})`),
        table(
          ['Instance', 'vCPU', 'RAM', 'Disk'],
          (n.instances ?? []).map((i) => sizedCells(i.uuid, i)),
          'The last report listed no instances.',
          [1, 2, 3],
        ),
      ),
      h(
        'div',
        { class: 'card', id: 'host-drift' },
        h('h2', {}, `Drift (${(n.drift ?? []).length})`),
        table(
          ['Kind', 'Instance', 'vCPU', 'RAM', 'Disk', 'Since', 'Detail'],
          (n.drift ?? []).map((d) => [
            h('span', { class: 'drift-badge' }, String(d.kind ?? '')),
            ...sizedCells(d.instance_uuid, d),
            String(d.since ?? ''),
            String(d.detail ?? ''),
          ]),
          'No drift: the reports and the ledger agree.',
          [2, 3, 4],
        ),
      ),
      h(
        'div',
        { class: 'card', id: 'host-metadata' },
        h('h2', {}, `Metadata (${Object.keys(n.metadata ?? {}).length})`),
        table(
          ['Key', 'Value'],
          Object.entries(n.metadata ?? {}).map(([k, v]) => [h('span', { class: 'mono' }, k), String(v)]),
          'No metadata.',
        ),
        h('h3', {}, 'Announced (created, not yet reported)'),
        table(['Instance', 'vCPU', 'RAM', 'Disk', 'At'], ledger(n.announced), 'None.', [1, 2, 3]),
        h('h3', {}, 'Released (deleted, still in the last report)'),
        table(['Instance', 'vCPU', 'RAM', 'Disk', 'At'], ledger(n.released), 'None.', [1, 2, 3]),
      ),
    ),
  );
};
