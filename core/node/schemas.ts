/**
 * The node API's wire schemas (CONTRACT.md "Compute nodes"): what an agent's
 * report, an operator's patch and a list query may hold. Parsing only; what a
 * report or patch does to a stored node is core/node/apply.ts.
 */
import { z } from 'zod';
import { count, HOST_PATTERN, UUID_PATTERN } from '../schema';

/** 2^40: a capacity figure beyond this (a 1 EiB host in MB) is a bug, and would overflow the claim bounds. */
const MAX_FIGURE = 2 ** 40;
const figure = () => count().max(MAX_FIGURE);

/**
 * The largest report `seq` accepted: 2^50. The agent counts in milliseconds since the epoch
 * (agent/state.ts), which reaches it in the year 37,648; well below 2^53, so a stored seq can
 * always be exceeded by the next one. A soft-deleted node accepts any seq (the report that revives it).
 */
export const MAX_SEQ = 2 ** 50;

/** An instance the agent saw running on the host. */
export const InstanceSchema = z.strictObject({
  uuid: z.string().regex(UUID_PATTERN, 'must be a uuid'),
  vcpus: figure(),
  memory_mb: figure(),
  disk_gb: count(),
});
export type Instance = z.infer<typeof InstanceSchema>;

export const CpuInfoSchema = z.strictObject({
  arch: z.string().min(1).max(64),
  vendor: z.string().max(128),
  model: z.string().max(256),
  features: z.array(z.string().min(1).max(64)).max(1024),
  topology: z.strictObject({
    sockets: count().min(1),
    cores: count().min(1),
    threads: count().min(1),
  }),
});
export type CpuInfo = z.infer<typeof CpuInfoSchema>;

/**
 * The agent's report, `PUT /nodes/{host}` (CONTRACT.md "Compute nodes").
 * Unknown fields are rejected, naming the field: a typo must not be silently dropped.
 */
export const ReportSchema = z.strictObject({
  hypervisor_hostname: z.string().regex(HOST_PATTERN, 'must be a hostname'),
  hypervisor_type: z.string().min(1).max(64),
  hypervisor_version: count(),
  cpu_info: CpuInfoSchema,
  vcpus: figure(),
  memory_mb: figure(),
  local_gb: figure(),
  vcpus_used: figure(),
  memory_mb_used: figure(),
  local_gb_used: figure(),
  disk_available_least: z.number().int().min(-MAX_FIGURE).max(MAX_FIGURE),
  running_vms: figure(),
  current_workload: figure(),
  instances: z
    .array(InstanceSchema)
    .max(1000)
    .superRefine((list, ctx) => {
      // One instance is one uuid, whatever its case (Nova's uuids are case-insensitive).
      const seen = new Map<string, number>();
      list.forEach((inst, i) => {
        const key = inst.uuid.toLowerCase();
        const first = seen.get(key);
        if (first === undefined) seen.set(key, i);
        else ctx.addIssue({ code: 'custom', path: [i, 'uuid'], message: `repeats instances.${first}.uuid` });
      });
    })
    .optional(),
  availability_zone: z.string().min(1).max(255).optional(),
  seq: count().max(MAX_SEQ, `must be at most ${MAX_SEQ} (2^50)`),
  reported_at: z.iso.datetime({ offset: true }),
});
export type Report = z.infer<typeof ReportSchema>;

/**
 * `GET /nodes` query: `limit` (1–1000, default 1000) nodes a page; `next` (the
 * previous page's `next`) continues; `deleted=true` includes soft-deleted nodes.
 */
export const ListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(1000),
  /** Opaque: the previous page's `next`, decoded by the handler (functions/shared/cursor.ts). */
  next: z.string().max(1024).optional(),
  deleted: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

/** A node's metadata holds at most this many keys (64 × 510 bytes keeps the item far below 400 KB). */
export const MAX_METADATA_KEYS = 64;

/**
 * Keys that cannot round-trip through a JavaScript object read from DynamoDB (the SDK's
 * unmarshall assigns `__proto__` as the prototype): refused with a 400 rather than lost.
 */
const RESERVED_METADATA_KEYS = new Set(['__proto__']);

/**
 * `metadata` of a PATCH, read key by key from the body's own properties (a record schema
 * assigns keys onto an object, which swallows `__proto__`): any other key — `constructor`,
 * `toString` — is stored and read back as sent.
 */
const MetadataPatchSchema = z
  .preprocess(
    (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? new Map(Object.entries(v)) : v),
    z.map(z.string().min(1).max(255), z.string().max(255).nullable(), { error: 'must be an object' }),
  )
  .superRefine((m, ctx) => {
    for (const k of m.keys()) {
      if (RESERVED_METADATA_KEYS.has(k)) ctx.addIssue({ code: 'custom', path: [k], message: 'is a reserved key' });
    }
    if (m.size > MAX_METADATA_KEYS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_METADATA_KEYS} keys` });
  });

/** The operator's `PATCH /nodes/{host}`; `null` clears what the operator set. */
export const PatchSchema = z
  .strictObject({
    disabled: z.boolean().optional(),
    disabled_reason: z.string().max(255).nullable().optional(),
    availability_zone: z.string().min(1).max(255).nullable().optional(),
    metadata: MetadataPatchSchema.optional(),
    /** Revokes every node token of the host issued before now (CONTRACT.md "Credentials"); cannot be undone. */
    revoke_tokens: z
      .literal(true, { error: 'must be true (a revocation cannot be undone; leave the field out)' })
      .optional(),
  })
  .refine((p) => Object.keys(p).length > 0, { message: 'at least one field must be set' });
export type NodePatch = z.infer<typeof PatchSchema>;
