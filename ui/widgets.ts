/**
 * The pieces every view of the dashboard builds from: the stacked used / claimed / free bar and its
 * legend, a plain table, links to a host, and an in-place reorder of keyed elements.
 */
import { type Child, h, setAttr } from './dom';
import { fmtInt, fragmentOf } from './format';
import type { Usage } from './model';

/** A resource this full is shown hot (bold, vermillion). */
export const HOT = 0.9;

/** The fragment that opens a host's detail. */
export const hostHref = (host: string): string => fragmentOf({ host });

/** Words a figure of one resource with its unit (`fmtMb`, `fmtGb`, `vcpuUnit`). */
export type Unit = (x: number) => string;
export const vcpuUnit: Unit = (x) => `${fmtInt(x)} vCPU`;

/** A stacked bar: used, claimed, free; widths against capacity (or the parts' sum when overcommitted). */
export const bar = (u?: Usage): HTMLDivElement => {
  const el = h(
    'div',
    { class: 'bar', role: 'img' },
    h('span', { class: 'seg used' }),
    h('span', { class: 'seg claimed' }),
  );
  if (u) updateBar(el, u, vcpuUnit);
  return el;
};

/** Sets a bar's widths and its spoken label to `u`, touching only what changed. */
export const updateBar = (el: HTMLElement, u: Usage, unit: Unit): void => {
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

/** The legend under a bar: a swatch and a figure for used, claimed and free. */
export const partsOf = (u: Usage, unit: Unit): Child[] => [
  h('span', {}, h('i', { class: 'sw used' }), `used ${unit(u.used)}`),
  h('span', {}, h('i', { class: 'sw claimed' }), `claimed ${unit(u.claimed)}`),
  h('span', {}, h('i', { class: 'sw free' }), `free ${unit(u.free)}`),
];

/** A table of `body` rows under `headers` (the `numeric` columns right-aligned), or `empty` as a line. */
export const table = (headers: string[], body: Child[][], empty: string, numeric: number[] = []): HTMLElement =>
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

/** A count from the API (missing: 0) with thousands separators. */
export const n0 = (x: unknown) => fmtInt(Number(x ?? 0));
/** An instance uuid, set in the monospace face. */
export const uuidCell = (x: unknown) => h('span', { class: 'mono' }, String(x ?? ''));

/** Puts `els` into `box` in this order, moving only what is out of place and removing what is not listed. */
export const reorder = (box: Element, els: readonly Element[]): void => {
  els.forEach((el, i) => {
    if (box.children[i] !== el) box.insertBefore(el, box.children[i] ?? null);
  });
  while (box.children.length > els.length) box.lastElementChild?.remove();
};
