import { describe, expect, it } from 'vitest';
import { normalize } from './normalize';

// Nova's test_weights.py / nova/weights.py normalize.
describe('normalize', () => {
  it('scales into [0, 1] between the smallest and largest value', () => {
    // (v − 1) / (10 − 1)
    expect(normalize([1, 5.5, 10])).toEqual([0, 0.5, 1]);
  });
  it('gives 0 to every value when all are equal', () => {
    expect(normalize([3, 3, 3])).toEqual([0, 0, 0]);
  });
  it('returns nothing for nothing', () => {
    expect(normalize([])).toEqual([]);
  });
  it('uses a given minval instead of the smallest value', () => {
    // minval 0: v / 8192
    expect(normalize([512, 1024, 3072, 8192], 0)).toEqual([0.0625, 0.125, 0.375, 1]);
  });
  it('clamps values below minval to it (Nova since bug 1870096)', () => {
    // −512 → 0; then / 8192
    expect(normalize([-512, 8192], 0)).toEqual([0, 1]);
  });
  it('uses a given maxval and clamps above it', () => {
    expect(normalize([0, 5, 20], 0, 10)).toEqual([0, 0.5, 1]);
  });
  it('gives 0 to every value when minval equals the largest value', () => {
    expect(normalize([-3, -1, 0], 0)).toEqual([0, 0, 0]);
  });
});
