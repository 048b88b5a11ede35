/**
 * Per-node numeric overrides read from node metadata, after Nova's
 * `filters/utils.py` (`aggregate_values_from_key` + `validate_num_values`):
 * every value found is cast; several values give the minimum; any value that
 * does not cast falls back to the global setting as a whole.
 *
 * A node is one "aggregate" here, so several values are written comma-separated
 * in one metadata value (`"1.5,2.0"` → 1.5).
 */
import type { WeightMultiplierKey } from './types';

// Python's float() grammar (decimal, exponent, `_` digit groups, inf/nan), whitespace around allowed.
const PY_FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const PY_SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;
const PY_INT = /^[+-]?\d(?:_?\d)*$/;

/** Python's `float(text)`, or undefined where Python raises ValueError. */
export const pyFloat = (text: string): number | undefined => {
  const t = text.trim();
  if (PY_FLOAT.test(t)) return Number(t.replaceAll('_', ''));
  const special = PY_SPECIAL.exec(t);
  if (!special) return undefined;
  if (special[2]?.toLowerCase() === 'nan') return Number.NaN;
  return special[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
};

/** Python's `int(text)`, or undefined where Python raises ValueError. */
export const pyInt = (text: string): number | undefined => {
  const t = text.trim();
  return PY_INT.test(t) ? Number(t.replaceAll('_', '')) : undefined;
};

/** How a metadata value is cast, and which results are acceptable. */
export type NumberKind = 'ratio' | 'count' | 'multiplier';

const castOne = (raw: string, kind: NumberKind): number | undefined => {
  const v = kind === 'count' ? pyInt(raw) : pyFloat(raw);
  if (v === undefined || !Number.isFinite(v)) return undefined;
  // Ratios and limits below zero mean nothing; Nova would take them and reject every host.
  if (kind !== 'multiplier' && v < 0) return undefined;
  return v;
};

/**
 * The node's override for `key`, or `fallback` when the key is absent or any of
 * its comma-separated values is not a valid number of that kind.
 */
export const nodeNumber = (
  metadata: Readonly<Record<string, string>>,
  key: string,
  kind: NumberKind,
  fallback: number,
): number => {
  if (!Object.hasOwn(metadata, key)) return fallback;
  const raw = metadata[key] as string;
  let min = Number.POSITIVE_INFINITY;
  for (const part of raw.split(',')) {
    const v = castOne(part, kind);
    if (v === undefined) return fallback;
    if (v < min) min = v;
  }
  return min;
};

const MULTIPLIER_KEYS: readonly WeightMultiplierKey[] = [
  'ram_weight_multiplier',
  'cpu_weight_multiplier',
  'disk_weight_multiplier',
  'io_ops_weight_multiplier',
  'num_instances_weight_multiplier',
];

/** The shared "no overrides" value: most hosts have it, and the weighers test for it by identity. */
export const NO_OVERRIDES: Readonly<Partial<Record<WeightMultiplierKey, number>>> = Object.freeze({});

/**
 * The node's valid `<x>_weight_multiplier` overrides, resolved once per host
 * state (Nova's get_weight_multiplier reads them per weigher and host).
 */
export const weightMultiplierOverrides = (
  metadata: Readonly<Record<string, string>>,
): Readonly<Partial<Record<WeightMultiplierKey, number>>> => {
  let out: Partial<Record<WeightMultiplierKey, number>> | undefined;
  for (const key of MULTIPLIER_KEYS) {
    const v = nodeNumber(metadata, key, 'multiplier', Number.NaN);
    if (Number.isNaN(v)) continue;
    out ??= {};
    out[key] = v;
  }
  return out ?? NO_OVERRIDES;
};
