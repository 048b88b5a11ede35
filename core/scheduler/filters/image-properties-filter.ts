import { type Filter, type HostState, PASS, type PreparedImage, reject, type SupportedInstance } from '../types';
import { hostStrictVersion, novaVersionToString, satisfies } from '../version';

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
export const ImagePropertiesFilter: Filter = {
  name: 'ImagePropertiesFilter',
  summary: "did not support the image's architecture, hypervisor type or version",
  filter(host, _spec, ctx) {
    const img = ctx.request.image;
    if (img.arch === null && img.hvType === null && img.vmMode === null) return PASS;
    if (host.supported_instances.length === 0) {
      return reject(`ImagePropertiesFilter: image wants ${describe(img)}, host advertises no supported instances`);
    }
    let propsMatched = false;
    const supported = host.supported_instances;
    for (let i = 0; i < supported.length; i++) {
      const triple = supported[i] as SupportedInstance;
      if (img.arch !== null && img.arch !== triple[0]) continue;
      if (img.hvType !== null && img.hvType !== triple[1]) continue;
      if (img.vmMode !== null && img.vmMode !== triple[2]) continue;
      propsMatched = true;
      const version = host.hypervisor_version;
      if (!version || img.version === null) return PASS;
      if ('error' in img.version) {
        return reject(
          `ImagePropertiesFilter: hypervisor_version_requires "${img.versionRequires}": ${img.version.error}`,
        );
      }
      let ok = img.versionMemo.get(version);
      if (ok === undefined) {
        ok = satisfies(hostStrictVersion(version), img.version.clauses);
        img.versionMemo.set(version, ok);
      }
      if (ok) return PASS;
    }
    if (propsMatched) {
      return reject(
        `ImagePropertiesFilter: hypervisor version ${novaVersionToString(host.hypervisor_version)} does not satisfy "${img.versionRequires}"`,
      );
    }
    return reject(`ImagePropertiesFilter: image wants ${describe(img)}, host supports ${describeSupported(host)}`);
  },
};
