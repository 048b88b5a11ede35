/**
 * The fleet view (`#fleet`): the totals, the picture (one tile per host) and the host table. Rows and
 * tiles are keyed by host and only changed text is written, so scroll, sort and filter survive every
 * refresh.
 */
import { byId, type Child, h, replaceChildren, setAttr, setText } from './dom';
import { fmtAge, fmtGb, fmtInt, fmtMb, fmtPercent } from './format';
import {
  fill,
  fleetTotals,
  hostState,
  hostUsage,
  matches,
  type NodeView,
  type SortKey,
  type StateFilter,
  sortNodes,
  type Usage,
} from './model';
import { bar, HOT, hostHref, partsOf, reorder, type Unit, updateBar, vcpuUnit } from './widgets';

// ---------------------------------------------------------------- fleet totals

interface TotalRefs {
  big: HTMLElement;
  bar?: HTMLElement;
  parts: HTMLElement;
}
const totalRefs = new Map<string, TotalRefs>();

/** Builds the four total cards (hosts, vCPU, RAM, disk) once, at start. */
export const buildTotals = (): void => {
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

/** The host table's order: a column and a direction; a click on the sorted column turns it round. */
let sort: { key: SortKey; dir: 1 | -1 } = { key: 'host', dir: 1 };

/** Sorts the host table by `key`, or the other way round when it is sorted by `key` already. */
export const sortBy = (key: SortKey): void => {
  sort = sort.key === key ? { key, dir: sort.dir === 1 ? -1 : 1 } : { key, dir: 1 };
};

/** The element kept for `host` in `cache`, made by `make` the first time the host is seen. */
const keyed = <T>(cache: Map<string, T>, host: string, make: (host: string) => T): T => {
  let refs = cache.get(host);
  if (!refs) {
    refs = make(host);
    cache.set(host, refs);
  }
  return refs;
};

/**
 * Renders the fleet view from `nodes` in place: the totals, a tile per host (by name) and the host
 * table (sorted and filtered); what a host that left the fleet had is dropped.
 */
export const renderFleet = (nodes: ReadonlyMap<string, NodeView>): void => {
  const nowMs = Date.now();
  const all = [...nodes.values()];
  renderTotals(all);
  for (const host of [...tiles.keys()]) if (!nodes.has(host)) tiles.delete(host);
  for (const host of [...rows.keys()]) if (!nodes.has(host)) rows.delete(host);
  const byName = sortNodes(all, 'host', 1);
  const tileEls = byName.map((n) => {
    const t = keyed(tiles, n.host, newTile);
    updateTile(t, n);
    return t.el;
  });
  reorder(byId('tiles'), tileEls);

  const shown = sortNodes(all, sort.key, sort.dir).filter((n) => matches(n, filterText(), filterState()));
  const rowEls = shown.map((n) => {
    const r = keyed(rows, n.host, newRow);
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
