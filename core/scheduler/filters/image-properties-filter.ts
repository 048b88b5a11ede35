import { canonicalArch, canonicalHvType, canonicalVmMode } from '../canonical';
import type { HostState, SupportedInstance } from '../types';
import {
  hostStrictVersion,
  novaVersionToString,
  parseVersionPredicate,
  satisfies,
  type VersionClause,
} from '../version';
import { defineFilter } from './define-filter';

/** Image properties the ImagePropertiesFilter reads, canonicalized once per request. */
export interface PreparedImage {
  arch: string | null;
  hvType: string | null;
  vmMode: string | null;
  /** The raw `hypervisor_version_requires`, if any. */
  versionRequires: string | null;
  /** Its parsed clauses, or why it does not parse; null without a requirement. */
  version: { clauses: readonly VersionClause[] } | { error: string } | null;
  /** What the image asks, as a rejection says it: "architecture=x86_64, hypervisor_type=qemu". */
  wants: string;
  /** Memo of host version → satisfies, for this request (fleets run few distinct versions). */
  versionMemo: Map<number, boolean>;
  /** Memo of a (shared) supported_instances list → offers the image's properties, for this request. */
  supportMemo: Map<readonly SupportedInstance[], boolean>;
}

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
  const arch = canon(imageProp(props, 'hw_architecture', 'architecture') ?? defaultArch, canonicalArch);
  const hvType = canon(imageProp(props, 'img_hv_type', 'hypervisor_type'), canonicalHvType);
  const vmMode = canon(imageProp(props, 'hw_vm_mode', 'vm_mode'), canonicalVmMode);
  return {
    arch,
    hvType,
    vmMode,
    wants: [arch && `architecture=${arch}`, hvType && `hypervisor_type=${hvType}`, vmMode && `vm_mode=${vmMode}`]
      .filter(Boolean)
      .join(', '),
    versionRequires,
    version: versionRequires === null ? null : parseVersionPredicate(versionRequires),
    versionMemo: new Map(),
    supportMemo: new Map(),
  };
};

/** Whether one `(arch, hv type, vm mode)` triple offers every property the image names. */
const offers = (img: PreparedImage, t: SupportedInstance): boolean =>
  (img.arch === null || img.arch === t[0]) &&
  (img.hvType === null || img.hvType === t[1]) &&
  (img.vmMode === null || img.vmMode === t[2]);

/** Whether the host's hypervisor version satisfies the image's requirement (memoized per request). */
const versionOk = (host: HostState, img: PreparedImage): boolean => {
  const version = host.hypervisor_version;
  if (!version || img.version === null) return true;
  if ('error' in img.version) return false;
  let ok = img.versionMemo.get(version);
  if (ok === undefined) {
    ok = satisfies(hostStrictVersion(version), img.version.clauses);
    img.versionMemo.set(version, ok);
  }
  return ok;
};

const anyOffered = (host: HostState, img: PreparedImage): boolean => {
  const supported = host.supported_instances;
  for (let i = 0; i < supported.length; i++) if (offers(img, supported[i] as SupportedInstance)) return true;
  return false;
};

/**
 * ImagePropertiesFilter: the host must offer the image's architecture,
 * hypervisor type and vm mode (all canonicalized, case-insensitive) in one of
 * its `supported_instances`, and a hypervisor version satisfying the image's
 * `hypervisor_version_requires` (Nova's `image_props_filter.py`).
 *
 * As in Nova: an image naming none of the three passes everywhere (even with a
 * version requirement); a host advertising nothing fails any image that names
 * one; a host reporting version 0 passes any version requirement.
 */
export const ImagePropertiesFilter = defineFilter<
  PreparedImage,
  { wants: string; supported: readonly SupportedInstance[]; version: string; requires: string; error: string }
>({
  name: 'ImagePropertiesFilter',
  summary: "did not support the image's architecture, hypervisor type or version",
  reasons: {
    none_supported: {
      count: 'advertised no supported instances',
      render: (f) => `ImagePropertiesFilter: image wants ${f.wants}, host advertises no supported instances`,
    },
    unsupported: {
      count: "did not support the image's architecture, hypervisor type or vm mode",
      render: (f) =>
        `ImagePropertiesFilter: image wants ${f.wants}, host supports ${f.supported.map((t) => t.join('/')).join(', ')}`,
    },
    bad_requirement: {
      count: "could not be matched against the image's unparsable version requirement",
      render: (f) => `ImagePropertiesFilter: hypervisor_version_requires "${f.requires}": ${f.error}`,
    },
    version: {
      count: 'ran a hypervisor version the image does not accept',
      render: (f) => `ImagePropertiesFilter: hypervisor version ${f.version} does not satisfy "${f.requires}"`,
    },
  },
  prepare: ({ spec, defaultArch }) => prepareImage(spec.image.properties, defaultArch),
  idle: (img) => img.arch === null && img.hvType === null && img.vmMode === null,
  passes(host, img) {
    if (img.arch === null && img.hvType === null && img.vmMode === null) return true;
    // Hosts share their supported_instances lists: one answer per list and request.
    const list = host.supported_instances;
    let offered = img.supportMemo.get(list);
    if (offered === undefined) {
      offered = anyOffered(host, img);
      img.supportMemo.set(list, offered);
    }
    return offered && versionOk(host, img);
  },
  explain(host, img) {
    const supported = host.supported_instances;
    const figures = { wants: img.wants, supported, version: '', requires: img.versionRequires ?? '', error: '' };
    if (supported.length === 0) return { code: 'none_supported', figures };
    if (!anyOffered(host, img)) return { code: 'unsupported', figures };
    if (img.version !== null && 'error' in img.version) {
      return { code: 'bad_requirement', figures: { ...figures, error: img.version.error } };
    }
    return { code: 'version', figures: { ...figures, version: novaVersionToString(host.hypervisor_version) } };
  },
});
