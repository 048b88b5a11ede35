import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors';
import { parseWith } from '../schema';
import { needsInstanceUuids, ScheduleRequestSchema, toRequestSpec } from './request';
import { uuidFor } from './test-fixtures';

const flavor = { name: 'm1.small', vcpus: 1, memory_mb: 2048, root_gb: 20 };
const parse = (body: unknown) => parseWith(ScheduleRequestSchema, body);
const fieldOf = (body: unknown): string => {
  try {
    parse(body);
  } catch (e) {
    if (e instanceof ValidationError) return String(e.details.field);
    throw e;
  }
  return '(valid)';
};

describe('ScheduleRequestSchema', () => {
  it('accepts the example body of CONTRACT.md', () => {
    const body = {
      request_spec: {
        instance_type: { ...flavor, ephemeral_gb: 0, swap: 0, extra_specs: { 'capabilities:cpu_info:arch': 'x86_64' } },
        image: {
          properties: { architecture: 'x86_64', hypervisor_type: 'qemu', hypervisor_version_requires: '>=6.0' },
        },
        instance_properties: { availability_zone: 'az1' },
        num_instances: 2,
        instance_uuids: [uuidFor(1), uuidFor(2)],
      },
      filter_properties: {
        scheduler_hints: { same_host: [], different_host: [], group: 'g1', group_policy: 'anti-affinity' },
        ignore_hosts: [],
        force_hosts: [],
        retry: { num_attempts: 1, hosts: [] },
      },
      dry_run: false,
    };
    const req = parse(body);
    expect(req.request_spec.num_instances).toBe(2);
    expect(needsInstanceUuids(req)).toBe(false);
    const spec = toRequestSpec(req);
    expect(spec.scheduler_hints).toEqual({
      same_host: [],
      different_host: [],
      group: 'g1',
      group_policy: 'anti-affinity',
    });
    expect(spec.retry).toEqual({ num_attempts: 1, hosts: [] });
  });

  it('fills defaults for a minimal body', () => {
    const req = parse({ request_spec: { instance_type: flavor } });
    expect(req.dry_run).toBe(false);
    expect(req.request_spec).toMatchObject({
      num_instances: 1,
      instance_type: { ephemeral_gb: 0, swap: 0, extra_specs: {} },
      image: { properties: {} },
      instance_properties: {},
    });
    expect(req.filter_properties).toEqual({
      scheduler_hints: { same_host: [], different_host: [] },
      ignore_hosts: [],
      force_hosts: [],
    });
    expect(needsInstanceUuids(req)).toBe(true);
  });

  it('takes num_instances from the uuids when only they are given', () => {
    const req = parse({
      request_spec: { instance_type: flavor, instance_uuids: [uuidFor(1), uuidFor(2), uuidFor(3)] },
    });
    expect(req.request_spec.num_instances).toBe(3);
  });

  it('uses the uuids the caller generated when the body has none', () => {
    const req = parse({ request_spec: { instance_type: flavor, num_instances: 2 } });
    expect(toRequestSpec(req, [uuidFor(7), uuidFor(8)]).instance_uuids).toEqual([uuidFor(7), uuidFor(8)]);
    expect(() => toRequestSpec(req, [uuidFor(7)])).toThrow(/need 2 instance uuids/);
  });

  it('accepts one uuid or a list in same_host, and legacy [host, node] pairs in retry', () => {
    const req = parse({
      request_spec: { instance_type: flavor },
      filter_properties: {
        scheduler_hints: { same_host: uuidFor(1) },
        retry: { num_attempts: 2, hosts: ['host-a', ['host-b', 'host-b']] },
      },
    });
    const spec = toRequestSpec(req, [uuidFor(9)]);
    expect(spec.scheduler_hints.same_host).toEqual([uuidFor(1)]);
    expect(spec.retry).toEqual({ num_attempts: 2, hosts: ['host-a', 'host-b'] });
  });

  const bad: [name: string, body: unknown, field: string][] = [
    ['an unknown top-level field', { request_spec: { instance_type: flavor }, dryrun: true }, 'dryrun'],
    [
      'an unknown flavor field',
      { request_spec: { instance_type: { ...flavor, ram: 1 } } },
      'request_spec.instance_type.ram',
    ],
    [
      'a negative size',
      { request_spec: { instance_type: { ...flavor, memory_mb: -1 } } },
      'request_spec.instance_type.memory_mb',
    ],
    [
      'a fractional size',
      { request_spec: { instance_type: { ...flavor, vcpus: 1.5 } } },
      'request_spec.instance_type.vcpus',
    ],
    ['a missing flavor', { request_spec: {} }, 'request_spec.instance_type'],
    ['num_instances 0', { request_spec: { instance_type: flavor, num_instances: 0 } }, 'request_spec.num_instances'],
    [
      'num_instances 1001',
      { request_spec: { instance_type: flavor, num_instances: 1001 } },
      'request_spec.num_instances',
    ],
    [
      'uuids that do not match num_instances',
      { request_spec: { instance_type: flavor, num_instances: 2, instance_uuids: [uuidFor(1)] } },
      'request_spec.instance_uuids',
    ],
    [
      'a repeated uuid',
      { request_spec: { instance_type: flavor, instance_uuids: [uuidFor(1), uuidFor(1)] } },
      'request_spec.instance_uuids.1',
    ],
    [
      'more uuids than one transaction can move (rule 6)',
      { request_spec: { instance_type: flavor, instance_uuids: Array.from({ length: 34 }, (_, i) => uuidFor(i + 1)) } },
      'request_spec.instance_uuids',
    ],
    [
      'a uuid that is not one',
      { request_spec: { instance_type: flavor, instance_uuids: ['x'] } },
      'request_spec.instance_uuids.0',
    ],
    [
      'an unknown architecture',
      { request_spec: { instance_type: flavor, image: { properties: { architecture: 'z80' } } } },
      'request_spec.image.properties.architecture',
    ],
    [
      'a version requirement without operator',
      { request_spec: { instance_type: flavor, image: { properties: { hypervisor_version_requires: '6.0' } } } },
      'request_spec.image.properties.hypervisor_version_requires',
    ],
    [
      'a group without a policy',
      { request_spec: { instance_type: flavor }, filter_properties: { scheduler_hints: { group: 'g1' } } },
      'filter_properties.scheduler_hints.group_policy',
    ],
    [
      'an unknown policy',
      {
        request_spec: { instance_type: flavor },
        filter_properties: { scheduler_hints: { group: 'g1', group_policy: 'soft-affinity' } },
      },
      'filter_properties.scheduler_hints.group_policy',
    ],
    [
      'an unknown hint',
      { request_spec: { instance_type: flavor }, filter_properties: { scheduler_hints: { diferent_host: [] } } },
      'filter_properties.scheduler_hints.diferent_host',
    ],
    ['dry_run that is not a boolean', { request_spec: { instance_type: flavor }, dry_run: 'yes' }, 'dry_run'],
  ];
  it.each(bad)('rejects %s, naming the field', (_name, body, field) => {
    expect(fieldOf(body)).toBe(field);
  });
});
