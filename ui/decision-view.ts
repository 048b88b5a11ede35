/**
 * The decision explorer (`#decision=<id>`, `&host=<name>` answers "why not that host"): the request,
 * the rejections per filter, the picks, the survivors with each weigher's contribution, and every
 * rejected host with its reason in numbers.
 */
import { type DecisionModel, decisionModel, verdictOf } from './decision-model';
import { byId, type Child, h, replaceChildren } from './dom';
import { fmtFigures, fmtGb, fmtInt, fmtMb, fmtWeight } from './format';
import { api, errorText, isUnauthorized } from './session';
import { hostHref, table, uuidCell } from './widgets';

/** The decision and focus host shown (or being read), so a refresh does not read it again. */
let decisionShown = '';

/** Forgets what is shown (on sign-out), so the next visit reads the decision again. */
export const forgetDecision = (): void => {
  decisionShown = '';
};

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
          `${fmtInt(m.hostsConsidered)}: ${fmtInt(m.paging?.rejectionsTotal ?? m.rejections.length)} rejected, ${fmtInt(m.ranking.length)} ranked`,
        ),
      ),
      m.paging
        ? h(
            'p',
            { class: 'muted' },
            `This decision is paged: the rejections below are the first ${fmtInt(m.rejections.length)} of ${fmtInt(m.paging.rejectionsTotal)} (page 1 of ${fmtInt(m.paging.pages)}, by host name). Ask for a host to see its verdict.`,
          )
        : null,
      m.truncated
        ? h(
            'p',
            { class: 'error' },
            `The ranking was too large to store whole: the first ${fmtInt(m.ranking.length)} of ${fmtInt(m.truncated.ranking_total)} ranked hosts are shown.`,
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

/**
 * Reads decision `id` and shows it, `focus` (a host, or '') answering "why not that host"; a refused
 * token goes to `signedOut`, any other failure is shown in place of the decision.
 */
export const showDecision = async (id: string, focus: string, signedOut: (why: string) => void): Promise<void> => {
  const box = byId('decision');
  const key = `${id}|${focus}`;
  if (decisionShown === key) return;
  decisionShown = key;
  replaceChildren(box, h('div', { class: 'card' }, h('p', { class: 'muted' }, `Reading decision ${id}…`)));
  try {
    const m = decisionModel(await api(`/decisions/${encodeURIComponent(id)}`));
    // A paged decision shows its first page; a host asked for on another page is read on its own (?host=).
    if (m.paging && focus && !m.rejections.some((r) => r.host === focus)) {
      const v = await api(`/decisions/${encodeURIComponent(id)}?host=${encodeURIComponent(focus)}`).catch(
        () => undefined,
      );
      const r = v as { verdict?: string; filter?: string; reason?: string } | undefined;
      if (r?.verdict === 'rejected')
        m.rejections.unshift({ host: focus, filter: r.filter ?? '', reason: r.reason ?? '' });
    }
    if (decisionShown === key) renderDecision(m, focus);
  } catch (e) {
    if (isUnauthorized(e)) return signedOut(e.message);
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
