import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Replaces (or appends) one `## title` section of a markdown file, keeping every other section
 * as it is; within it, replaces (or appends) one `### subtitle` block when `subtitle` is given.
 * bench/run.ts rewrites docs/performance.md whole; the fleet bench owns only its section.
 */
export const upsertSection = (file: string, title: string, intro: string, subtitle: string, body: string): void => {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Performance\n';
  const head = `## ${title}`;
  const lines = text.split('\n');
  const start = lines.indexOf(head);
  const end = start < 0 ? -1 : lines.findIndex((l, i) => i > start && l.startsWith('## '));
  const section = start < 0 ? [] : lines.slice(start + 1, end < 0 ? undefined : end);
  // Sub-blocks of the section: keep the others, replace ours.
  const blocks = new Map<string, string[]>();
  let current: string | undefined;
  for (const l of section) {
    if (l.startsWith('### ')) {
      current = l.slice(4);
      blocks.set(current, []);
    } else if (current !== undefined) blocks.get(current)?.push(l);
  }
  blocks.set(subtitle, ['', body.trimEnd(), '']);
  const rendered = [head, '', intro.trimEnd(), ''];
  for (const [t, b] of blocks) rendered.push(`### ${t}`, ...b);
  const before = start < 0 ? lines : lines.slice(0, start);
  const after = start < 0 || end < 0 ? [] : lines.slice(end);
  const out = [...before, ...(start < 0 && before.at(-1) !== '' ? [''] : []), ...rendered, ...after]
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
  writeFileSync(file, out.endsWith('\n') ? out : `${out}\n`);
};

/**
 * The text of one `## title` section of `file` (heading included), or '' when it has none: what
 * bench/run.ts carries over when it rewrites the file, so the fleet bench's section survives.
 */
export const sectionText = (file: string, title: string): string => {
  if (!existsSync(file)) return '';
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines.indexOf(`## ${title}`);
  if (start < 0) return '';
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return lines
    .slice(start, end < 0 ? undefined : end)
    .join('\n')
    .trimEnd();
};

/**
 * A markdown table of one row per run, with `row` put in place of the row whose first `keyCells`
 * cells are the same (or added), rows sorted by those cells (numbers by value): the runs of a
 * section's summary table accumulate. `previous` is the section's text (sectionText); its first
 * table before any `###` block is read as the old table, and rows of another width are dropped
 * (an older layout).
 */
export const upsertTableRow = (previous: string, header: readonly string[], row: readonly string[], keyCells = 2) => {
  const cells = (l: string) =>
    l
      .trim()
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((c) => c.trim());
  const head = previous.split('\n###')[0] ?? '';
  const old = head
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .slice(2)
    .map(cells)
    .filter((r) => r.length === header.length);
  const key = (r: readonly string[]) => r.slice(0, keyCells).join('|');
  const rows = [...old.filter((r) => key(r) !== key(row)), [...row]];
  const num = (c: string) => Number(c.replace(/[^\d.]/g, ''));
  rows.sort((a, b) => {
    for (let i = 0; i < keyCells; i++) {
      const d = num(a[i] ?? '') - num(b[i] ?? '') || (a[i] ?? '').localeCompare(b[i] ?? '');
      if (d !== 0) return d;
    }
    return 0;
  });
  const line = (r: readonly string[]) => `| ${r.join(' | ')} |`;
  return [line(header), `|${header.map((_, i) => (i < keyCells ? '---:' : '---')).join('|')}|`, ...rows.map(line)].join(
    '\n',
  );
};
