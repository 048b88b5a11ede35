import { groupsOf } from '../group-index';
import { groupBit, mayRun } from '../instance-signature';
import type { GroupPolicy, HostState, RequestSpec } from '../types';

/** The request's server group under one policy, prepared once: its name and signature bit. */
export interface GroupState {
  /** null: the request has no group with this policy, the filter is idle. */
  group: string | null;
  bit: number;
}

/** The request's group when its policy is `policy`. */
export const groupState = (spec: RequestSpec, policy: GroupPolicy): GroupState => {
  const { group, group_policy } = spec.scheduler_hints;
  return group === undefined || group_policy !== policy ? { group: null, bit: -1 } : { group, bit: groupBit(group) };
};

/** Whether the host runs (or holds a claim for) a member of the group; the bit spares most hosts the lookup. */
export const runsMember = (host: HostState, s: GroupState): boolean =>
  s.group !== null && mayRun(host, s.bit) && host.instances.size > 0 && groupsOf(host.instances).has(s.group);
