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
