/**
 * The `POST /schedule` body (CONTRACT.md "Scheduling"), after Nova's
 * request_spec and filter_properties. Strict: an unknown field is a 400
 * naming it, never silently dropped. Image properties stay open (Glance
 * properties are free-form) but the ones the filters read are checked the way
 * Nova's ImageMetaProps coerces them.
 */
import { z } from 'zod';
import { count, HOST_PATTERN, UUID_PATTERN } from '../schema';
import { canonicalArch, canonicalHvType, canonicalVmMode } from './canonical';
import type { RequestSpec } from './types';
import { parseVersionPredicate } from './version';

// Lower-cased: `ABC…` and `abc…` are one instance.
const uuid = z
  .string()
  .regex(UUID_PATTERN, 'must be a uuid')
  .transform((u) => u.toLowerCase());

/**
 * At most 50 instances a request: every claim of a request, its server group and
 * its decision go in one DynamoDB transaction (100 items, 4 KB per expression).
 */
export const MAX_INSTANCES_PER_REQUEST = 50;
/**
 * At most 33 uuids a client names: each may already hold a claim elsewhere (contract rule 6),
 * so it costs up to three items of that transaction (its new host, its old host, its pointer).
 */
export const MAX_CLIENT_UUIDS_PER_REQUEST = 33;
const hostName = z.string().regex(HOST_PATTERN, 'must be a hostname');
/** Nova accepts one uuid or a list for same_host / different_host. */
const uuidList = z
  .union([uuid, z.array(uuid).max(1000)])
  .transform((v) => (typeof v === 'string' ? [v] : v))
  .default([]);

/** Image properties: free-form strings; those the filters read must be names Nova knows. */
const ImagePropertiesSchema = z.record(z.string().min(1).max(255), z.string().max(255)).superRefine((props, ctx) => {
  const check = (keys: string[], canonical: (v: string) => string | undefined, what: string) => {
    for (const key of keys) {
      const v = Object.hasOwn(props, key) ? props[key] : undefined;
      if (v !== undefined && v !== '' && canonical(v) === undefined) {
        ctx.addIssue({ code: 'custom', path: [key], message: `"${v}" is not a known ${what}` });
      }
    }
  };
  check(['architecture', 'hw_architecture'], canonicalArch, 'architecture');
  check(['hypervisor_type', 'img_hv_type'], canonicalHvType, 'hypervisor type');
  check(['vm_mode', 'hw_vm_mode'], canonicalVmMode, 'vm mode');
  for (const key of ['hypervisor_version_requires', 'img_hv_requested_version']) {
    const v = Object.hasOwn(props, key) ? props[key] : undefined;
    if (v === undefined || v === '') continue;
    const p = parseVersionPredicate(v);
    if ('error' in p) ctx.addIssue({ code: 'custom', path: [key], message: p.error });
  }
});

const FlavorSchema = z.strictObject({
  name: z.string().max(255).default(''),
  // Nova's flavors: at least one vCPU and 1 MB of RAM.
  vcpus: count().min(1),
  memory_mb: count().min(1),
  root_gb: count(),
  ephemeral_gb: count().default(0),
  /** MB, as in Nova. */
  swap: count().default(0),
  extra_specs: z.record(z.string().min(1).max(255), z.string().max(255)).default({}),
});

const RequestSpecSchema = z
  .strictObject({
    instance_type: FlavorSchema,
    image: z.strictObject({ properties: ImagePropertiesSchema.default({}) }).default({ properties: {} }),
    instance_properties: z.strictObject({ availability_zone: z.string().min(1).max(255).optional() }).default({}),
    num_instances: z.number().int().min(1).max(MAX_INSTANCES_PER_REQUEST).optional(),
    instance_uuids: z
      .array(uuid)
      .min(1)
      .max(MAX_CLIENT_UUIDS_PER_REQUEST, `at most ${MAX_CLIENT_UUIDS_PER_REQUEST} uuids a request`)
      .optional(),
  })
  .superRefine((rs, ctx) => {
    const uuids = rs.instance_uuids;
    if (!uuids) return;
    if (rs.num_instances !== undefined && uuids.length !== rs.num_instances) {
      ctx.addIssue({
        code: 'custom',
        path: ['instance_uuids'],
        message: `has ${uuids.length} uuids but num_instances is ${rs.num_instances}`,
      });
    }
    const seen = new Set<string>();
    uuids.forEach((u, i) => {
      const k = u.toLowerCase();
      if (seen.has(k)) ctx.addIssue({ code: 'custom', path: ['instance_uuids', i], message: `repeats ${u}` });
      seen.add(k);
    });
  })
  // num_instances defaults to the number of uuids given, else 1.
  .transform((rs) => ({ ...rs, num_instances: rs.num_instances ?? rs.instance_uuids?.length ?? 1 }));

const SchedulerHintsSchema = z
  .strictObject({
    same_host: uuidList,
    different_host: uuidList,
    group: z.string().min(1).max(255).optional(),
    group_policy: z.enum(['affinity', 'anti-affinity']).optional(),
  })
  .refine((h) => (h.group === undefined) === (h.group_policy === undefined), {
    message: 'group and group_policy go together',
    path: ['group_policy'],
  });

/** Retried hosts: host names, or Nova's legacy `[host, node]` pairs. */
const RetrySchema = z.strictObject({
  num_attempts: count().default(1),
  hosts: z
    .array(z.union([hostName, z.tuple([hostName, hostName])]))
    .max(1000)
    .default([]),
});

const FilterPropertiesSchema = z.strictObject({
  scheduler_hints: SchedulerHintsSchema.default({ same_host: [], different_host: [] }),
  ignore_hosts: z.array(hostName).max(10000).default([]),
  force_hosts: z.array(hostName).max(10000).default([]),
  retry: RetrySchema.optional(),
});

/** The `POST /schedule` body. */
export const ScheduleRequestSchema = z.strictObject({
  request_spec: RequestSpecSchema,
  filter_properties: FilterPropertiesSchema.default({
    scheduler_hints: { same_host: [], different_host: [] },
    ignore_hosts: [],
    force_hosts: [],
  }),
  dry_run: z.boolean().default(false),
});

/** A validated `POST /schedule` body, defaults applied. */
export type ScheduleRequest = z.infer<typeof ScheduleRequestSchema>;

/** True when the caller must generate the instance uuids (the body gave none). */
export const needsInstanceUuids = (req: ScheduleRequest): boolean => req.request_spec.instance_uuids === undefined;

/**
 * The scheduler's RequestSpec for a validated body. `generatedUuids` (one per
 * instance) is required exactly when `needsInstanceUuids(req)`.
 */
export const toRequestSpec = (req: ScheduleRequest, generatedUuids?: readonly string[]): RequestSpec => {
  const rs = req.request_spec;
  const fp = req.filter_properties;
  const uuids = rs.instance_uuids ?? generatedUuids;
  if (!uuids || uuids.length !== rs.num_instances) {
    throw new Error(`toRequestSpec: need ${rs.num_instances} instance uuids, got ${uuids?.length ?? 0}`);
  }
  const hints = fp.scheduler_hints;
  return {
    instance_type: rs.instance_type,
    image: rs.image,
    instance_properties: rs.instance_properties,
    num_instances: rs.num_instances,
    instance_uuids: uuids,
    scheduler_hints: {
      same_host: hints.same_host,
      different_host: hints.different_host,
      ...(hints.group === undefined ? {} : { group: hints.group }),
      ...(hints.group_policy === undefined ? {} : { group_policy: hints.group_policy }),
    },
    ignore_hosts: fp.ignore_hosts,
    force_hosts: fp.force_hosts,
    ...(fp.retry
      ? {
          retry: {
            num_attempts: fp.retry.num_attempts,
            hosts: fp.retry.hosts.map((h) => (typeof h === 'string' ? h : h[0])),
          },
        }
      : {}),
  };
};
