/**
 * The filters of one request, each with the state it prepared for it
 * (Kubernetes' PreFilter), and the walk that finds the first one to reject a host.
 */
import type { AnyFilter, FilterRequest, HostState, PassContext } from './types';

/** The filters that have something to check for this request, in order, with their states. */
export interface FilterChain {
  readonly filters: readonly AnyFilter[];
  readonly states: readonly unknown[];
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
  return { filters: kept, states };
};

/**
 * Index of the first filter that rejects `h`, or the chain's length when none
 * does. Only verdicts here: a reason is built for the hosts rejected, by the
 * filter that rejected them.
 */
export const firstReject = (h: HostState, chain: FilterChain, pass: PassContext): number => {
  const { filters, states } = chain;
  const nf = filters.length;
  for (let f = 0; f < nf; f++) if (!(filters[f] as AnyFilter).passes(h, states[f], pass)) return f;
  return nf;
};

/** Tells every filter of the chain about a pick, so the next pass sees it. */
export const notePick = (chain: FilterChain, host: HostState): void => {
  for (let f = 0; f < chain.filters.length; f++) (chain.filters[f] as AnyFilter).picked(chain.states[f], host);
};
