/** Integers as they are, fractions to one decimal: reasons stay readable. */
export const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));
