/**
 * Picking among the weighed survivors (Nova's `_get_sorted_hosts`): the hosts
 * tied for the best weight (shuffled when asked), then the next best, up to
 * `host_subset_size`; one of those at random.
 */

/** Fisher–Yates for the first `k` places of `a`: a uniform random k-subset, in random order. */
const partialShuffle = (a: number[], k: number, rng: () => number): void => {
  for (let i = 0; i < k; i++) {
    const j = Math.min(a.length - 1, i + Math.floor(rng() * (a.length - i)));
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
};

/**
 * Nova's selection without sorting everyone: returns the position of the
 * picked survivor among the first `s` of `total`.
 */
export const selectHost = (
  total: Float64Array,
  s: number,
  subsetSize: number,
  shuffleBest: boolean,
  rng: () => number,
): number => {
  let best = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < s; j++) if ((total[j] as number) > best) best = total[j] as number;
  const top: number[] = [];
  for (let j = 0; j < s; j++) if (total[j] === best) top.push(j);
  // Only NaN weights (a broken weigher input): treat everyone as tied rather than fail.
  if (top.length === 0) for (let j = 0; j < s; j++) top.push(j);
  // Shuffling only the first `subsetSize` places draws the same uniform subset as Nova's full shuffle.
  if (shuffleBest) partialShuffle(top, Math.min(subsetSize, top.length), rng);
  if (top.length < subsetSize) {
    const rest: number[] = [];
    for (let j = 0; j < s; j++) if (total[j] !== best) rest.push(j);
    rest.sort((a, b) => (total[b] as number) - (total[a] as number) || a - b);
    for (const j of rest) {
      if (top.length >= subsetSize) break;
      top.push(j);
    }
  }
  const subset = Math.min(subsetSize, top.length);
  return top[Math.min(subset - 1, Math.floor(rng() * subset))] as number;
};
