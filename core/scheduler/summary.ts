/**
 * The NoValidHost summary and details, read off the rejections' data:
 * per filter how many hosts it turned down, and the sentence "0/12 hosts
 * available: 7 had insufficient RAM (RamFilter); 5 were down, disabled or
 * deleted (ComputeFilter)".
 */
import { NoValidHostError } from './errors';
import { reasonOf, summaryOf } from './reasons';
import type { Rejection } from './types';

/** Why a host dropped out: the first filter that rejected it, for the instance being placed then. */
export interface HostRejection extends Rejection {
  host: string;
  /** 0-based index of the instance whose pass rejected the host. */
  instance_index: number;
}

/**
 * Filter → hosts it rejected, largest count first, ties in the order the
 * filters ran (`order`: the pre-filters, then the chain).
 */
export const countByFilter = (rejections: readonly Rejection[], order: readonly string[]): [string, number][] => {
  const counts = new Map<string, number>();
  for (let i = 0; i < rejections.length; i++) {
    const f = (rejections[i] as Rejection).filter;
    counts.set(f, (counts.get(f) ?? 0) + 1);
  }
  const rank = (f: string) => {
    const r = order.indexOf(f);
    return r < 0 ? order.length : r;
  };
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || rank(a[0]) - rank(b[0]));
};

/** "2/4 hosts available[ for instance 3 of 3]: 1 had insufficient RAM (RamFilter); …". */
export const summarize = (
  available: number,
  considered: number,
  numInstances: number,
  failedIndex: number | undefined,
  counts: readonly [string, number][],
): string => {
  const scope =
    numInstances <= 1
      ? ''
      : failedIndex === undefined
        ? ` after placing ${numInstances} instances`
        : ` for instance ${failedIndex + 1} of ${numInstances}`;
  const parts = counts.map(([filter, count]) => `${count} ${summaryOf(filter)} (${filter})`).join('; ');
  return `${available}/${considered} hosts available${scope}${parts ? `: ${parts}` : ''}`;
};

/** Host → its rejection's sentence (the contract's NoValidHost `hosts`). */
export const reasonsByHost = (rejections: readonly HostRejection[]): Record<string, string> =>
  Object.fromEntries(rejections.map((r) => [r.host, reasonOf(r)]));

/** The 409 for a decision that did not place every instance. */
export const noValidHostError = (
  decision: { filter_counts: Record<string, number>; rejections: readonly HostRejection[]; summary: string },
  extra: Record<string, unknown> = {},
): NoValidHostError =>
  new NoValidHostError({
    ...extra,
    filter_counts: decision.filter_counts,
    hosts: reasonsByHost(decision.rejections),
    summary: decision.summary,
  });
