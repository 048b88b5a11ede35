/**
 * The dashboard (GET /dashboard), wiring its parts: signs in with the operator's token (session.ts),
 * polls GET /nodes and routes the fragment to a view — the fleet (fleet-view.ts), a host's detail
 * (`#host=<name>`, host-view.ts) or a stored decision (`#decision=<id>`, `&host=<name>` answers "why not
 * that host", decision-view.ts).
 */
import { forgetDecision, showDecision } from './decision-view';
import { byId, setText } from './dom';
import { buildTotals, renderFleet, sortBy } from './fleet-view';
import { fragmentOf, parseFragment } from './format';
import { forgetHost, renderHost } from './host-view';
import type { NodeView, SortKey } from './model';
import { currentToken, dropToken, errorText, isUnauthorized, keepToken, readFleet } from './session';

/** How often the fleet is read again. */
const POLL_MS = 5000;

/** The fleet as last read, by host. */
const nodes = new Map<string, NodeView>();
let timer: number | undefined;
let lastOkMs = 0;

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
    if (isUnauthorized(e)) return signedOut(e.message);
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
    if (currentToken()) schedule();
  }, POLL_MS);
};

const show = (id: 'login' | 'fleet' | 'host' | 'decision'): void => {
  for (const s of ['login', 'fleet', 'host', 'decision']) byId(s).hidden = s !== id;
  byId('logout').hidden = id === 'login';
};

/** Renders the view the fragment names from the data at hand. */
const route = (): void => {
  if (!currentToken()) {
    show('login');
    return;
  }
  const p = parseFragment(location.hash);
  if (p.decision) {
    show('decision');
    void showDecision(p.decision, p.host ?? '', signedOut);
  } else if (p.host) {
    show('host');
    renderHost(p.host, nodes.get(p.host));
  } else {
    show('fleet');
    renderFleet(nodes);
  }
};

const signedOut = (why?: string): void => {
  dropToken();
  window.clearTimeout(timer);
  nodes.clear();
  forgetDecision();
  forgetHost();
  const err = byId('login-error');
  err.hidden = !why;
  setText(err, why ? `The API refused the token: ${why}` : '');
  setText(byId('refresh'), '');
  show('login');
  byId<HTMLInputElement>('token-input').focus();
};

const signIn = async (t: string): Promise<void> => {
  keepToken(t);
  await refresh();
  if (currentToken()) {
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
  if (!tokenFromFragment() && currentToken()) {
    void signIn(currentToken());
  } else if (!currentToken()) {
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
  byId('filter-text').addEventListener('input', () => renderFleet(nodes));
  byId('filter-state').addEventListener('change', () => renderFleet(nodes));
  for (const th of byId('hosts').querySelectorAll('th')) {
    th.querySelector('button')?.addEventListener('click', () => {
      sortBy(th.dataset.key as SortKey);
      renderFleet(nodes);
    });
  }
  window.addEventListener('hashchange', () => {
    if (!tokenFromFragment()) route();
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && currentToken()) void refresh();
  });
};

start();
