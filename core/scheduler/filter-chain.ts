/**
 * The filters of one request, each with the state it prepared for it
 * (Kubernetes' PreFilter), and the walk that finds the first one to reject a host.
 */
import { REGISTRY } from './filters/index';
import type { AnyFilter, FilterRequest, HostState, PassContext } from './types';

type Passes = AnyFilter['passes'];

/** The filters that have something to check for this request, in order, with their states. */
export interface FilterChain {
  readonly filters: readonly AnyFilter[];
  readonly states: readonly unknown[];
  /** Each filter's registry position (−1: not registered), for `firstReject`'s call sites. */
  readonly slots: Int8Array;
}

/**
 * Prepares every filter for the request and leaves out those it gives nothing
 * to check (no hint, no extra spec…): they would pass every host, and at 10k
 * hosts each call still costs.
 */
export const prepareChain = (filters: readonly AnyFilter[], req: FilterRequest): FilterChain => {
  const kept: AnyFilter[] = [];
  const states: unknown[] = [];
  for (const f of filters) {
    const state = f.prepare(req);
    if (f.idle(state)) continue;
    kept.push(f);
    states.push(state);
  }
  return { filters: kept, states, slots: Int8Array.from(kept, (f) => REGISTRY.indexOf(f)) };
};

// Fast path. Calling `filters[f].passes(…)` from one site makes that site megamorphic: V8 then
// inlines none of the predicates and pays a full call for each filter of each host (about a
// quarter of a 10k-host decision). So the registry's first 16 filters each get a call site of
// their own, by registry position — `case 3` always calls REGISTRY[3].passes — and the small
// predicates inline. Nothing here names a filter: a new registry line gets its site by itself,
// and filters past the 16th, or outside the registry, take the generic call.
const site = (i: number): Passes => REGISTRY[i]?.passes ?? (() => true);
const p0 = site(0);
const p1 = site(1);
const p2 = site(2);
const p3 = site(3);
const p4 = site(4);
const p5 = site(5);
const p6 = site(6);
const p7 = site(7);
const p8 = site(8);
const p9 = site(9);
const p10 = site(10);
const p11 = site(11);
const p12 = site(12);
const p13 = site(13);
const p14 = site(14);
const p15 = site(15);

/** Filter `f` of the chain on `h`: through its registry position's own call site when it has one. */
const passesAt = (chain: FilterChain, f: number, h: HostState, pass: PassContext): boolean => {
  const s = chain.states[f];
  switch (chain.slots[f]) {
    case 0:
      return p0(h, s, pass);
    case 1:
      return p1(h, s, pass);
    case 2:
      return p2(h, s, pass);
    case 3:
      return p3(h, s, pass);
    case 4:
      return p4(h, s, pass);
    case 5:
      return p5(h, s, pass);
    case 6:
      return p6(h, s, pass);
    case 7:
      return p7(h, s, pass);
    case 8:
      return p8(h, s, pass);
    case 9:
      return p9(h, s, pass);
    case 10:
      return p10(h, s, pass);
    case 11:
      return p11(h, s, pass);
    case 12:
      return p12(h, s, pass);
    case 13:
      return p13(h, s, pass);
    case 14:
      return p14(h, s, pass);
    case 15:
      return p15(h, s, pass);
    default:
      return (chain.filters[f] as AnyFilter).passes(h, s, pass);
  }
};

/**
 * Index of the first filter that rejects `h`, or the chain's length when none
 * does. Only verdicts here: the reason is asked of the filter that rejected.
 */
export const firstReject = (h: HostState, chain: FilterChain, pass: PassContext): number => {
  const nf = chain.filters.length;
  for (let f = 0; f < nf; f++) if (!passesAt(chain, f, h, pass)) return f;
  return nf;
};

/** Tells every filter of the chain about a pick, so the next pass sees it. */
export const notePick = (chain: FilterChain, host: HostState): void => {
  for (let f = 0; f < chain.filters.length; f++) (chain.filters[f] as AnyFilter).picked(chain.states[f], host);
};
