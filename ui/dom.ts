/**
 * The page's only way to make DOM: text goes in as text nodes, attributes through setAttribute, never
 * markup. Host names, metadata and reasons come from clients; none of them is ever parsed as HTML.
 */

export type Child = Node | string | number | null | undefined | false;

type Attrs = Record<string, string | number | boolean | undefined>;

/** `h('td', { class: 'num' }, 'text', el)`: an element with attributes and children, all escaped by construction. */
export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    // Event-handler attributes are never set from here (and the CSP would refuse them anyway).
    if (v === undefined || v === false || /^on/i.test(k)) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
};

export const append = (el: Node, children: readonly Child[]): void => {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
};

/** Sets text only when it changed: a poll that brings the same figures touches nothing. */
export const setText = (el: Element, text: string): void => {
  if (el.textContent !== text) el.textContent = text;
};

export const setAttr = (el: Element, name: string, value: string): void => {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
};

/** Replaces an element's children. */
export const replaceChildren = (el: Element, ...children: Child[]): void => {
  el.replaceChildren();
  append(el, children);
};

export const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};
