/**
 * Nova's extra-specs operators (`nova/scheduler/filters/extra_specs_ops.py`),
 * shared by ComputeCapabilitiesFilter and AggregateInstanceExtraSpecsFilter.
 *
 * A requirement is `"<op> <operand>..."` split on whitespace:
 * - `=` numeric ≥ (`"= 4"` is "at least 4"), `==` numeric equal, `!=`, `>=`, `<=` numeric;
 * - `s==`, `s!=`, `s<`, `s<=`, `s>`, `s>=` string comparisons;
 * - `<in>` the operand is a substring of the value;
 * - `<all-in>` every operand is a substring of the value (a list is matched in its printed form);
 * - `<or>` the value equals one of the alternatives (`"<or> a <or> b"`);
 * - anything else: the whole requirement must equal the value.
 * Like Nova, an operator with no operand matches nothing, and `> 2` (no such
 * operator) is compared as the literal string "> 2".
 */
import { pyFloat } from '../node-overrides';

type Method = (value: string, operand: string) => boolean;

// Where Python's float() raises, Nova's filter would crash; here the host simply does not match.
const numeric =
  (cmp: (a: number, b: number) => boolean): Method =>
  (value, operand) => {
    const a = pyFloat(value);
    const b = pyFloat(operand);
    return a !== undefined && b !== undefined && cmp(a, b);
  };

const METHODS: Readonly<Record<string, Method>> = {
  '=': numeric((a, b) => a >= b),
  '==': numeric((a, b) => a === b),
  '!=': numeric((a, b) => a !== b),
  '>=': numeric((a, b) => a >= b),
  '<=': numeric((a, b) => a <= b),
  '<in>': (value, operand) => value.includes(operand),
  's==': (value, operand) => value === operand,
  's!=': (value, operand) => value !== operand,
  's<': (value, operand) => value < operand,
  's<=': (value, operand) => value <= operand,
  's>': (value, operand) => value > operand,
  's>=': (value, operand) => value >= operand,
};

/** Whether the host's `value` (undefined: the host has none) satisfies the requirement `req`. */
export const matchExtraSpec = (value: string | undefined, req: string): boolean => {
  const words = req.split(/\s+/).filter((w) => w !== '');
  const op = words[0];
  const method = op === undefined ? undefined : Object.hasOwn(METHODS, op) ? METHODS[op] : undefined;
  if (op !== '<or>' && op !== '<all-in>' && method === undefined) return value === req;
  if (value === undefined) return false;
  if (op === '<or>') {
    // Alternatives sit at odd positions: "<or> a <or> b".
    for (let i = 1; i < words.length; i += 2) if (words[i] === value) return true;
    return false;
  }
  if (words.length < 2) return false;
  if (op === '<all-in>') return words.slice(1).every((w) => value.includes(w));
  return (method as Method)(value, words[1] as string);
};
