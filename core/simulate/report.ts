/**
 * How a simulation reads: a table with one column per configuration (the CLI
 * without --json, and simulation.md) and an SVG chart of hosts in use and
 * acceptance over the trace's time, one line per configuration. Pure strings.
 */
import type { ConfigResult, Series } from './replay';

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const int = (x: number) => x.toLocaleString('en-US');

/** The table's rows: label, then one cell per configuration. */
const rows = (results: readonly ConfigResult[]): string[][] => {
  const filters = [...new Set(results.flatMap((r) => Object.keys(r.rejected_by)))].sort();
  return [
    ['', ...results.map((r) => r.name)],
    ['placed', ...results.map((r) => int(r.placed))],
    ['rejected', ...results.map((r) => int(r.rejected))],
    ['acceptance rate', ...results.map((r) => pct(r.acceptance_rate))],
    ...filters.map((f) => [`  rejected by ${f}`, ...results.map((r) => int(r.rejected_by[f] ?? 0))]),
    ['hosts in use, peak', ...results.map((r) => int(r.hosts_used_peak))],
    ['hosts in use, end', ...results.map((r) => int(r.hosts_used_end))],
    ['vCPU utilization', ...results.map((r) => pct(r.utilization.vcpus))],
    ['RAM utilization', ...results.map((r) => pct(r.utilization.memory_mb))],
    ['disk utilization', ...results.map((r) => pct(r.utilization.disk_gb))],
    ['fragmentation', ...results.map((r) => pct(r.fragmentation))],
    ['decision ms p50', ...results.map((r) => r.decision_ms.p50.toFixed(3))],
    ['decision ms p99', ...results.map((r) => r.decision_ms.p99.toFixed(3))],
    ['deletes skipped', ...results.map((r) => int(r.deletes_skipped))],
  ];
};

/** Aligned text for a person: labels left, figures right. */
export const textTable = (results: readonly ConfigResult[]): string => {
  const t = rows(results);
  const widths = (t[0] as string[]).map((_, c) => Math.max(...t.map((r) => (r[c] ?? '').length)));
  return t
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[c] ?? 0))).join('   '))
    .join('\n');
};

/** The same table in Markdown. */
export const markdownTable = (results: readonly ConfigResult[]): string => {
  const t = rows(results);
  const [head, ...body] = t as [string[], ...string[][]];
  return [
    `| ${head.map((h) => h || 'metric').join(' | ')} |`,
    `|---|${head
      .slice(1)
      .map(() => '---:')
      .join('|')}|`,
    ...body.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
};

/** What simulation.md says about the run. */
export interface RunInfo {
  fleet: string;
  hosts: number;
  trace: string;
  events: number;
  instances: number;
  seed: number;
  configs: ReadonlyArray<{ name: string; file: string }>;
  chart: string;
}

/** simulation.md: the inputs, the table, the chart. */
export const markdownReport = (info: RunInfo, results: readonly ConfigResult[]): string =>
  [
    '# Simulation',
    '',
    `Fleet \`${info.fleet}\` (${int(info.hosts)} hosts), trace \`${info.trace}\` (${int(info.events)} events, ` +
      `${int(info.instances)} instances asked for), seed ${info.seed}; configurations: ` +
      `${info.configs.map((c) => `${c.name} (\`${c.file}\`)`).join(', ')}.`,
    '',
    markdownTable(results),
    '',
    `![Hosts in use and acceptance over time](${info.chart})`,
    '',
    'Acceptance is per time bin: instances placed ÷ instances asked for among the creates of that bin.',
    '',
  ].join('\n');

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** A step of 1, 2 or 5 × 10^k giving about `target` ticks over [0, max]. */
const niceStep = (max: number, target: number): number => {
  if (!(max > 0)) return 1;
  const raw = max / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
};

/** The time unit that keeps tick labels short. */
const timeUnit = (maxS: number): { div: number; name: string } =>
  maxS >= 3 * 86400
    ? { div: 86400, name: 'days' }
    : maxS >= 3 * 3600
      ? { div: 3600, name: 'hours' }
      : maxS >= 180
        ? { div: 60, name: 'minutes' }
        : { div: 1, name: 'seconds' };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/0+$/, ''));

/** One configuration's series, reduced to `bins` points: hosts in use at the bin's end, acceptance within it. */
export const binSeries = (s: Series, bins: number, t0: number, t1: number) => {
  const hosts: Array<number | null> = new Array(bins).fill(null);
  const acc: Array<number | null> = new Array(bins).fill(null);
  const span = t1 - t0 || 1;
  let e = 0;
  let prevPlaced = 0;
  let prevRejected = 0;
  for (let b = 0; b < bins; b++) {
    const end = t0 + (span * (b + 1)) / bins;
    while (e < s.t.length && ((s.t[e] as number) <= end || b === bins - 1)) e++;
    if (e === 0) continue;
    hosts[b] = s.hostsUsed[e - 1] as number;
    const placed = (s.placed[e - 1] as number) - prevPlaced;
    const rejected = (s.rejected[e - 1] as number) - prevRejected;
    if (placed + rejected > 0) acc[b] = placed / (placed + rejected);
    prevPlaced = s.placed[e - 1] as number;
    prevRejected = s.rejected[e - 1] as number;
  }
  return { hosts, acc };
};

/**
 * The chart: two panels over the trace's time — hosts in use (top) and
 * acceptance per time bin in % (bottom) — one coloured line per
 * configuration, a legend above.
 */
export const svgChart = (
  series: ReadonlyArray<{ name: string; series: Series }>,
  title = 'Hosts in use and acceptance over time',
): string => {
  const W = 960;
  const H = 620;
  const left = 78;
  const right = 24;
  const plotW = W - left - right;
  const top1 = 96;
  const h1 = 220;
  const top2 = top1 + h1 + 70;
  const h2 = 160;
  const bins = Math.min(240, Math.max(1, ...series.map((s) => s.series.t.length)));
  const t0 = 0;
  const t1 = Math.max(1, ...series.map((s) => (s.series.t.length ? (s.series.t[s.series.t.length - 1] as number) : 0)));
  const unit = timeUnit(t1);
  const binned = series.map((s) => ({ name: s.name, ...binSeries(s.series, bins, t0, t1) }));
  const maxHosts = Math.max(1, ...binned.flatMap((b) => b.hosts.map((h) => h ?? 0)));
  const hostStep = niceStep(maxHosts, 5);
  const hostTop = Math.ceil(maxHosts / hostStep) * hostStep;
  const x = (b: number) => left + (plotW * (b + 1)) / bins;
  const y1 = (v: number) => top1 + h1 - (h1 * v) / hostTop;
  const y2 = (v: number) => top2 + h2 - h2 * v;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    `<title>${esc(title)}: ${esc(series.map((s) => s.name).join(', '))}</title>`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${left}" y="28" font-size="18" font-weight="bold">${esc(title)}</text>`,
  );
  // Legend.
  let lx = left;
  binned.forEach((b, i) => {
    const c = COLORS[i % COLORS.length];
    out.push(
      `<line x1="${lx}" y1="52" x2="${lx + 28}" y2="52" stroke="${c}" stroke-width="3"/>`,
      `<text x="${lx + 34}" y="57">${esc(b.name)}</text>`,
    );
    lx += 34 + 8 * b.name.length + 32;
  });
  const panel = (top: number, h: number, label: string, ticks: Array<[number, string]>) => {
    out.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${h}" fill="none" stroke="#444"/>`);
    for (const [yy, text] of ticks) {
      out.push(
        `<line x1="${left}" y1="${yy}" x2="${left + plotW}" y2="${yy}" stroke="#ddd"/>`,
        `<text x="${left - 8}" y="${yy + 4}" text-anchor="end">${text}</text>`,
      );
    }
    out.push(
      `<text transform="translate(20 ${top + h / 2}) rotate(-90)" text-anchor="middle" font-weight="bold">${esc(label)}</text>`,
    );
    // Time axis.
    const tStep = niceStep(t1 / unit.div, 8);
    for (let v = 0; v <= t1 / unit.div + 1e-9; v += tStep) {
      const xx = left + (plotW * v * unit.div) / t1;
      out.push(
        `<line x1="${xx}" y1="${top + h}" x2="${xx}" y2="${top + h + 5}" stroke="#444"/>`,
        `<text x="${xx}" y="${top + h + 19}" text-anchor="middle">${num(v)}</text>`,
      );
    }
    out.push(
      `<text x="${left + plotW / 2}" y="${top + h + 38}" text-anchor="middle">time since the trace's start (${unit.name})</text>`,
    );
  };
  const hostTicks: Array<[number, string]> = [];
  for (let v = 0; v <= hostTop + 1e-9; v += hostStep) hostTicks.push([y1(v), num(v)]);
  panel(top1, h1, 'hosts in use', hostTicks);
  panel(
    top2,
    h2,
    'acceptance %',
    [0, 0.25, 0.5, 0.75, 1].map((v) => [y2(v), String(v * 100)]),
  );
  const path = (vals: Array<number | null>, y: (v: number) => number) => {
    let d = '';
    let pen = false;
    vals.forEach((v, b) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(b).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    return d;
  };
  binned.forEach((b, i) => {
    const c = COLORS[i % COLORS.length];
    // Later lines dashed a little so that equal series stay visible.
    const dash = i === 0 ? '' : ` stroke-dasharray="${6 + 2 * i},${3}"`;
    out.push(`<path d="${path(b.hosts, y1)}" fill="none" stroke="${c}" stroke-width="2"${dash}/>`);
    out.push(`<path d="${path(b.acc, y2)}" fill="none" stroke="${c}" stroke-width="2"${dash}/>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
};
