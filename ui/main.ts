/**
 * The dashboard (GET /dashboard): signs in with the operator's token, polls GET /nodes and updates the
 * page in place (rows and tiles are keyed by host and only changed text is written, so scroll, sort and
 * filter survive every refresh), shows a host's detail (`#host=<name>`) and explores a stored decision
 * (`#decision=<id>`, `&host=<name>` answers "why not that host").
 */
import { byId, type Child, h, replaceChildren, setAttr, setText } from './dom';
import {
  type DecisionModel,
  decisionModel,
  fill,
  fleetTotals,
  fmtAge,
  fmtFigures,
  fmtGb,
  fmtInt,
  fmtMb,
  fmtPercent,
  fmtWeight,
  fragmentOf,
  hostState,
  hostUsage,
  matches,
  type NodeView,
  parseFragment,
  type SortKey,
  type StateFilter,
  sortNodes,
  type Usage,
  verdictOf,
} from './model';

/** How often the fleet is read again. */
const POLL_MS = 5000;
/** GET /nodes pages read per refresh (1,000 hosts a page). */
const MAX_PAGES = 20;
const TOKEN_KEY = 'qm.operator-token';
/** A resource this full is shown hot (bold, vermillion). */
const HOT = 0.9;

/** The API's base: the page is `<base>/dashboard` (the stage prefix locally and on API Gateway alike). */
const API_BASE = location.pathname.replace(/\/dashboard\/?$/, '');

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
const nodes = new Map<string, NodeView>();
let sort: { key: SortKey; dir: 1 | -1 } = { key: 'host', dir: 1 };
let timer: number | undefined;
let lastOkMs = 0;

const api = async (path: string): Promise<unknown> => {
  const r = await fetch(`${API_BASE}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await r.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(r.status, 'NotJson', `the API answered ${r.status} with a body that is not JSON`);
  }
  if (!r.ok) {
    const e = (body as { error?: { code?: string; message?: string } }).error ?? {};
    throw new ApiError(r.status, e.code ?? 'Error', e.message ?? `the API answered ${r.status}`);
  }
  return body;
};

// ---------------------------------------------------------------- bars

type Unit = (x: number) => string;
const vcpuUnit: Unit = (x) => `${fmtInt(x)} vCPU`;

/** A stacked bar: used, claimed, free; widths against capacity (or the parts' sum when overcommitted). */
const bar = (u?: Usage): HTMLDivElement => {
  const el = h(
    'div',
    { class: 'bar', role: 'img' },
    h('span', { class: 'seg used' }),
    h('span', { class: 'seg claimed' }),
  );
  if (u) updateBar(el, u, vcpuUnit);
  return el;
};

const updateBar = (el: HTMLElement, u: Usage, unit: Unit): void => {
  const scale = Math.max(u.total, u.used + u.claimed + u.free, 1);
  const [used, claimed] = [el.children[0] as HTMLElement, el.children[1] as HTMLElement];
  const w = (x: number) => `${((x / scale) * 100).toFixed(2)}%`;
  if (used.style.width !== w(u.used)) used.style.width = w(u.used);
  if (claimed.style.width !== w(u.claimed)) claimed.style.width = w(u.claimed);
  setAttr(
    el,
    'aria-label',
    `${unit(u.used)} used, ${unit(u.claimed)} claimed, ${unit(u.free)} free of ${unit(u.total)}`,
  );
  setAttr(el, 'title', el.getAttribute('aria-label') ?? '');
};

// ---------------------------------------------------------------- fleet totals

interface TotalRefs {
  big: HTMLElement;
  bar?: HTMLElement;
  parts: HTMLElement;
}
const totalRefs = new Map<string, TotalRefs>();

const buildTotals = (): void => {
  const box = byId('totals');
  const card = (key: string, label: string, withBar: boolean) => {
    const refs: TotalRefs = { big: h('div', { class: 'big' }), parts: h('div', { class: 'parts' }) };
    if (withBar) refs.bar = bar();
    totalRefs.set(key, refs);
    box.appendChild(
      h(
        'div',
        { class: 'total', 'data-total': key },
        h('div', { class: 'label' }, label),
        refs.big,
        refs.bar,
        refs.parts,
      ),
    );
  };
  card('hosts', 'Hosts', false);
  card('vcpu', 'vCPU', true);
  card('ram', 'RAM', true);
  card('disk', 'Disk', true);
};

const partsOf = (u: Usage, unit: Unit): Child[] => [
  h('span', {}, h('i', { class: 'sw used' }), `used ${unit(u.used)}`),
  h('span', {}, h('i', { class: 'sw claimed' }), `claimed ${unit(u.claimed)}`),
  h('span', {}, h('i', { class: 'sw free' }), `free ${unit(u.free)}`),
];

const renderTotals = (list: NodeView[]): void => {
  const t = fleetTotals(list);
  const hosts = totalRefs.get('hosts') as TotalRefs;
  setText(hosts.big, `${t.hosts}`);
  const hostParts = `${t.up} up · ${t.down} down · ${t.disabled} disabled · ${t.drifting} with drift`;
  if (hosts.parts.textContent !== hostParts) {
    replaceChildren(
      hosts.parts,
      h('span', { class: 'state up' }, `${t.up} up`),
      h('span', { class: 'state down' }, `${t.down} down`),
      h('span', { class: 'state disabled' }, `${t.disabled} disabled`),
      h('span', { class: 'drift-badge' }, `${t.drifting} with drift`),
    );
    hosts.parts.setAttribute('aria-label', hostParts);
  }
  const res = (key: string, u: Usage, unit: Unit) => {
    const r = totalRefs.get(key) as TotalRefs;
    const sigBig = `${fmtPercent(fill(u))}|${unit(u.total)}`;
    if (r.big.dataset.sig !== sigBig) {
      r.big.dataset.sig = sigBig;
      replaceChildren(r.big, fmtPercent(fill(u)), h('span', { class: 'of' }, `taken of ${unit(u.total)}`));
    }
    if (r.bar) updateBar(r.bar, u, unit);
    const sig = `${u.used}/${u.claimed}/${u.free}`;
    if (r.parts.dataset.sig !== sig) {
      r.parts.dataset.sig = sig;
      replaceChildren(r.parts, ...partsOf(u, unit));
    }
  };
  res('vcpu', t.vcpu, vcpuUnit);
  res('ram', t.ram, fmtMb);
  res('disk', t.disk, fmtGb);
};

// ---------------------------------------------------------------- the picture: one tile per host

interface TileRefs {
  el: HTMLAnchorElement;
  state: HTMLElement;
  drift: HTMLElement;
  bars: Record<'vcpu' | 'ram' | 'disk', { bar: HTMLElement; pct: HTMLElement }>;
}
const tiles = new Map<string, TileRefs>();

const hostHref = (host: string) => fragmentOf({ host });

const newTile = (host: string): TileRefs => {
  const row = (label: string) => {
    const b = bar();
    const pct = h('span', { class: 'pct' });
    return { el: h('div', { class: 'row' }, h('span', {}, label), b, pct), bar: b, pct };
  };
  const [v, r, d] = [row('vCPU'), row('RAM'), row('Disk')];
  const refs: TileRefs = {
    el: h('a', { class: 'tile', href: hostHref(host), 'data-host': host }),
    state: h('span', { class: 'state' }),
    drift: h('span', { class: 'drift-badge' }),
    bars: { vcpu: v, ram: r, disk: d },
  };
  refs.el.append(
    h('span', { class: 'name', title: host }, host),
    h('div', { class: 'meta' }, refs.state, refs.drift),
    v.el,
    r.el,
    d.el,
  );
  return refs;
};

const updateTile = (t: TileRefs, n: NodeView): void => {
  const state = hostState(n);
  setAttr(t.el, 'class', `tile ${state}`);
  setAttr(t.state, 'class', `state ${state}`);
  setText(t.state, state);
  const drift = (n.drift ?? []).length;
  t.drift.hidden = drift === 0;
  setText(t.drift, `drift ${drift}`);
  const u = hostUsage(n);
  const units: Record<'vcpu' | 'ram' | 'disk', Unit> = { vcpu: vcpuUnit, ram: fmtMb, disk: fmtGb };
  for (const k of ['vcpu', 'ram', 'disk'] as const) {
    updateBar(t.bars[k].bar, u[k], units[k]);
    setText(t.bars[k].pct, fmtPercent(fill(u[k])));
    setAttr(t.bars[k].pct, 'class', fill(u[k]) >= HOT ? 'pct hot' : 'pct');
  }
};

/** Puts `els` into `box` in this order, moving only what is out of place and removing what is not listed. */
const reorder = (box: Element, els: readonly Element[]): void => {
  els.forEach((el, i) => {
    if (box.children[i] !== el) box.insertBefore(el, box.children[i] ?? null);
  });
  while (box.children.length > els.length) box.lastElementChild?.remove();
};

// ---------------------------------------------------------------- the host table

interface RowRefs {
  tr: HTMLTableRowElement;
  cells: Record<string, HTMLTableCellElement>;
  state: HTMLElement;
  res: Record<'vcpu' | 'ram' | 'disk', { bar: HTMLElement; fig: HTMLElement }>;
}
const rows = new Map<string, RowRefs>();

const newRow = (host: string): RowRefs => {
  const res = () => ({ bar: bar(), fig: h('div', { class: 'fig' }) });
  const r: RowRefs = {
    tr: h('tr', { 'data-host': host }),
    cells: {},
    state: h('span', { class: 'state' }),
    res: { vcpu: res(), ram: res(), disk: res() },
  };
  const cell = (key: string, cls: string, ...children: Child[]) => {
    const td = h('td', { class: cls }, ...children);
    r.cells[key] = td;
    r.tr.appendChild(td);
  };
  cell('host', '', h('a', { href: hostHref(host) }, host));
  cell('state', '', r.state);
  cell('az', '');
  for (const k of ['vcpu', 'ram', 'disk'] as const) cell(k, 'res', r.res[k].bar, r.res[k].fig);
  cell('vms', 'num');
  cell('claims', 'num');
  cell('drift', 'num');
  cell('reported', '');
  return r;
};

const updateRow = (r: RowRefs, n: NodeView, nowMs: number): void => {
  const state = hostState(n);
  setAttr(r.state, 'class', `state ${state}`);
  setText(r.state, state);
  setAttr(r.state, 'title', n.disabled && n.disabled_reason ? `disabled: ${n.disabled_reason}` : state);
  setText(r.cells.az as HTMLElement, String(n.availability_zone ?? ''));
  const u = hostUsage(n);
  const units: Record<'vcpu' | 'ram' | 'disk', Unit> = { vcpu: (x) => fmtInt(x), ram: fmtMb, disk: fmtGb };
  for (const k of ['vcpu', 'ram', 'disk'] as const) {
    updateBar(r.res[k].bar, u[k], k === 'vcpu' ? vcpuUnit : units[k]);
    setText(r.res[k].fig, `${fmtPercent(fill(u[k]))} · ${units[k](u[k].free)} free of ${units[k](u[k].total)}`);
    setAttr(r.res[k].fig, 'class', fill(u[k]) >= HOT ? 'fig hot' : 'fig');
  }
  setText(r.cells.vms as HTMLElement, fmtInt(Number(n.running_vms ?? 0)));
  setText(r.cells.claims as HTMLElement, String((n.claims ?? []).length));
  const drift = (n.drift ?? []).length;
  const driftCell = r.cells.drift as HTMLElement;
  if (driftCell.dataset.n !== String(drift)) {
    driftCell.dataset.n = String(drift);
    replaceChildren(
      driftCell,
      drift > 0 ? h('span', { class: 'drift-badge' }, `${drift}`) : h('span', { class: 'ok' }, '0'),
    );
  }
  setText(r.cells.reported as HTMLElement, fmtAge(n.reported_at, nowMs));
  setAttr(r.cells.reported as HTMLElement, 'title', String(n.reported_at ?? ''));
};

const filterText = () => byId<HTMLInputElement>('filter-text').value;
const filterState = () => byId<HTMLSelectElement>('filter-state').value as StateFilter;

const renderFleet = (): void => {
  const nowMs = Date.now();
  const all = [...nodes.values()];
  renderTotals(all);
  for (const host of [...tiles.keys()]) if (!nodes.has(host)) tiles.delete(host);
  for (const host of [...rows.keys()]) if (!nodes.has(host)) rows.delete(host);
  const byName = sortNodes(all, 'host', 1);
  const tileEls = byName.map((n) => {
    let t = tiles.get(n.host);
    if (!t) {
      t = newTile(n.host);
      tiles.set(n.host, t);
    }
    updateTile(t, n);
    return t.el;
  });
  reorder(byId('tiles'), tileEls);

  const shown = sortNodes(all, sort.key, sort.dir).filter((n) => matches(n, filterText(), filterState()));
  const rowEls = shown.map((n) => {
    let r = rows.get(n.host);
    if (!r) {
      r = newRow(n.host);
      rows.set(n.host, r);
    }
    updateRow(r, n, nowMs);
    return r.tr;
  });
  reorder(byId('hosts').querySelector('tbody') as HTMLElement, rowEls);
  setText(byId('shown'), `${shown.length} of ${all.length} shown`);
  for (const th of byId('hosts').querySelectorAll('th')) {
    const key = th.dataset.key;
    if (key === sort.key) setAttr(th, 'aria-sort', sort.dir === 1 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
};

// ---------------------------------------------------------------- a host's detail

let hostSig = '';

const table = (headers: string[], body: Child[][], empty: string, numeric: number[] = []): HTMLElement =>
  body.length === 0
    ? h('p', { class: 'muted' }, empty)
    : h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ...headers.map((x, i) => h('th', { class: numeric.includes(i) ? 'num' : '' }, x)))),
        h(
          'tbody',
          {},
          ...body.map((r) => h('tr', {}, ...r.map((c, i) => h('td', { class: numeric.includes(i) ? 'num' : '' }, c)))),
        ),
      );

const n0 = (x: unknown) => fmtInt(Number(x ?? 0));
const uuidCell = (x: unknown) => h('span', { class: 'mono' }, String(x ?? ''));

const renderHost = (host: string): void => {
  const box = byId('host');
  const n = nodes.get(host);
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
    (list ?? []).map((e) => [
      uuidCell(e.instance_uuid),
      n0(e.vcpus),
      fmtMb(Number(e.memory_mb ?? 0)),
      fmtGb(Number(e.disk_gb ?? 0)),
      String(e.at ?? ''),
    ]);
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
            uuidCell(c.instance_uuid),
            n0(c.vcpus),
            fmtMb(Number(c.memory_mb ?? 0)),
            fmtGb(Number(c.disk_gb ?? 0)),
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
          (n.instances ?? []).map((i) => [
            uuidCell(i.uuid),
            n0(i.vcpus),
            fmtMb(Number(i.memory_mb ?? 0)),
            fmtGb(Number(i.disk_gb ?? 0)),
          ]),
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
            uuidCell(d.instance_uuid),
            n0(d.vcpus),
            fmtMb(Number(d.memory_mb ?? 0)),
            fmtGb(Number(d.disk_gb ?? 0)),
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

// ---------------------------------------------------------------- the decision explorer

let decisionShown = '';

const contribution = (w: DecisionModel['ranking'][number]['weighers'][number] | undefined): Child => {
  if (!w) return '—';
  return h(
    'span',
    { class: 'contrib', title: `raw ${w.raw}, normalized ${w.normalized}, × multiplier ${w.multiplier}` },
    h('span', { class: w.contribution < 0 ? 'neg' : '' }, fmtWeight(w.contribution)),
    h('span', { class: 'calc' }, ` = ${fmtWeight(w.normalized)} × ${fmtWeight(w.multiplier)} (raw ${fmtInt(w.raw)})`),
  );
};

const renderDecision = (m: DecisionModel, focus: string): void => {
  const box = byId('decision');
  const search = h('input', {
    type: 'search',
    id: 'rejection-filter',
    placeholder: 'host or filter…',
    spellcheck: 'false',
  });
  const rejBody = h('tbody', {});
  const withFigures = m.rejections.some((r) => r.figures || r.code);
  // The host asked about first, then the rarest reasons (the near misses) before the common ones, then by name.
  const countOf = new Map(m.filterCounts.map((c) => [c.filter, c.hosts]));
  const ordered = [...m.rejections].sort(
    (a, b) =>
      Number(b.host === focus) - Number(a.host === focus) ||
      (countOf.get(a.filter) ?? 0) - (countOf.get(b.filter) ?? 0) ||
      a.filter.localeCompare(b.filter) ||
      a.host.localeCompare(b.host),
  );
  const rejRows = ordered.map((r) => {
    // The sentence starts with the filter's name, which the column before already shows.
    const reason = r.filter && r.reason.startsWith(`${r.filter}: `) ? r.reason.slice(r.filter.length + 2) : r.reason;
    const tr = h(
      'tr',
      { 'data-host': r.host, class: r.host === focus ? 'hi' : '' },
      h('td', {}, h('a', { href: hostHref(r.host) }, r.host)),
      h('td', { class: 'filter-name' }, r.filter),
      h('td', { class: 'reason' }, reason),
      withFigures ? h('td', { class: 'figs' }, r.code ? `${r.code} ` : '', fmtFigures(r.figures)) : null,
    );
    return { r, tr };
  });
  const applySearch = () => {
    const q = search.value.trim().toLowerCase();
    rejBody.replaceChildren(
      ...rejRows
        .filter(({ r }) => !q || r.host.toLowerCase().includes(q) || r.filter.toLowerCase().includes(q))
        .map((x) => x.tr),
    );
  };
  search.addEventListener('input', applySearch);
  applySearch();
  const maxCount = Math.max(1, ...m.filterCounts.map((c) => c.hosts));
  const f = m.flavor;
  replaceChildren(
    box,
    h(
      'div',
      { class: 'card' },
      h(
        'div',
        { class: 'card-head' },
        h(
          'h2',
          {},
          'Decision ',
          h('span', { class: 'mono' }, m.id),
          ' ',
          m.placed ? h('span', { class: 'badge placed' }, 'placed') : h('span', { class: 'badge nvh' }, 'NoValidHost'),
        ),
        h('a', { href: '#fleet' }, '← Fleet'),
      ),
      focus ? h('div', { class: 'verdict', id: 'verdict' }, verdictOf(m, focus)) : null,
      h('p', { id: 'decision-summary' }, m.summary),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Request'),
        h(
          'dd',
          {},
          `${f.instances} × ${f.name ? `${f.name}: ` : ''}${fmtInt(f.vcpus)} vCPU, ${fmtMb(f.memory_mb)} RAM, ${fmtGb(f.disk_gb)} disk`,
        ),
        h('dt', {}, 'Decided'),
        h('dd', {}, m.decidedAt || '—'),
        h('dt', {}, 'Hosts considered'),
        h(
          'dd',
          {},
          `${fmtInt(m.hostsConsidered)}: ${fmtInt(m.rejections.length)} rejected, ${fmtInt(m.ranking.length)} ranked`,
        ),
      ),
      m.truncated
        ? h(
            'p',
            { class: 'error' },
            `This decision was too large to store whole: ${fmtInt(m.truncated.rejections_total)} rejections and ${fmtInt(m.truncated.ranking_total)} ranked hosts, of which the first are shown.`,
          )
        : null,
    ),
    m.filterCounts.length
      ? h(
          'div',
          { class: 'card' },
          h('h2', {}, 'Hosts rejected, per filter'),
          h(
            'div',
            { class: 'counts' },
            ...m.filterCounts.flatMap((c) => {
              const b = h(
                'div',
                { class: 'bar', role: 'img', 'aria-label': `${c.hosts} hosts` },
                h('span', { class: 'seg' }),
              );
              (b.firstChild as HTMLElement).style.width = `${(c.hosts / maxCount) * 100}%`;
              return [h('span', { class: 'filter-name' }, c.filter), b, h('span', {}, `${fmtInt(c.hosts)} host(s)`)];
            }),
          ),
        )
      : null,
    h(
      'div',
      { class: 'card', id: 'picks' },
      h('h2', {}, `Picks (${m.picks.length} of ${f.instances})`),
      table(
        ['#', 'Instance', 'Host', 'Weight'],
        m.picks.map((p, i) => [
          String(i + 1),
          uuidCell(p.instance_uuid),
          h('a', { href: hostHref(p.host) }, p.host),
          fmtWeight(p.weight),
        ]),
        'Nothing was placed.',
        [0, 3],
      ),
    ),
    h(
      'div',
      { class: 'card', id: 'ranking' },
      h('h2', {}, 'Survivors, best first, with each weigher’s contribution'),
      m.ranking.length
        ? h(
            'p',
            { class: 'muted' },
            'weight = Σ normalized × multiplier (Nova: each weigher’s raw values scaled into [0, 1] across the survivors).',
          )
        : null,
      table(
        ['#', 'Host', 'Weight', ...m.weighers],
        m.ranking.map((r, i) => [
          String(i + 1),
          h('a', { href: hostHref(r.host) }, r.host),
          h('strong', {}, fmtWeight(r.weight)),
          ...m.weighers.map((name) => contribution(r.weighers.find((w) => w.weigher === name))),
        ]),
        'No host passed every filter.',
        [0, 2],
      ),
    ),
    h(
      'div',
      { class: 'card', id: 'rejections' },
      h(
        'div',
        { class: 'card-head' },
        h('h2', {}, `Rejected hosts (${m.rejections.length})`),
        h('div', { class: 'filters' }, h('label', { for: 'rejection-filter' }, 'Find'), search),
      ),
      m.rejections.length
        ? h(
            'div',
            { class: 'scroll' },
            h(
              'table',
              {},
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  h('th', {}, 'Host'),
                  h('th', {}, 'Rejected by'),
                  h('th', {}, 'Why, in numbers'),
                  withFigures ? h('th', {}, 'Code and figures') : null,
                ),
              ),
              rejBody,
            ),
          )
        : h('p', { class: 'muted' }, 'No host was rejected.'),
    ),
  );
};

const showDecision = async (id: string, focus: string): Promise<void> => {
  const box = byId('decision');
  const key = `${id}|${focus}`;
  if (decisionShown === key) return;
  decisionShown = key;
  replaceChildren(box, h('div', { class: 'card' }, h('p', { class: 'muted' }, `Reading decision ${id}…`)));
  try {
    const m = decisionModel(await api(`/decisions/${encodeURIComponent(id)}`));
    if (decisionShown === key) renderDecision(m, focus);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return signedOut(e.message);
    decisionShown = '';
    replaceChildren(
      box,
      h(
        'div',
        { class: 'card' },
        h('h2', {}, 'Decision ', h('span', { class: 'mono' }, id)),
        h('p', { class: 'error' }, errorText(e)),
        h('a', { href: '#fleet' }, '← Fleet'),
      ),
    );
  }
};

// ---------------------------------------------------------------- polling, sign-in, routing

const errorText = (e: unknown): string =>
  e instanceof ApiError ? `${e.code}: ${e.message}` : `the API could not be reached (${(e as Error).message})`;

const readFleet = async (): Promise<NodeView[]> => {
  const all: NodeView[] = [];
  let next: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const q = next ? `?next=${encodeURIComponent(next)}` : '';
    const body = (await api(`/nodes${q}`)) as { nodes?: NodeView[]; next?: string };
    all.push(...(body.nodes ?? []).filter((n) => typeof n?.host === 'string'));
    next = body.next;
    if (!next) break;
  }
  return all;
};

const refresh = async (): Promise<void> => {
  const status = byId('refresh');
  try {
    const list = await readFleet();
    nodes.clear();
    for (const n of list) nodes.set(n.host, n);
    lastOkMs = Date.now();
    setText(status, `Updated ${new Date(lastOkMs).toLocaleTimeString()} · every ${POLL_MS / 1000} s`);
    status.classList.remove('stale');
    route();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return signedOut(e.message);
    status.classList.add('stale');
    setText(
      status,
      `Refresh failed (${errorText(e)}); last good ${lastOkMs ? new Date(lastOkMs).toLocaleTimeString() : 'never'}, retrying`,
    );
  }
};

const schedule = (): void => {
  window.clearTimeout(timer);
  timer = window.setTimeout(async () => {
    // A hidden tab does not poll; it refreshes when shown again.
    if (!document.hidden) await refresh();
    if (token) schedule();
  }, POLL_MS);
};

const show = (id: 'login' | 'fleet' | 'host' | 'decision'): void => {
  for (const s of ['login', 'fleet', 'host', 'decision']) byId(s).hidden = s !== id;
  byId('logout').hidden = id === 'login';
};

/** Renders the view the fragment names from the data at hand. */
const route = (): void => {
  if (!token) {
    show('login');
    return;
  }
  const p = parseFragment(location.hash);
  if (p.decision) {
    show('decision');
    void showDecision(p.decision, p.host ?? '');
  } else if (p.host) {
    show('host');
    renderHost(p.host);
  } else {
    show('fleet');
    renderFleet();
  }
};

const signedOut = (why?: string): void => {
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  window.clearTimeout(timer);
  nodes.clear();
  decisionShown = '';
  hostSig = '';
  const err = byId('login-error');
  err.hidden = !why;
  setText(err, why ? `The API refused the token: ${why}` : '');
  setText(byId('refresh'), '');
  show('login');
  byId<HTMLInputElement>('token-input').focus();
};

const signIn = async (t: string): Promise<void> => {
  token = t.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  await refresh();
  if (token) {
    route();
    schedule();
  }
};

/**
 * Signs in with a `#token=` (on load, or typed into the address bar of an open page); the token is taken
 * out of the address bar at once, so it is not left in history or on a shared screen.
 */
const tokenFromFragment = (): boolean => {
  const { token: t, ...rest } = parseFragment(location.hash);
  if (!t) return false;
  history.replaceState(null, '', `${location.pathname}${location.search}${fragmentOf(rest)}`);
  void signIn(t);
  return true;
};

const start = (): void => {
  buildTotals();
  if (!tokenFromFragment() && token) {
    void signIn(token);
  } else if (!token) {
    show('login');
  }
  byId('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void signIn(byId<HTMLInputElement>('token-input').value);
    byId<HTMLInputElement>('token-input').value = '';
  });
  byId('logout').addEventListener('click', () => signedOut());
  byId('decision-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = byId<HTMLInputElement>('decision-input').value.trim();
    if (id) location.hash = fragmentOf({ decision: id });
  });
  byId('filter-text').addEventListener('input', () => renderFleet());
  byId('filter-state').addEventListener('change', () => renderFleet());
  for (const th of byId('hosts').querySelectorAll('th')) {
    th.querySelector('button')?.addEventListener('click', () => {
      const key = th.dataset.key as SortKey;
      sort = sort.key === key ? { key, dir: sort.dir === 1 ? -1 : 1 } : { key, dir: 1 };
      renderFleet();
    });
  }
  window.addEventListener('hashchange', () => {
    if (!tokenFromFragment()) route();
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && token) void refresh();
  });
};

start();
