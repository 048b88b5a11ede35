import { instanceBit, mayRun } from '../instance-signature';
import type { HostState } from '../types';

/** Instance uuids of a hint (lower case), each with its signature bit: prepared once per request. */
export interface ListedInstances {
  uuids: readonly string[];
  bits: readonly number[];
}

/** The hint's uuids, lower-cased, with their bits. */
export const listInstances = (uuids: readonly string[]): ListedInstances => {
  const lower = uuids.map((u) => u.toLowerCase());
  return { uuids: lower, bits: lower.map(instanceBit) };
};

/** Index of the first listed instance the host runs, or −1; the bit spares most hosts the map lookup. */
export const firstRunning = (host: HostState, listed: ListedInstances): number => {
  const { uuids, bits } = listed;
  for (let i = 0; i < uuids.length; i++) {
    if (mayRun(host, bits[i] as number) && host.instances.has(uuids[i] as string)) return i;
  }
  return -1;
};
