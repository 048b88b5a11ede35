import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { topByWeight } from './rank';

/** What topByWeight must equal: every position sorted by weight, best first, ties in fleet order. */
const bySort = (total: Float64Array, s: number, limit: number): number[] =>
  Array.from({ length: s }, (_, j) => j)
    .sort((a, b) => (total[b] as number) - (total[a] as number) || a - b)
    .slice(0, Math.max(0, limit));

describe('topByWeight', () => {
  it('equals a stable sort cut to the limit, ties (few distinct weights) included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 300 }),
        fc.integer({ min: 0, max: 320 }),
        fc.boolean(),
        (weights, limit, fractional) => {
          const total = Float64Array.from(weights, (w) => (fractional ? w / 7 : w));
          expect(Array.from(topByWeight(total, total.length, limit))).toEqual(bySort(total, total.length, limit));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads only the first s weights of a longer buffer', () => {
    const total = Float64Array.from([1, 5, 3, 9, 9]);
    expect(Array.from(topByWeight(total, 3, 2))).toEqual([1, 2]);
    expect(Array.from(topByWeight(total, 3, 3))).toEqual([1, 2, 0]);
  });
});
