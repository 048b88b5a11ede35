/**
 * Output for people: aligned tables, usage bars, units, colour only for a
 * terminal (never when stdout is not a TTY or NO_COLOR is set, after no-color.org),
 * and a progress line on stderr that only a terminal sees.
 */

/** Whether to colour: a TTY, and NO_COLOR unset or empty. */
export const colourFor = (stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean =>
  Boolean(stream.isTTY) && !env.NO_COLOR;

/** ANSI SGR codes by meaning. */
const SGR = { used: '36', claimed: '33', free: '2', good: '32', bad: '31', warn: '33', dim: '2', bold: '1' } as const;
export type Tone = keyof typeof SGR;

/** Paints text, or leaves it alone when colour is off. */
export type Paint = (tone: Tone, text: string) => string;
export const painter =
  (colour: boolean): Paint =>
  (tone, text) =>
    colour && text !== '' ? `\x1b[${SGR[tone]}m${text}\x1b[0m` : text;

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what it strips.
const ANSI = /\x1b\[[0-9;]*m/g;
/** The text without its colour escapes. */
export const unpainted = (s: string): string => s.replace(ANSI, '');
/** Width on a terminal: escapes take none. */
export const visible = (s: string): number => [...unpainted(s)].length;

/** Columns aligned to the widest cell; numbers (align `r`) to the right. The last column is not padded. */
export const table = (header: string[], rows: string[][], align: Array<'l' | 'r'> = []): string => {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => visible(r[i] ?? ''))));
  return all
    .map((r) =>
      r
        .map((cell, i) => {
          const pad = ' '.repeat((widths[i] ?? 0) - visible(cell));
          if (align[i] === 'r') return pad + cell;
          return i === r.length - 1 ? cell : cell + pad;
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};

/** `key  value` lines, keys aligned. */
export const pairs = (rows: Array<[string, string]>, indent = '  '): string => {
  const w = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(w)}  ${v}`).join('\n');
};

/**
 * A bar of `width` cells: used (█), then claimed (▒), then free (░), each share
 * of `total` rounded so that the cells always add up to `width`. Usage beyond the
 * total (an allocation ratio above 1) fills the bar.
 */
export const bar = (used: number, claimed: number, total: number, width: number, paint: Paint): string => {
  if (!(total > 0)) return paint('dim', '·'.repeat(width));
  const cells = (x: number) => Math.min(width, Math.max(0, Math.round((x / total) * width)));
  const u = cells(used);
  const c = cells(used + Math.max(0, claimed)) - u;
  return paint('used', '█'.repeat(u)) + paint('claimed', '▒'.repeat(c)) + paint('free', '░'.repeat(width - u - c));
};

/** MB for people: `512M`, `2.0G`, `64G`. */
export const mb = (n: number): string => {
  if (Math.abs(n) < 1024) return `${n}M`;
  const g = n / 1024;
  return Math.abs(g) < 10 ? `${g.toFixed(1)}G` : `${Math.round(g)}G`;
};
/** GB for people: `20G`, `1.5T`. */
export const gb = (n: number): string => (Math.abs(n) < 1024 ? `${n}G` : `${(n / 1024).toFixed(1)}T`);

/** A weigher's contribution with its sign: `+1.000`, `-0.250`. */
export const signed = (x: number): string => `${x < 0 ? '-' : '+'}${Math.abs(x).toFixed(3)}`;

/** A transient progress line on stderr, redrawn in place; silent unless stderr is a terminal. */
export class Progress {
  private shown = false;
  constructor(private readonly stream: { isTTY?: boolean; write(s: string): boolean } = process.stderr) {}

  update(text: string): void {
    if (!this.stream.isTTY) return;
    this.stream.write(`\r\x1b[K${text}`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
