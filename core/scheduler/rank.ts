/**
 * Weighing the survivors of a pass (Nova's `get_weighed_objects`): each
 * weigher's raw value and multiplier per host, normalized per weigher, summed
 * into one weight per survivor; and the ranking with each weigher's part.
 */
import type { HostState, RequestSpec, Weigher, WeightMultiplierKey } from './types';
import { weightMultiplier } from './weighers/index';
import { normalizeInPlace } from './weighers/normalize';

/** One weigher's part in a host's weight. */
export interface WeigherContribution {
  weigher: string;
  raw: number;
  /** In [0, 1] against the candidates' range (0 when all are equal or only one host is left). */
  normalized: number;
  multiplier: number;
  /** multiplier × normalized. */
  contribution: number;
}

/** A surviving host with its weight, best first. */
export interface RankedHost {
  host: string;
  weight: number;
  weighers: WeigherContribution[];
}

/**
 * The weights of one call: for each weigher a column of raw values, one of
 * multipliers and one of normalized values, each `stride` long (the fleet for
 * the first pass, which has the most survivors; later passes reuse the front).
 * Owned by one `schedule` call: nothing is shared between calls.
 */
export class Weights {
  private readonly raws: Float64Array;
  private readonly mults: Float64Array;
  private readonly norms: Float64Array;
  private readonly globals: Float64Array;
  /** The weight of each survivor of the current pass. */
  readonly total: Float64Array;
  private stride: number;

  constructor(
    private readonly weighers: readonly Weigher[],
    opts: Readonly<Record<WeightMultiplierKey, number>>,
    capacity: number,
  ) {
    const cells = weighers.length * capacity;
    this.raws = new Float64Array(cells);
    this.mults = new Float64Array(cells);
    this.norms = new Float64Array(cells);
    this.total = new Float64Array(capacity);
    this.globals = Float64Array.from(weighers, (w) => opts[w.multiplierKey]);
    this.stride = capacity;
  }

  /** Starts a pass with at most `candidates` survivors. */
  startPass(candidates: number): void {
    this.stride = candidates;
  }

  /**
   * Takes survivor `j`'s raw values and multipliers. The scheduler calls it as
   * soon as a host passes the filters, while the host is still in cache: at
   * 100k hosts, walking them again per weigher is a trip to main memory each time.
   */
  weigh(h: HostState, spec: RequestSpec, j: number): void {
    const weighers = this.weighers;
    const stride = this.stride;
    for (let wi = 0; wi < weighers.length; wi++) {
      const w = weighers[wi] as Weigher;
      const at = wi * stride + j;
      this.raws[at] = w.weigh(h, spec);
      this.mults[at] = weightMultiplier(h, w, this.globals[wi] as number);
    }
  }

  /**
   * Sums the `s` survivors' weights into `total`: Σ multiplier × normalized.
   * A lone host is not weighed (Nova): its weight is 0.
   */
  sum(s: number): void {
    const { raws, norms, mults, total, stride } = this;
    total.fill(0, 0, s);
    for (let wi = 0; wi < this.weighers.length; wi++) {
      const w = this.weighers[wi] as Weigher;
      const col = wi * stride;
      const norm = norms.subarray(col, col + s);
      norm.set(raws.subarray(col, col + s));
      if (s > 1) normalizeInPlace(norm, s, w.minval, w.maxval);
      else norm[0] = 0;
      for (let j = 0; j < s; j++) total[j] = (total[j] as number) + (mults[col + j] as number) * (norm[j] as number);
    }
  }

  /** Survivor `j`'s breakdown, after `sum`. */
  parts(j: number): WeigherContribution[] {
    const { raws, norms, mults, stride } = this;
    return this.weighers.map((w, wi) => {
      const normalized = norms[wi * stride + j] as number;
      const multiplier = mults[wi * stride + j] as number;
      // `+ 0` turns −0 (a negative multiplier times 0) into 0.
      return {
        weigher: w.name,
        raw: raws[wi * stride + j] as number,
        normalized,
        multiplier,
        contribution: multiplier * normalized + 0,
      };
    });
  }
}

/**
 * The first `limit` of `s` survivors by weight, best first (ties keep fleet
 * order, as Python's stable sort), as positions. A short ranking is kept by
 * insertion instead of sorting every survivor: a stored decision keeps the best
 * 20 of thousands.
 */
export const topByWeight = (total: Float64Array, s: number, limit: number): ArrayLike<number> => {
  if (limit >= s || limit > 64) {
    const all = new Int32Array(s);
    for (let j = 0; j < s; j++) all[j] = j;
    all.sort((a, b) => (total[b] as number) - (total[a] as number) || a - b);
    return all.subarray(0, Math.min(limit, s));
  }
  const before = (a: number, b: number): boolean =>
    (total[a] as number) > (total[b] as number) || (total[a] === total[b] && a < b);
  const top: number[] = [];
  for (let j = 0; j < s; j++) {
    if (top.length === limit && !before(j, top[limit - 1] as number)) continue;
    let at = top.length < limit ? top.length : limit - 1;
    while (at > 0 && before(j, top[at - 1] as number)) {
      top[at] = top[at - 1] as number;
      at--;
    }
    top[at] = j;
  }
  return top;
};
