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

/**
 * Hosts a 409 NoValidHost names one by one: at ~100 B a sentence, ~100 KB of body.
 * A larger fleet's 409 keeps the counts complete and says how many hosts there were
 * (`hosts_total`, `hosts_truncated`); the stored decision (`decision_id`,
 * `GET /decisions/{id}`, paged) has every one.
 */
export const NO_VALID_HOST_HOSTS = 1000;

/**
 * The rejections a capped 409 names: those of the filters that rejected the fewest
 * hosts first (the rare reason, where a host one expected to fit usually is, before
 * the thousands in another zone), in fleet order within a filter.
 */
const namedFirst = (rejections: readonly HostRejection[], counts: Record<string, number>): HostRejection[] => {
  const byFilter = new Map<string, HostRejection[]>();
  for (const r of rejections) {
    const list = byFilter.get(r.filter);
    if (list) list.push(r);
    else byFilter.set(r.filter, [r]);
  }
  const order = [...byFilter.entries()].sort((a, b) => (counts[a[0]] ?? a[1].length) - (counts[b[0]] ?? b[1].length));
  const named: HostRejection[] = [];
  for (const [, list] of order) {
    for (const r of list) {
      if (named.length >= NO_VALID_HOST_HOSTS) return named;
      named.push(r);
    }
  }
  return named;
};

/** The 409 for a decision that did not place every instance. */
export const noValidHostError = (
  decision: { filter_counts: Record<string, number>; rejections: readonly HostRejection[]; summary: string },
  extra: Record<string, unknown> = {},
): NoValidHostError => {
  const capped = decision.rejections.length > NO_VALID_HOST_HOSTS;
  return new NoValidHostError({
    ...extra,
    filter_counts: decision.filter_counts,
    hosts: reasonsByHost(capped ? namedFirst(decision.rejections, decision.filter_counts) : decision.rejections),
    ...(capped ? { hosts_total: decision.rejections.length, hosts_truncated: true } : {}),
    summary: decision.summary,
  });
};
