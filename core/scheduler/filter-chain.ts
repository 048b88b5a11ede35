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

/**
 * Index of the first filter that rejects `h`, or the chain's length when none
 * does. Only verdicts here: the reason is asked of the filter that rejected.
 * Filter `f` is called through its registry position's own call site when it
 * has one; the switch sits in the loop itself (a helper holding it is too big
 * for V8 to inline, and its call per filter and host cost a busy 10k-host
 * decision about a tenth of its time).
 */
export const firstReject = (h: HostState, chain: FilterChain, pass: PassContext): number => {
  const { slots, states, filters } = chain;
  const nf = slots.length;
  for (let f = 0; f < nf; f++) {
    let ok: boolean;
    switch (slots[f]) {
      case 0:
        ok = p0(h, states[f], pass);
        break;
      case 1:
        ok = p1(h, states[f], pass);
        break;
      case 2:
        ok = p2(h, states[f], pass);
        break;
      case 3:
        ok = p3(h, states[f], pass);
        break;
      case 4:
        ok = p4(h, states[f], pass);
        break;
      case 5:
        ok = p5(h, states[f], pass);
        break;
      case 6:
        ok = p6(h, states[f], pass);
        break;
      case 7:
        ok = p7(h, states[f], pass);
        break;
      case 8:
        ok = p8(h, states[f], pass);
        break;
      case 9:
        ok = p9(h, states[f], pass);
        break;
      case 10:
        ok = p10(h, states[f], pass);
        break;
      case 11:
        ok = p11(h, states[f], pass);
        break;
      case 12:
        ok = p12(h, states[f], pass);
        break;
      case 13:
        ok = p13(h, states[f], pass);
        break;
      case 14:
        ok = p14(h, states[f], pass);
        break;
      case 15:
        ok = p15(h, states[f], pass);
        break;
      default:
        ok = (filters[f] as AnyFilter).passes(h, states[f], pass);
    }
    if (!ok) return f;
  }
  return nf;
};

/** Tells every filter of the chain about a pick, so the next pass sees it. */
export const notePick = (chain: FilterChain, host: HostState): void => {
  for (let f = 0; f < chain.filters.length; f++) (chain.filters[f] as AnyFilter).picked(chain.states[f], host);
};
