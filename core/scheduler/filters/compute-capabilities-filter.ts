import type { HostState } from '../types';
import { defineFilter } from './define-filter';
import { compileExtraSpec, type ExtraSpecMatcher } from './extra-specs-ops';

/** One extra spec the ComputeCapabilitiesFilter checks: the path into the host state and the requirement. */
export interface CapabilitySpec {
  key: string;
  path: readonly string[];
  req: string;
  /** `req` compiled once (Nova's extra-specs operators). */
  match: ExtraSpecMatcher;
  /** Reads `path[0]` off the host; null when no host has such an attribute. */
  attribute: ((h: HostState) => unknown) | null;
}

/** Host state attributes a flavor's extra specs may test (Nova: any HostState attribute). */
const ATTRIBUTES: Readonly<Record<string, (h: HostState) => unknown>> = {
  host: (h) => h.host,
  nodename: (h) => h.nodename,
  hypervisor_hostname: (h) => h.nodename,
  hypervisor_type: (h) => h.hypervisor_type,
  hypervisor_version: (h) => h.hypervisor_version,
  cpu_info: (h) => h.cpu_info,
  vcpus_total: (h) => h.vcpus_total,
  vcpus_used: (h) => h.vcpus_used,
  total_usable_ram_mb: (h) => h.memory_mb,
  free_ram_mb: (h) => h.free_ram_mb,
  total_usable_disk_gb: (h) => h.total_usable_disk_gb,
  free_disk_mb: (h) => h.free_disk_mb,
  disk_mb_used: (h) => h.disk_mb_used,
  num_instances: (h) => h.num_instances,
  num_io_ops: (h) => h.num_io_ops,
  cpu_allocation_ratio: (h) => h.cpu_allocation_ratio,
  ram_allocation_ratio: (h) => h.ram_allocation_ratio,
  disk_allocation_ratio: (h) => h.disk_allocation_ratio,
  supported_instances: (h) => h.supported_instances,
};

/**
 * The extra specs this filter checks (Nova's `_satisfies_extra_specs`): keys in
 * the `capabilities:` scope, walked along `:` (`capabilities:cpu_info:arch`),
 * and unscoped keys that name a host attribute (kept for backward
 * compatibility). Keys of any other scope (`hw:`, `aggregate_instance_extra_specs:`, …)
 * are ignored.
 */
export const capabilitySpecsOf = (extraSpecs: Readonly<Record<string, string>>): CapabilitySpec[] => {
  const out: CapabilitySpec[] = [];
  for (const [key, req] of Object.entries(extraSpecs)) {
    const scope = key.split(':');
    let path: string[];
    if (scope.length === 1) {
      if (!Object.hasOwn(ATTRIBUTES, key)) continue;
      path = scope;
    } else if (scope[0] === 'capabilities') path = scope.slice(1);
    else continue;
    const first = path[0] as string;
    const attribute = Object.hasOwn(ATTRIBUTES, first) ? (ATTRIBUTES[first] ?? null) : null;
    out.push({ key, path, req, match: compileExtraSpec(req), attribute });
  }
  return out;
};

/** Python's repr of a JSON-like value, as `str()` prints it inside containers. */
const pyRepr = (v: unknown): string => {
  if (typeof v === 'string') return v.includes("'") && !v.includes('"') ? `"${v}"` : `'${v.replaceAll("'", "\\'")}'`;
  return pyStr(v);
};

/** Python's `str()` of a JSON-like value: Nova matches extra specs against `str(capability)`. */
export const pyStr = (v: unknown): string => {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v === null || v === undefined) return 'None';
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  return String(v);
};

/** Walks `path` into the host state (Nova's `_get_capabilities`); undefined where anything is missing. */
const capability = (host: HostState, spec: CapabilitySpec): unknown => {
  if (spec.attribute === null) return undefined;
  let cap = spec.attribute(host);
  const path = spec.path;
  for (let i = 1; i < path.length; i++) {
    if (typeof cap === 'string') {
      try {
        cap = JSON.parse(cap);
      } catch {
        return undefined;
      }
    }
    if (cap === null || typeof cap !== 'object' || Array.isArray(cap)) return undefined;
    const key = path[i] as string;
    cap = Object.hasOwn(cap, key) ? (cap as Record<string, unknown>)[key] : undefined;
  }
  return cap === null ? undefined : cap;
};

/** Whether the host satisfies one spec; numbers skip the print-and-parse round trip. */
const satisfied = (host: HostState, spec: CapabilitySpec): boolean => {
  const cap = capability(host, spec);
  if (cap === undefined) return false;
  if (typeof cap === 'number' && spec.match.number) return spec.match.number(cap);
  return spec.match(pyStr(cap));
};

/**
 * ComputeCapabilitiesFilter: the host's capabilities must satisfy the flavor's
 * `capabilities:` extra specs, with Nova's extra-specs operators (Nova's
 * `compute_capabilities_filter.py`). A capability the host lacks rejects it.
 */
export const ComputeCapabilitiesFilter = defineFilter<
  readonly CapabilitySpec[],
  { key: string; wants: string; path: string; has: string | null }
>({
  name: 'ComputeCapabilitiesFilter',
  summary: "did not match the flavor's capabilities",
  reasons: {
    missing: {
      count: 'lacked a capability the flavor asks for',
      render: (f) => `ComputeCapabilitiesFilter: ${f.key} wants "${f.wants}", host has no ${f.path}`,
    },
    mismatch: {
      count: "did not match the flavor's capabilities",
      render: (f) => `ComputeCapabilitiesFilter: ${f.key} wants "${f.wants}", host has "${f.has}"`,
    },
  },
  prepare: ({ spec }) => capabilitySpecsOf(spec.instance_type.extra_specs),
  idle: (specs) => specs.length === 0,
  passes(host, specs) {
    for (let i = 0; i < specs.length; i++) if (!satisfied(host, specs[i] as CapabilitySpec)) return false;
    return true;
  },
  explain(host, specs) {
    const failed = specs.find((s) => !satisfied(host, s)) as CapabilitySpec;
    const cap = capability(host, failed);
    const figures = { key: failed.key, wants: failed.req, path: failed.path.join(':') };
    return cap === undefined
      ? { code: 'missing', figures: { ...figures, has: null } }
      : { code: 'mismatch', figures: { ...figures, has: pyStr(cap) } };
  },
});
