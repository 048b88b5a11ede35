import type { Figures, Filter, FilterRequest, HostState, PassContext, Reason, ReasonTemplate } from '../types';

/**
 * How a filter is written: its name and count phrase, its codes, and its
 * steps. Only `passes` and `explain` are required; a filter without
 * per-request state has `S = undefined`.
 */
export interface FilterDefinition<S, F extends Figures> {
  name: string;
  summary: string;
  placement?: boolean;
  reasons: Readonly<Record<string, ReasonTemplate<F>>>;
  prepare?(req: FilterRequest): S;
  idle?(state: S): boolean;
  picked?(state: S, host: HostState): void;
  passes(host: HostState, state: S, pass: PassContext): boolean;
  /** Only called for a host `passes` rejected: which of `reasons`, with which figures. */
  explain(host: HostState, state: S, pass: PassContext): Reason<F>;
}

const nothing = (): undefined => undefined;
const never = (): boolean => false;
const ignore = (): void => {};

/** Builds a Filter from its definition, filling the optional steps. */
export const defineFilter = <S = undefined, F extends Figures = Figures>(d: FilterDefinition<S, F>): Filter<S, F> => ({
  name: d.name,
  summary: d.summary,
  placement: d.placement ?? false,
  reasons: d.reasons,
  prepare: d.prepare ?? (nothing as unknown as (req: FilterRequest) => S),
  idle: d.idle ?? never,
  picked: d.picked ?? ignore,
  passes: d.passes,
  explain: d.explain,
});
