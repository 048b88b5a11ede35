/**
 * Per-request work done once instead of once per host: requested sizes, the
 * canonical image properties, the parsed extra specs, the hint sets, and the
 * hosts of the request's server group (Nova keeps those on `instance_group.hosts`).
 */
import { canonicalArch, canonicalHvType, canonicalVmMode } from './canonical';
import { aggregateSpecsOf } from './filters/aggregate-instance-extra-specs-filter';
import { capabilitySpecsOf } from './filters/compute-capabilities-filter';
import { groupsOf } from './group-index';
import { groupBit, instanceBit, mayRun } from './instance-signature';
import type { SchedulerOptions } from './options';
import type { FilterContext, HostState, PreparedImage, PreparedRequest, RequestSpec } from './types';
import { parseVersionPredicate } from './version';

/** The image property a Nova image sets under its current name, else under its legacy name. */
const imageProp = (props: Readonly<Record<string, string>>, current: string, legacy: string): string | null => {
  if (Object.hasOwn(props, current)) return props[current] ?? null;
  if (Object.hasOwn(props, legacy)) return props[legacy] ?? null;
  return null;
};

// Names Nova would reject at the API stay as given (lower case): they match no host.
const canon = (value: string | null, f: (v: string) => string | undefined): string | null =>
  value === null || value === '' ? null : (f(value) ?? value.toLowerCase());

/** The image properties ImagePropertiesFilter checks, canonicalized (Nova's ImageMetaProps names and legacy names). */
export const prepareImage = (
  props: Readonly<Record<string, string>>,
  defaultArch: string | null = null,
): PreparedImage => {
  const versionRequires = imageProp(props, 'img_hv_requested_version', 'hypervisor_version_requires') || null;
  return {
    arch: canon(imageProp(props, 'hw_architecture', 'architecture') ?? defaultArch, canonicalArch),
    hvType: canon(imageProp(props, 'img_hv_type', 'hypervisor_type'), canonicalHvType),
    vmMode: canon(imageProp(props, 'hw_vm_mode', 'vm_mode'), canonicalVmMode),
    versionRequires,
    version: versionRequires === null ? null : parseVersionPredicate(versionRequires),
    versionMemo: new Map(),
    supportMemo: new Map(),
  };
};

/** Everything about the request the filters need, computed once. */
export const prepareRequest = (
  spec: RequestSpec,
  opts: Pick<SchedulerOptions, 'image_properties_default_architecture'>,
): PreparedRequest => {
  const f = spec.instance_type;
  const hints = spec.scheduler_hints;
  const group = hints.group ?? null;
  return {
    vcpus: f.vcpus,
    memory_mb: f.memory_mb,
    disk_mb: (f.root_gb + f.ephemeral_gb) * 1024 + f.swap,
    availability_zone: spec.instance_properties.availability_zone || null,
    image: prepareImage(spec.image.properties, opts.image_properties_default_architecture),
    capabilitySpecs: capabilitySpecsOf(f.extra_specs),
    aggregateSpecs: aggregateSpecsOf(f.extra_specs),
    sameHost: hints.same_host.map((u) => u.toLowerCase()),
    differentHost: hints.different_host.map((u) => u.toLowerCase()),
    groupBit: group === null ? -1 : groupBit(group),
    sameHostBits: hints.same_host.map((u) => instanceBit(u.toLowerCase())),
    differentHostBits: hints.different_host.map((u) => instanceBit(u.toLowerCase())),
    group,
    groupPolicy: group === null ? null : (hints.group_policy ?? null),
    retryHosts: new Set(spec.retry?.hosts ?? []),
    numAttempts: spec.retry?.num_attempts ?? 0,
  };
};

/** Hosts running (or holding a claim for) a member of `group`. */
export const groupHostsOf = (hosts: readonly HostState[], group: string | null): Set<string> => {
  const out = new Set<string>();
  if (group === null) return out;
  const bit = groupBit(group);
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i] as HostState;
    if (mayRun(h, bit) && h.instances.size > 0 && groupsOf(h.instances).has(group)) out.add(h.host);
  }
  return out;
};

/**
 * The context for placing instance `index` of `spec` among `hosts`: for
 * callers (and tests) that run filters outside `schedule()`.
 */
export const makeFilterContext = (
  hosts: readonly HostState[],
  spec: RequestSpec,
  opts: Pick<SchedulerOptions, 'image_properties_default_architecture'> = {
    image_properties_default_architecture: null,
  },
  index = 0,
): FilterContext => {
  const request = prepareRequest(spec, opts);
  return {
    request,
    index,
    instanceUuid: (spec.instance_uuids[index] ?? '').toLowerCase(),
    groupHosts: groupHostsOf(hosts, request.group),
  };
};
