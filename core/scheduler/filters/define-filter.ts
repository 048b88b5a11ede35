import {
  type Filter,
  type FilterContext,
  type HostState,
  PASS,
  type PreparedRequest,
  type RequestSpec,
  reject,
} from '../types';

/** How a filter is written: a cheap predicate, and the reason for a host it rejects. */
export interface FilterDefinition {
  name: string;
  summary: string;
  passes(host: HostState, spec: RequestSpec, ctx: FilterContext): boolean;
  /** Only called for a host `passes` rejected; returns the whole reason, "RamFilter: needs …". */
  explain(host: HostState, spec: RequestSpec, ctx: FilterContext): string;
  /** True when the request gives the filter nothing to check; the scheduler then leaves it out. */
  passesAll?(request: PreparedRequest): boolean;
}

/**
 * Builds a Filter whose `filter` is `passes`, plus `explain` when it fails: one
 * condition, so the verdict and the reason cannot disagree, and the scheduler
 * can filter thousands of hosts without building a sentence for each.
 */
export const defineFilter = (d: FilterDefinition): Filter => ({
  name: d.name,
  summary: d.summary,
  passes: d.passes,
  ...(d.passesAll ? { passesAll: d.passesAll } : {}),
  filter: (host, spec, ctx) => (d.passes(host, spec, ctx) ? PASS : reject(d.explain(host, spec, ctx))),
});
