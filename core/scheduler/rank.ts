/**
 * Weighing the survivors of a pass (Nova's `get_weighed_objects`): each
 * weigher's raw value and multiplier per host, normalized per weigher, summed
 * into one weight per survivor; and the ranking with each weigher's part.
 */

import { NO_OVERRIDES } from './node-overrides';
import type { HostState, RequestSpec, Weigher, WeightMultiplierKey } from './types';
import { multiplierOf, WEIGHER_REGISTRY } from './weighers/index';

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

/**
 * How a pass normalized one weigher (after Weights.sum): a raw value clamped to [floor, ceil],
 * then `((v − min) / range) + 0`, 0 when range is 0. The stored ranking keeps these once instead
 * of every host's normalized value (core/decision-pages.ts).
 */
export interface WeigherScale {
  min: number;
  range: number;
  floor: number;
  ceil: number;
}

/** A raw value normalized on `scale`, as Weights.parts does it (to the same double). */
export const normalizedOn = (raw: number, scale: WeigherScale): number => {
  let v = raw;
  if (v < scale.floor) v = scale.floor;
  if (v > scale.ceil) v = scale.ceil;
  return (scale.range === 0 ? 0 : (v - scale.min) / scale.range) + 0;
};

/** A surviving host with its weight, best first. */
export interface RankedHost {
  host: string;
  weight: number;
  weighers: WeigherContribution[];
}

// Fast path, as filter-chain.ts's: one call site per registry position, so that V8 inlines the
// (one-line) weighers instead of making a full megamorphic call per weigher and host.
const site = (i: number): Weigher['weigh'] => WEIGHER_REGISTRY[i]?.weigh ?? (() => Number.NaN);
const w0 = site(0);
const w1 = site(1);
const w2 = site(2);
const w3 = site(3);
const w4 = site(4);
const w5 = site(5);
const w6 = site(6);
const w7 = site(7);

/** `w.weigh(h, spec)`, through its registry position's own call site when it has one. */
const weighAt = (slot: number, w: Weigher, h: HostState, spec: RequestSpec): number => {
  switch (slot) {
    case 0:
      return w0(h, spec);
    case 1:
      return w1(h, spec);
    case 2:
      return w2(h, spec);
    case 3:
      return w3(h, spec);
    case 4:
      return w4(h, spec);
    case 5:
      return w5(h, spec);
    case 6:
      return w6(h, spec);
    case 7:
      return w7(h, spec);
    default:
      return w.weigh(h, spec);
  }
};

/**
 * The weights of one call: for each weigher a column of raw values, `stride`
 * long (the fleet for the first pass, which has the most survivors; later
 * passes reuse the front), and each survivor's multiplier overrides. Owned by
 * one `schedule` call: nothing is shared between calls.
 */
export class Weights {
  private readonly raws: Float64Array;
  /** Per survivor, its node's multiplier overrides (mostly the one shared NO_OVERRIDES). */
  private readonly overrides: HostState['weight_multipliers'][];
  private readonly globals: Float64Array;
  /** Each weigher's registry position (−1: not registered), for `weighAt`'s call sites. */
  private readonly slots: Int8Array;
  /** Per weigher, the normalization of the last `sum`: value → (clamped value − min) / range (range 0: 0). */
  private readonly min: Float64Array;
  private readonly range: Float64Array;
  /**
   * Per weigher, the clamp bounds: minval and maxval, or ∓Infinity where unset (a bound that never
   * clamps, NaN included, so the hot loops compare numbers only, never `undefined`).
   */
  private readonly floor: Float64Array;
  private readonly ceil: Float64Array;
  /** The weight of each survivor of the current pass. */
  readonly total: Float64Array;
  private stride: number;

  constructor(
    private readonly weighers: readonly Weigher[],
    opts: Readonly<Record<WeightMultiplierKey, number>>,
    capacity: number,
  ) {
    this.raws = new Float64Array(weighers.length * capacity);
    this.overrides = [];
    this.total = new Float64Array(capacity);
    this.globals = Float64Array.from(weighers, (w) => opts[w.multiplierKey]);
    this.slots = Int8Array.from(weighers, (w) => WEIGHER_REGISTRY.indexOf(w));
    this.min = new Float64Array(weighers.length);
    this.range = new Float64Array(weighers.length);
    this.floor = Float64Array.from(weighers, (w) => w.minval ?? Number.NEGATIVE_INFINITY);
    this.ceil = Float64Array.from(weighers, (w) => w.maxval ?? Number.POSITIVE_INFINITY);
    this.stride = capacity;
  }

  /** Starts a pass with at most `candidates` survivors. */
  startPass(candidates: number): void {
    this.stride = candidates;
  }

  /**
   * Takes survivor `j`'s raw values. The scheduler calls it as soon as a host
   * passes the filters, while the host is still in cache: at 100k hosts,
   * walking them again per weigher is a trip to main memory each time.
   */
  weigh(h: HostState, spec: RequestSpec, j: number): void {
    const { weighers, stride, raws, slots } = this;
    for (let wi = 0; wi < weighers.length; wi++) {
      raws[wi * stride + j] = weighAt(slots[wi] as number, weighers[wi] as Weigher, h, spec);
    }
    this.overrides[j] = h.weight_multipliers;
  }

  /**
   * Sums the `s` survivors' weights into `total`: Σ multiplier × normalized,
   * normalized as Nova's `normalize` (weighers/normalize.ts). A lone host is
   * not weighed (Nova): its weight is 0.
   */
  sum(s: number): void {
    const { raws, total, stride, overrides } = this;
    total.fill(0, 0, s);
    for (let wi = 0; wi < this.weighers.length; wi++) {
      const { minval, maxval, multiplierKey } = this.weighers[wi] as Weigher;
      const floor = this.floor[wi] as number;
      const ceil = this.ceil[wi] as number;
      const col = wi * stride;
      // The clamped values' lowest and highest.
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let j = col; j < col + s; j++) {
        let v = raws[j] as number;
        if (v < floor) v = floor;
        if (v > ceil) v = ceil;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const min = minval ?? lo;
      const max = maxval ?? hi;
      // min = max (or a lone host): every value normalizes to 0.
      const range = s > 1 && min !== max ? max - min : 0;
      this.min[wi] = min;
      this.range[wi] = range;
      if (range === 0) continue;
      // `parts`' normalized value and multiplier, unrolled: this loop runs for every survivor and weigher.
      const global = this.globals[wi] as number;
      for (let j = 0; j < s; j++) {
        let v = raws[col + j] as number;
        if (v < floor) v = floor;
        if (v > ceil) v = ceil;
        const o = overrides[j] as HostState['weight_multipliers'];
        const m = o === NO_OVERRIDES ? global : (o[multiplierKey] ?? global);
        total[j] = (total[j] as number) + m * ((v - min) / range);
      }
    }
  }

  /** This pass's scale per weigher, after `sum`. */
  scales(): WeigherScale[] {
    return this.weighers.map((_, wi) => ({
      min: this.min[wi] as number,
      range: this.range[wi] as number,
      floor: this.floor[wi] as number,
      ceil: this.ceil[wi] as number,
    }));
  }

  /**
   * Survivor `j`'s breakdown on this pass's `scales()`, after `sum`: per weigher the raw value, the value clamped and
   * normalized against this pass's range, and the multiplier (the node's override, else the option).
   * One plain loop: a full ranking asks it of every survivor.
   */
  parts(j: number, scales: readonly WeigherScale[]): WeigherContribution[] {
    const { weighers, raws, stride, globals } = this;
    const overrides = this.overrides[j] as HostState['weight_multipliers'];
    const out: WeigherContribution[] = [];
    for (let wi = 0; wi < weighers.length; wi++) {
      const w = weighers[wi] as Weigher;
      const raw = raws[wi * stride + j] as number;
      const normalized = normalizedOn(raw, scales[wi] as WeigherScale);
      const multiplier = multiplierOf(overrides, w.multiplierKey, globals[wi] as number);
      // `+ 0` turns −0 (a negative multiplier times 0) into 0.
      out.push({ weigher: w.name, raw, normalized, multiplier, contribution: multiplier * normalized + 0 });
    }
    return out;
  }
}

/**
 * The first `limit` of `s` survivors by weight, best first (ties keep fleet
 * order, as Python's stable sort), as positions. A ranking shorter than the
 * survivors is kept in a heap whose root is the worst kept, then sorted:
 * s · log(limit) comparisons instead of sorting every survivor (a stored decision
 * keeps the best 100 of thousands; the full sort was ~0.12 ms per request at 1,000
 * hosts in bench/claims.ts).
 */
export const topByWeight = (total: Float64Array, s: number, limit: number): ArrayLike<number> => {
  const before = (a: number, b: number): boolean =>
    (total[a] as number) > (total[b] as number) || (total[a] === total[b] && a < b);
  if (limit >= s) {
    const all = new Int32Array(s);
    for (let j = 0; j < s; j++) all[j] = j;
    all.sort((a, b) => (total[b] as number) - (total[a] as number) || a - b);
    return all;
  }
  if (limit <= 0) return [];
  const heap = new Int32Array(limit);
  // Moves heap[at] down until both children come before it (the root is the worst kept).
  const siftDown = (at: number, n: number) => {
    const x = heap[at] as number;
    for (;;) {
      let worst = 2 * at + 1;
      if (worst >= n) break;
      if (worst + 1 < n && before(heap[worst] as number, heap[worst + 1] as number)) worst++;
      if (!before(x, heap[worst] as number)) break;
      heap[at] = heap[worst] as number;
      at = worst;
    }
    heap[at] = x;
  };
  for (let j = 0; j < limit; j++) heap[j] = j;
  for (let i = (limit >> 1) - 1; i >= 0; i--) siftDown(i, limit);
  for (let j = limit; j < s; j++) {
    if (!before(j, heap[0] as number)) continue;
    heap[0] = j;
    siftDown(0, limit);
  }
  // Pop the worst to the back, one by one: the array ends best first.
  for (let n = limit - 1; n > 0; n--) {
    const worst = heap[0] as number;
    heap[0] = heap[n] as number;
    heap[n] = worst;
    siftDown(0, n);
  }
  return heap;
};
