/**
 * Rejections as sentences: the one place a rejection's figures become the
 * sentence the contract shows ("RamFilter: needs 2048 MB, 1024 MB usable of
 * 4096 MB × 1.5"). Each filter's `reasons` hold its templates; Nova's host
 * manager steps before the filters (ignore_hosts, force_hosts) have theirs here.
 */
import { FILTERS } from './filters/index';
import type { ReasonTemplate, Rejection } from './types';

/** A step before the filters, named and counted like a filter. */
interface PreFilter {
  summary: string;
  reasons: Readonly<Record<string, ReasonTemplate>>;
}

/** Nova's host manager: ignore_hosts first, then force_hosts (a deleted node is ComputeFilter's). */
export const PRE_FILTERS: Readonly<Record<'ignore_hosts' | 'force_hosts', PreFilter>> = {
  ignore_hosts: {
    summary: 'were in ignore_hosts',
    reasons: {
      ignored: { count: 'were in ignore_hosts', render: () => 'ignore_hosts: host is listed in ignore_hosts' },
    },
  },
  force_hosts: {
    summary: 'were not in force_hosts',
    reasons: {
      not_forced: { count: 'were not in force_hosts', render: () => 'force_hosts: host is not among the forced hosts' },
    },
  },
};

/** The filter or pre-filter of that name (own keys only: names are data). */
const stepOf = (name: string): PreFilter | undefined =>
  Object.hasOwn(PRE_FILTERS, name)
    ? PRE_FILTERS[name as keyof typeof PRE_FILTERS]
    : Object.hasOwn(FILTERS, name)
      ? FILTERS[name]
      : undefined;

const templateOf = (r: Rejection): ReasonTemplate | undefined => {
  const reasons = stepOf(r.filter)?.reasons;
  return reasons && Object.hasOwn(reasons, r.code) ? reasons[r.code] : undefined;
};

/** The sentence of a rejection. A filter outside the registry gets its name and code. */
export const reasonOf = (r: Rejection): string =>
  templateOf(r)?.render(r.figures) ?? `${r.filter}: rejected (${r.code})`;

/** How hosts rejected for this code add up: "had insufficient free RAM". */
export const countPhraseOf = (r: Rejection): string => templateOf(r)?.count ?? 'were rejected';

/** A filter's (or pre-filter's) count phrase: "had insufficient RAM". */
export const summaryOf = (filter: string): string => stepOf(filter)?.summary ?? 'were rejected';
