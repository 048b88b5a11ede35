import { describe, expect, it } from 'vitest';
import { check, makeHost, makeSpec } from '../test-fixtures';
import type { HostState } from '../types';
import { ComputeCapabilitiesFilter, pyStr } from './compute-capabilities-filter';

// Scenarios from Nova's test_compute_capabilities_filters.py, on this HostState.
describe('ComputeCapabilitiesFilter', () => {
  const cpu = {
    vendor: 'Intel',
    model: 'core2duo',
    arch: 'i686',
    features: ['lahf_lm', 'rdtscp'],
    topology: { cores: 1, threads: 1, sockets: 1 },
  };
  const cases: { name: string; host?: Partial<HostState>; specs: Record<string, string>; pass: boolean }[] = [
    { name: 'passes without extra specs', specs: {}, pass: true },
    {
      name: 'rejects when cpu_info lacks the key',
      host: { cpu_info: {} },
      specs: { 'capabilities:cpu_info:vendor': 'Intel' },
      pass: false,
    },
    {
      name: 'passes a matching cpu_info vendor',
      host: { cpu_info: cpu },
      specs: { 'capabilities:cpu_info:vendor': 'Intel' },
      pass: true,
    },
    {
      name: 'walks nested cpu_info (topology:cores)',
      host: { cpu_info: cpu },
      specs: { 'capabilities:cpu_info:topology:cores': '>= 1' },
      pass: true,
    },
    {
      name: 'reads cpu_info:arch',
      host: { cpu_info: cpu },
      specs: { 'capabilities:cpu_info:arch': 'x86_64' },
      pass: false,
    },
    {
      name: 'matches features with <all-in>',
      host: { cpu_info: cpu },
      specs: { 'capabilities:cpu_info:features': '<all-in> lahf_lm rdtscp' },
      pass: true,
    },
    {
      name: 'rejects a missing feature with <all-in>',
      host: { cpu_info: cpu },
      specs: { 'capabilities:cpu_info:features': '<all-in> avx512f' },
      pass: false,
    },
    {
      name: 'rejects walking into a value that is not an object',
      host: { cpu_info: cpu },
      specs: { 'capabilities:cpu_info:arch:x': '1' },
      pass: false,
    },
    { name: 'ignores self-defined unscoped specs', specs: { XXYY: '1' }, pass: true },
    {
      name: 'ignores specs of another scope',
      specs: { 'wrong_scope:opt1': '1', 'hw:cpu_policy': 'dedicated' },
      pass: true,
    },
    // free_ram_mb 1024 ≥ 300
    {
      name: 'checks unscoped host attributes (free_ram_mb >= 300)',
      host: { free_ram_mb: 1024 },
      specs: { free_ram_mb: '>= 300' },
      pass: true,
    },
    {
      name: 'rejects free_ram_mb <= 300 for 1024',
      host: { free_ram_mb: 1024 },
      specs: { free_ram_mb: '<= 300' },
      pass: false,
    },
    { name: 'passes vcpus_used <= 20 for 0', specs: { vcpus_used: '<= 20' }, pass: true },
    { name: 'rejects vcpus_used >= 20 for 0', specs: { vcpus_used: '>= 20' }, pass: false },
    {
      name: 'passes free_disk_mb 0 against "0" (plain string equality)',
      host: { free_disk_mb: 0 },
      specs: { free_disk_mb: '0' },
      pass: true,
    },
    {
      name: 'rejects free_disk_mb 1 for 0 (plain string equality)',
      host: { free_disk_mb: 0 },
      specs: { free_disk_mb: '1' },
      pass: false,
    },
    { name: 'checks the hypervisor type in scope', specs: { 'capabilities:hypervisor_type': 's== QEMU' }, pass: true },
    { name: 'rejects an unknown capability in scope', specs: { 'capabilities:opts': '1' }, pass: false },
  ];
  it.each(cases)('$name', ({ host, specs, pass }) => {
    const spec = makeSpec({ extra_specs: specs });
    expect(check(ComputeCapabilitiesFilter, makeHost({ host: 'host1', ...host }), spec).pass).toBe(pass);
  });

  it('says what was wanted and what the host has', () => {
    const spec = makeSpec({ extra_specs: { 'capabilities:cpu_info:arch': 'x86_64' } });
    const host = makeHost({ host: 'h', arch: 'aarch64' });
    expect(check(ComputeCapabilitiesFilter, host, spec)).toMatchObject({
      pass: false,
      reason: 'ComputeCapabilitiesFilter: capabilities:cpu_info:arch wants "x86_64", host has "aarch64"',
    });
  });

  it("prints values as Python's str() does", () => {
    expect(pyStr(['aes', 'mmx'])).toBe("['aes', 'mmx']");
    expect(pyStr({ cores: 1, ok: true })).toBe("{'cores': 1, 'ok': True}");
    expect(pyStr(4)).toBe('4');
  });
});
