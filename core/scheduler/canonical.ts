/**
 * Nova's canonical names for architectures, hypervisor (virt) types and VM modes
 * (`nova/objects/fields.py` Architecture / HVType / VMMode `.canonicalize`),
 * and the `supported_instances` a host advertises.
 */
import type { SupportedInstance } from './types';

/** Nova's `nova/virt/arch.py` ALL. */
export const ARCHITECTURES: ReadonlySet<string> = new Set([
  'alpha',
  'armv6',
  'armv7l',
  'armv7b',
  'aarch64',
  'cris',
  'i686',
  'ia64',
  'lm32',
  'm68k',
  'microblaze',
  'microblazeel',
  'mips',
  'mipsel',
  'mips64',
  'mips64el',
  'openrisc',
  'parisc',
  'parisc64',
  'ppc',
  'ppcle',
  'ppc64',
  'ppc64le',
  'ppcemb',
  's390',
  's390x',
  'sh4',
  'sh4eb',
  'sparc',
  'sparc64',
  'unicore32',
  'x86_64',
  'xtensa',
  'xtensaeb',
]);

/** Nova's HVType.ALL. */
export const HV_TYPES: ReadonlySet<string> = new Set([
  'baremetal',
  'bhyve',
  'docker',
  'fake',
  'hyperv',
  'ironic',
  'kqemu',
  'kvm',
  'lxc',
  'lxd',
  'openvz',
  'parallels',
  'phyp',
  'qemu',
  'test',
  'uml',
  'vbox',
  'vz',
  'vmware',
  'xen',
  'zvm',
  'prsm',
]);

/** Nova's VMMode.ALL. */
export const VM_MODES: ReadonlySet<string> = new Set(['hvm', 'xen', 'uml', 'exe']);

const ARCH_ALIASES: Readonly<Record<string, string>> = {
  i386: 'i686',
  i486: 'i686',
  i586: 'i686',
  // Xen's mistake from Icehouse or earlier, kept by Nova.
  x86_32: 'i686',
  x86_32p: 'i686',
  amd64: 'x86_64',
  // Not in Nova: Node's `os.arch()` names, which an agent built on Node may send.
  x64: 'x86_64',
  arm64: 'aarch64',
};

/** Nova's Architecture.canonicalize: lower case and aliases; undefined for a name Nova rejects. */
export const canonicalArch = (name: string): string | undefined => {
  const lower = name.toLowerCase();
  const c = ARCH_ALIASES[lower] ?? lower;
  return ARCHITECTURES.has(c) ? c : undefined;
};

/** Nova's HVType.canonicalize: lower case, `xapi` → `xen`; undefined for an unknown type. */
export const canonicalHvType = (name: string): string | undefined => {
  const lower = name.toLowerCase();
  const c = lower === 'xapi' ? 'xen' : lower;
  return HV_TYPES.has(c) ? c : undefined;
};

/** Nova's VMMode.canonicalize: `pv` → xen, `hv` and `baremetal` → hvm; undefined for an unknown mode. */
export const canonicalVmMode = (name: string): string | undefined => {
  const lower = name.toLowerCase();
  const c = lower === 'pv' ? 'xen' : lower === 'hv' || lower === 'baremetal' ? 'hvm' : lower;
  return VM_MODES.has(c) ? c : undefined;
};

/** Guest (hv type, vm mode) pairs a hypervisor offers, after what Nova's virt drivers report. */
const GUESTS: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  // libvirt reports hypervisor_type "QEMU" for both TCG and KVM hosts and lists both domain types.
  qemu: [
    ['qemu', 'hvm'],
    ['kvm', 'hvm'],
  ],
  kvm: [
    ['kvm', 'hvm'],
    ['qemu', 'hvm'],
  ],
  xen: [
    ['xen', 'xen'],
    ['xen', 'hvm'],
  ],
  lxc: [['lxc', 'exe']],
  docker: [['docker', 'exe']],
  lxd: [['lxd', 'exe']],
  openvz: [['openvz', 'exe']],
  parallels: [
    ['parallels', 'hvm'],
    ['parallels', 'exe'],
  ],
  vz: [
    ['vz', 'hvm'],
    ['vz', 'exe'],
  ],
  uml: [['uml', 'uml']],
};

const supportedCache = new Map<string, readonly SupportedInstance[]>();

/**
 * The `supported_instances` of a host that reports `hypervisorType` on `arch`.
 * An unknown hypervisor type (e.g. `none`) supports nothing, so an image asking
 * for any architecture, hypervisor or vm mode is rejected there, as in Nova.
 * The lists are frozen and shared between hosts: a fleet has few distinct ones,
 * and the ImagePropertiesFilter reads them for every host.
 */
export const supportedInstancesFor = (arch: string, hypervisorType: string): readonly SupportedInstance[] => {
  const key = `${arch}\u0000${hypervisorType}`;
  const cached = supportedCache.get(key);
  if (cached) return cached;
  const hv = canonicalHvType(hypervisorType);
  const guests = hv === undefined ? [] : (GUESTS[hv] ?? [[hv, 'hvm'] as const]);
  const list = Object.freeze(guests.map(([t, m]) => Object.freeze([arch, t, m] as const)));
  // Bounded: arch and hypervisor names come from agents; a flood of odd names must not grow this forever.
  if (supportedCache.size < 1024) supportedCache.set(key, list);
  return list;
};
