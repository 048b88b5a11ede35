import { describe, expect, it } from 'vitest';
import { supportedInstancesFor } from '../canonical';
import { check, makeHost, makeSpec } from '../test-fixtures';
import type { SupportedInstance } from '../types';
import { ImagePropertiesFilter } from './image-properties-filter';

const KVM: SupportedInstance = ['x86_64', 'kvm', 'hvm'];

// Scenarios from Nova's test_image_props_filters.py. Versions are Nova-encoded: 6.0.0 → 6000000.
describe('ImagePropertiesFilter', () => {
  const cases: {
    name: string;
    props: Record<string, string>;
    supported: readonly SupportedInstance[];
    version?: number;
    pass: boolean;
  }[] = [
    {
      name: 'passes the same arch, hv type, vm mode and a version inside >=6.0,<6.2',
      props: {
        architecture: 'x86_64',
        hypervisor_type: 'kvm',
        vm_mode: 'hvm',
        hypervisor_version_requires: '>=6.0,<6.2',
      },
      supported: [KVM],
      version: 6000000,
      pass: true,
    },
    {
      name: 'rejects a different architecture and hypervisor type',
      props: { architecture: 'armv7l', hypervisor_type: 'qemu', vm_mode: 'hvm' },
      supported: [KVM],
      pass: false,
    },
    {
      name: 'rejects a hypervisor older than required (6.0.0 vs >=6.2)',
      props: { architecture: 'x86_64', hypervisor_type: 'kvm', vm_mode: 'hvm', hypervisor_version_requires: '>=6.2' },
      supported: [KVM],
      version: 6000000,
      pass: false,
    },
    {
      name: 'passes when the image names only some properties and they match',
      props: { architecture: 'x86_64', vm_mode: 'hvm' },
      supported: [KVM],
      pass: true,
    },
    {
      name: 'rejects partial properties that the host does not offer',
      props: { architecture: 'x86_64', vm_mode: 'hvm' },
      supported: [['x86_64', 'xen', 'xen']],
      pass: false,
    },
    { name: 'passes an image without properties', props: {}, supported: [KVM], pass: true },
    {
      name: 'rejects an image with properties on a host advertising nothing',
      props: { architecture: 'x86_64', hypervisor_type: 'kvm', vm_mode: 'hvm' },
      supported: [],
      pass: false,
    },
    {
      name: 'passes a version requirement when the host reports no version (0)',
      props: { architecture: 'x86_64', hypervisor_type: 'kvm', hypervisor_version_requires: '>=6.0' },
      supported: [KVM],
      version: 0,
      pass: true,
    },
    {
      name: 'rejects hypervisor version 5000 (= 5.0) against >=6.0',
      props: { architecture: 'x86_64', hypervisor_type: 'kvm', hypervisor_version_requires: '>=6.0' },
      supported: [KVM],
      version: 5000,
      pass: false,
    },
    { name: 'reads vm_mode pv as xen', props: { vm_mode: 'pv' }, supported: [['x86_64', 'xen', 'xen']], pass: true },
    { name: 'reads vm_mode hv as hvm', props: { vm_mode: 'hv' }, supported: [KVM], pass: true },
    {
      name: 'reads architecture x86_32 as i686',
      props: { architecture: 'x86_32' },
      supported: [['i686', 'kvm', 'hvm']],
      pass: true,
    },
    {
      name: 'reads hypervisor_type xapi as xen',
      props: { hypervisor_type: 'xapi' },
      supported: [['i686', 'xen', 'hvm']],
      pass: true,
    },
    {
      name: 'reads vm_mode baremetal as hvm',
      props: { vm_mode: 'baremetal' },
      supported: [['i686', 'baremetal', 'hvm']],
      pass: true,
    },
    {
      name: 'compares names case-insensitively (QEMU, X86_64, amd64)',
      props: { architecture: 'AMD64', hypervisor_type: 'QEMU' },
      supported: supportedInstancesFor('x86_64', 'QEMU'),
      pass: true,
    },
    {
      name: "reads Nova's current property names (hw_architecture aarch64 ≠ x86_64)",
      props: { hw_architecture: 'aarch64', img_hv_type: 'kvm' },
      supported: [KVM],
      pass: false,
    },
    {
      name: 'ignores a version requirement when no other property is named, as Nova does',
      props: { hypervisor_version_requires: '>=9.0' },
      supported: [KVM],
      version: 6000000,
      pass: true,
    },
  ];
  it.each(cases)('$name', ({ props, supported, version, pass }) => {
    const host = makeHost({ host: 'host1', supported_instances: supported, hypervisor_version: version ?? 6000000 });
    const spec = makeSpec({ image: { properties: props } });
    expect(check(ImagePropertiesFilter, host, spec).pass).toBe(pass);
  });

  it('uses image_properties_default_architecture for an image that names none', () => {
    const spec = makeSpec({ image: { properties: {} } });
    const host = makeHost({ host: 'h', supported_instances: [['aarch64', 'kvm', 'hvm']] });
    expect(check(ImagePropertiesFilter, host, spec, [], { defaultArch: 'x86_64' }).pass).toBe(false);
  });

  it('treats a QEMU host as offering both qemu and kvm guests (libvirt reports QEMU for both)', () => {
    const spec = makeSpec({ image: { properties: { hypervisor_type: 'kvm' } } });
    const host = makeHost({ host: 'h', hypervisor_type: 'QEMU' });
    expect(check(ImagePropertiesFilter, host, spec).pass).toBe(true);
  });

  it('says what the image wants and what the host offers', () => {
    const spec = makeSpec({ image: { properties: { architecture: 'aarch64', hypervisor_type: 'kvm' } } });
    const host = makeHost({ host: 'h', supported_instances: [KVM] });
    expect(check(ImagePropertiesFilter, host, spec)).toMatchObject({
      pass: false,
      reason:
        'ImagePropertiesFilter: image wants architecture=aarch64, hypervisor_type=kvm, host supports x86_64/kvm/hvm',
    });
  });

  it('gives the host version when only the version fails', () => {
    const spec = makeSpec({ image: { properties: { architecture: 'x86_64', hypervisor_version_requires: '>=6.2' } } });
    const host = makeHost({ host: 'h', supported_instances: [KVM], hypervisor_version: 6000000 });
    expect(check(ImagePropertiesFilter, host, spec)).toMatchObject({
      pass: false,
      reason: 'ImagePropertiesFilter: hypervisor version 6.0.0 does not satisfy ">=6.2"',
    });
  });
});
