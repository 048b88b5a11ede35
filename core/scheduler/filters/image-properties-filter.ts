import type { FilterContext, HostState, PreparedImage, SupportedInstance } from '../types';
import { hostStrictVersion, novaVersionToString, satisfies } from '../version';
import { defineFilter } from './define-filter';

const describe = (img: PreparedImage): string =>
  [
    img.arch && `architecture=${img.arch}`,
    img.hvType && `hypervisor_type=${img.hvType}`,
    img.vmMode && `vm_mode=${img.vmMode}`,
  ]
    .filter(Boolean)
    .join(', ');

const describeSupported = (host: HostState): string =>
  host.supported_instances.length === 0 ? 'nothing' : host.supported_instances.map((t) => t.join('/')).join(', ');

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

const anyOffered = (host: HostState, ctx: FilterContext): boolean => {
  const img = ctx.request.image;
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
export const ImagePropertiesFilter = defineFilter({
  name: 'ImagePropertiesFilter',
  summary: "did not support the image's architecture, hypervisor type or version",
  passesAll: ({ image }) => image.arch === null && image.hvType === null && image.vmMode === null,
  passes(host, _spec, ctx) {
    const img = ctx.request.image;
    if (img.arch === null && img.hvType === null && img.vmMode === null) return true;
    // Hosts share their supported_instances lists: one answer per list and request.
    const list = host.supported_instances;
    let offered = img.supportMemo.get(list);
    if (offered === undefined) {
      offered = anyOffered(host, ctx);
      img.supportMemo.set(list, offered);
    }
    return offered && versionOk(host, img);
  },
  explain(host, _spec, ctx) {
    const img = ctx.request.image;
    if (host.supported_instances.length === 0) {
      return `ImagePropertiesFilter: image wants ${describe(img)}, host advertises no supported instances`;
    }
    if (!anyOffered(host, ctx)) {
      return `ImagePropertiesFilter: image wants ${describe(img)}, host supports ${describeSupported(host)}`;
    }
    if (img.version !== null && 'error' in img.version) {
      return `ImagePropertiesFilter: hypervisor_version_requires "${img.versionRequires}": ${img.version.error}`;
    }
    return `ImagePropertiesFilter: hypervisor version ${novaVersionToString(host.hypervisor_version)} does not satisfy "${img.versionRequires}"`;
  },
});
