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
 * operator) is compared as the literal string "> 2". Where Python's float()
 * raises (a non-numeric value under a numeric operator) Nova's filter would
 * crash; here the host simply does not match.
 */
import { pyFloat } from '../node-overrides';

/** A compiled extra-spec requirement: whether the host's value (undefined: none) satisfies it. */
export interface ExtraSpecMatcher {
  (value: string | undefined): boolean;
  /** For numeric operators: the same test on a number, without printing and parsing it. */
  number?: (value: number) => boolean;
}

type Test = ((value: string) => boolean) & { number?: (value: number) => boolean };
type Compiler = (operand: string) => Test;

const numeric =
  (cmp: (a: number, b: number) => boolean): Compiler =>
  (operand) => {
    const b = pyFloat(operand);
    if (b === undefined) return Object.assign(() => false, { number: () => false });
    const test: Test = (value) => {
      const a = pyFloat(value);
      return a !== undefined && cmp(a, b);
    };
    test.number = (a) => cmp(a, b);
    return test;
  };

const OPERATORS: Readonly<Record<string, Compiler>> = {
  '=': numeric((a, b) => a >= b),
  '==': numeric((a, b) => a === b),
  '!=': numeric((a, b) => a !== b),
  '>=': numeric((a, b) => a >= b),
  '<=': numeric((a, b) => a <= b),
  '<in>': (operand) => (value) => value.includes(operand),
  's==': (operand) => (value) => value === operand,
  's!=': (operand) => (value) => value !== operand,
  's<': (operand) => (value) => value < operand,
  's<=': (operand) => (value) => value <= operand,
  's>': (operand) => (value) => value > operand,
  's>=': (operand) => (value) => value >= operand,
};

const never: ExtraSpecMatcher = () => false;

/** Compiles the requirement `req` once per request; the matcher then runs per host. */
export const compileExtraSpec = (req: string): ExtraSpecMatcher => {
  const words = req.split(/\s+/).filter((w) => w !== '');
  const op = words[0] ?? '';
  if (op === '<or>') {
    // Alternatives sit at odd positions: "<or> a <or> b".
    const alternatives = words.filter((_, i) => i % 2 === 1);
    return (value) => value !== undefined && alternatives.includes(value);
  }
  const compiler = Object.hasOwn(OPERATORS, op) ? OPERATORS[op] : undefined;
  if (op !== '<all-in>' && compiler === undefined) return (value) => value === req;
  if (words.length < 2) return never;
  if (op === '<all-in>') {
    const all = words.slice(1);
    return (value) => value !== undefined && all.every((w) => value.includes(w));
  }
  const test = (compiler as Compiler)(words[1] as string);
  const matcher: ExtraSpecMatcher = (value) => value !== undefined && test(value);
  if (test.number) matcher.number = test.number;
  return matcher;
};

/** Whether the host's `value` (undefined: the host has none) satisfies the requirement `req`. */
export const matchExtraSpec = (value: string | undefined, req: string): boolean => compileExtraSpec(req)(value);
