/**
 * Which server groups have a member on a host, derived from its `instances`
 * map and memoized per map: a request with a group then reads one small set
 * per host instead of walking every instance. The map is the only source of
 * truth — a caller that gives a host a new `instances` map (say, to add a
 * member it knows of) gets a fresh answer; the scheduler forgets the memo when
 * it adds a member to a map itself.
 */
import type { HostInstance } from './types';

const memo = new WeakMap<ReadonlyMap<string, HostInstance>, ReadonlySet<string>>();
const NONE: ReadonlySet<string> = new Set();

/** The groups with a member among `instances`. */
export const groupsOf = (instances: ReadonlyMap<string, HostInstance>): ReadonlySet<string> => {
  let groups = memo.get(instances);
  if (groups === undefined) {
    let found: Set<string> | undefined;
    for (const i of instances.values()) {
      if (i.group === undefined) continue;
      found ??= new Set();
      found.add(i.group);
    }
    groups = found ?? NONE;
    memo.set(instances, groups);
  }
  return groups;
};

/** Records what the builder of `instances` already knows, sparing the first walk. */
export const rememberGroups = (instances: ReadonlyMap<string, HostInstance>, groups: ReadonlySet<string>): void => {
  memo.set(instances, groups.size === 0 ? NONE : groups);
};

/** To call after changing `instances` in place. */
export const forgetGroups = (instances: ReadonlyMap<string, HostInstance>): void => {
  memo.delete(instances);
};
