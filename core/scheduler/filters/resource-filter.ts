import type { Fit, ResourceMeasure } from '../resources';
import type { HostState, ReasonTemplate, RequestSpec } from '../types';
import { defineFilter } from './define-filter';

/** What RamFilter, CoreFilter and DiskFilter differ in. */
export interface ResourceFilterDefinition {
  name: string;
  summary: string;
  /** The amount the flavor asks, in the measure's unit. */
  requested(spec: RequestSpec): number;
  /** resources.ts: this resource's verdict… */
  fit(host: HostState, requested: number): Fit;
  /** …and its figures, whose `fit` is that verdict. */
  measure(host: HostState, requested: number): ResourceMeasure;
  reasons: {
    larger_than_host: ReasonTemplate<ResourceMeasure>;
    insufficient: ReasonTemplate<ResourceMeasure>;
  };
}

/**
 * A filter whose verdict and reason are both its resource's: it passes iff
 * the resource fits, and a rejection's code is the measure's fit, its figures
 * the measure itself.
 */
export const defineResourceFilter = (d: ResourceFilterDefinition) => {
  const { fit: fitOf, measure } = d;
  return defineFilter<number, ResourceMeasure>({
    name: d.name,
    summary: d.summary,
    placement: true,
    reasons: d.reasons,
    prepare: ({ spec }) => d.requested(spec),
    passes: (host, requested) => fitOf(host, requested) === 'fits',
    explain(host, requested) {
      const m = measure(host, requested);
      return { code: m.fit, figures: m };
    },
  });
};
