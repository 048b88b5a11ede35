import { describe, expect, it } from 'vitest';
import { matchExtraSpec } from './extra-specs-ops';

// Every case of Nova's test_extra_specs_ops.py, plus a few edges.
describe('matchExtraSpec', () => {
  const allIn = "['aes', 'mmx', 'aux']"; // str() of a Python list, as Nova matches it
  const cases: [value: string | undefined, req: string, matches: boolean][] = [
    ['1', '1', true],
    ['', '1', false],
    ['3', '1', false],
    ['222', '2', false],
    ['4', '> 2', false], // no such operator: compared as the literal string "> 2"
    ['123', '= 123', true],
    ['124', '= 123', true], // "=" is numeric ≥
    ['34', '= 234', false],
    ['34', '=', false], // an operator without operand matches nothing
    ['123', 's== 123', true],
    ['1234', 's== 123', false],
    ['1234', 's!= 123', true],
    ['123', 's!= 123', false],
    ['1000', 's>= 234', false], // string order: "1000" < "234"
    ['1234', 's<= 1000', false],
    ['2', 's< 12', false],
    ['12', 's> 2', false],
    ['12311321', '<in> 11', true],
    ['12311321', '<in> 12311321', true],
    ['12311321', '<in> 12311321 <in>', true],
    ['12310321', '<in> 11', false],
    ['12310321', '<in> 11 <in>', false],
    ['12', '<or> 11 <or> 12', true],
    ['12', '<or> 11 <or> 12 <or>', true],
    ['13', '<or> 11 <or> 12', false],
    ['13', '<or> 11 <or> 12 <or>', false],
    ['2', '<= 10', true],
    ['3', '<= 2', false],
    ['3', '>= 1', true],
    ['2', '>= 3', false],
    [allIn, '<all-in> aes mmx', true],
    [allIn, '<all-in> mmx', true],
    [allIn, '<all-in>  txt', false],
    [allIn, '<all-in> txt 3dnow', false],
    [allIn, '<all-in> txt aes', false],
    ['4', '== 4.0', true],
    ['4', '!= 4.0', false],
    ['abc', '>= 1', false], // Nova would raise on float('abc'); here: no match
    [undefined, '= 1', false],
    [undefined, '1', false],
    ['x', '<or>', false],
  ];
  it.each(cases)('matches %j against %j → %s', (value, req, matches) => {
    expect(matchExtraSpec(value, req)).toBe(matches);
  });
});
