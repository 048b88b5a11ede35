/**
 * Nova's weight normalization (`nova/weights.py` normalize): scale values into
 * [0, 1] against `minval`/`maxval`, each taken from the values themselves when
 * the weigher does not set it; when min equals max every value becomes 0.
 * Values are first clamped into [minval, maxval] where those are set, as Nova
 * does since bug 1870096 (2020) in `BaseWeigher.weigh_objects`.
 */

/** Normalizes `values` in place (Float64Array, no allocation); returns it. */
export const normalizeInPlace = (
  values: Float64Array,
  n: number = values.length,
  minval?: number,
  maxval?: number,
): Float64Array => {
  if (n === 0) return values;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    let v = values[i] as number;
    if (minval !== undefined && v < minval) v = minval;
    if (maxval !== undefined && v > maxval) v = maxval;
    values[i] = v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const min = minval ?? lo;
  const max = maxval ?? hi;
  if (min === max) {
    values.fill(0, 0, n);
    return values;
  }
  const range = max - min;
  for (let i = 0; i < n; i++) values[i] = ((values[i] as number) - min) / range;
  return values;
};

/** Nova's `normalize(weight_list, minval, maxval)` on a plain list. */
export const normalize = (values: readonly number[], minval?: number, maxval?: number): number[] =>
  Array.from(normalizeInPlace(Float64Array.from(values), values.length, minval, maxval));
