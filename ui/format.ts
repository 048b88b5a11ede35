/**
 * The dashboard's wording of figures and its fragment (`#host=…`), free of the DOM (unit-tested in
 * format.test.ts): every view formats numbers, units, ages and links through these.
 */

/** A figure with thousands separators, as the API gives it (no rounding of integers). */
export const fmtInt = (x: number): string =>
  Number.isInteger(x) ? x.toLocaleString('en-US') : x.toLocaleString('en-US', { maximumFractionDigits: 1 });

/** `x` in `small` units, or ÷ 1024 in `big` ones (one decimal) from 1024 on. */
const binary = (x: number, small: string, big: string): string =>
  Math.abs(x) >= 1024
    ? `${(x / 1024).toLocaleString('en-US', { maximumFractionDigits: 1 })} ${big}`
    : `${fmtInt(x)} ${small}`;

/** MB as the larger unit a person reads: "1.5 GiB", "512 MB". */
export const fmtMb = (mb: number): string => binary(mb, 'MB', 'GiB');

/** GB likewise: "1.5 TiB", "900 GB". */
export const fmtGb = (gb: number): string => binary(gb, 'GB', 'TiB');

export const fmtWeight = (w: number): string => (Number.isInteger(w) ? String(w) : w.toFixed(3));

export const fmtPercent = (f: number): string => `${Math.round(f * 100)}%`;

/** "12 s ago", "3 min ago", "2 h ago" for an ISO time `iso` seen at `nowMs`; "—" when unknown. */
export const fmtAge = (iso: string | undefined, nowMs: number): string => {
  const t = Date.parse(String(iso ?? ''));
  if (!Number.isFinite(t)) return '—';
  const s = Math.max(0, Math.round((nowMs - t) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
};

/** A typed rejection's figures as "requested 2048 · usable 1024" (nested values as compact JSON). */
export const fmtFigures = (f: Record<string, unknown> | undefined): string =>
  Object.entries(f ?? {})
    .map(([k, v]) => `${k} ${typeof v === 'number' ? fmtInt(v) : typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' · ');

/**
 * The fragment's parameters: `#token=…&decision=…&host=…`. A fragment never reaches a server, which is
 * why the contract lets the token ride in it.
 */
export const parseFragment = (hash: string): Record<string, string> =>
  Object.fromEntries(new URLSearchParams(hash.replace(/^#/, '')).entries());

/** The fragment for `params`, leaving out empty values. */
export const fragmentOf = (params: Record<string, string | undefined>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `#${s}` : '';
};
