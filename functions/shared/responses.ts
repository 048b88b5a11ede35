/**
 * The shapes the API answers with, as zod schemas: the source of the OpenAPI
 * document's response schemas (functions/shared/openapi.ts), checked against real
 * responses by test/openapi.test.ts. Where a response repeats what a request
 * sends (a node's report columns, the stored schedule request), it reuses the
 * request's own schema rather than a copy.
 */
import { z } from 'zod';
import { CpuInfoSchema, InstanceSchema, ReportSchema } from '../../core/nodes';

const int = () => z.number().int();
const timestamp = () => z.string().describe('ISO 8601, UTC');

/** `{"error": {"code", "message", "details"}}`: every non-2xx answer (CONTRACT.md "Errors"). */
export const ErrorSchema = z.object({
  error: z.object({
    code: z.string().describe('one word: ValidationError, NodeNotFound, NoValidHost, …'),
    message: z.string().describe('one human sentence; a 400 names the offending field'),
    details: z
      .looseObject({ field: z.string().optional().describe('the offending field of a 400') })
      .describe('machine-readable particulars; a 503 carries retry_after_s'),
  }),
});

/** A scheduler's reservation, held until a report or notification absorbs it. */
export const ClaimSchema = z.object({
  instance_uuid: z.string(),
  vcpus: int(),
  memory_mb: int(),
  disk_gb: int(),
  group: z.string().optional(),
  claimed_at: timestamp(),
  expires_at: timestamp(),
  confirmed_at: timestamp().optional().describe("set by the instance's create.end: it no longer expires"),
});

const LedgerInstanceSchema = z.object({
  instance_uuid: z.string(),
  vcpus: int(),
  memory_mb: int(),
  disk_gb: int(),
  at: timestamp(),
});

const DriftSchema = z.object({
  kind: z.enum(['unknown_instance', 'missing_instance']),
  instance_uuid: z.string(),
  vcpus: int(),
  memory_mb: int(),
  disk_gb: int(),
  since: timestamp(),
  detail: z.string(),
});

/** A compute node as `GET /nodes/{host}` shows it: Nova's compute_nodes columns plus the ledger. */
export const NodeSchema = ReportSchema.pick({
  hypervisor_hostname: true,
  hypervisor_type: true,
  hypervisor_version: true,
  vcpus: true,
  memory_mb: true,
  local_gb: true,
  vcpus_used: true,
  memory_mb_used: true,
  local_gb_used: true,
  disk_available_least: true,
  running_vms: true,
  current_workload: true,
  seq: true,
  reported_at: true,
}).extend({
  host: z.string(),
  id: int(),
  service_id: int(),
  created_at: timestamp(),
  updated_at: timestamp(),
  deleted_at: timestamp().nullable(),
  deleted: int().describe("0 when live, the node's id when soft-deleted (Nova's convention)"),
  cpu_info: CpuInfoSchema,
  instances: z.array(InstanceSchema).describe('what the last report listed as running'),
  free_ram_mb: int().describe('memory_mb − memory_mb_used − claims not yet absorbed'),
  free_disk_gb: int().describe('local_gb − local_gb_used − claims not yet absorbed'),
  availability_zone: z.string(),
  status: z.enum(['up', 'down']).describe('up while the last report is younger than service_down_time'),
  disabled: z.boolean(),
  disabled_reason: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  claims: z.array(ClaimSchema).describe('live claims, oldest first'),
  announced: z.array(LedgerInstanceSchema).describe('create.end of instances no scheduler claimed, not yet reported'),
  released: z.array(LedgerInstanceSchema).describe('reported instances a delete.end or create.error released'),
  drift: z.array(DriftSchema),
  tokens_revoked_at: timestamp().nullable(),
});

/** `GET /nodes`: one page; `next` continues. */
export const NodeListSchema = z.object({
  nodes: z.array(NodeSchema),
  next: z.string().optional().describe('pass as ?next= for the following page; absent on the last'),
});

const WeigherPartSchema = z.object({
  weigher: z.string(),
  raw: z.number(),
  normalized: z.number().describe('raw scaled into [0, 1] against the candidates (all equal: 0)'),
  multiplier: z.number(),
  contribution: z.number().describe('multiplier × normalized'),
});

/** A survivor with its weight and each weigher's part, best first. */
export const RankedHostSchema = z.object({
  host: z.string(),
  weight: z.number(),
  weighers: z.array(WeigherPartSchema),
});

const PickSchema = z.object({ instance_uuid: z.string(), host: z.string(), weight: z.number() });

/** The first filter that rejected a host and why; `code` and `figures` carry the reason as data where stored. */
const RejectionSchema = z.looseObject({
  filter: z.string(),
  reason: z.string().describe('in numbers: "needs 2048 MB, 1024 MB usable of 4096 MB × 1.0"'),
  instance_index: int().optional(),
  code: z.string().optional(),
  figures: z.record(z.string(), z.unknown()).optional(),
});

/** `POST /schedule`'s 200. */
export const ScheduleResultSchema = z.object({
  decision_id: z.string(),
  selections: z.array(PickSchema).describe('in request order'),
  claims: z.array(ClaimSchema).describe('empty on a dry run'),
  dry_run: z.boolean(),
  summary: z.string(),
  ranking: z.array(RankedHostSchema).optional().describe('dry run only: every survivor with its weigher breakdown'),
  stats: z.looseObject({
    items_read: int(),
    host_state_age_ms: z.number(),
    attempts: int(),
    elapsed_ms: z.number(),
    timings: z.record(z.string(), z.number()),
  }),
});

/** Which page of a paged decision an answer is (core/decision-read.ts). */
const PagingSchema = z
  .object({
    page: int().describe('1-based'),
    pages: int(),
    rejections_in_page: int(),
    rejections_total: int().describe('every rejected host, over all pages'),
    missing: z.literal(true).optional().describe("this page's item was not stored: its hosts are not in the answer"),
  })
  .describe(
    'present when the decision is paged (its rejections exceed ~1 MB of JSON, ~5,000 hosts): this answer holds one page of the rejections, by host name; follow next',
  );

const nextOfPage = z
  .string()
  .optional()
  .describe('pass as ?next= to GET /decisions/{id} for the following page of rejections; absent on the last');

/**
 * `GET /decisions/{id}`: the stored decision. Open-ended (`additionalProperties`):
 * it also carries the time spent per phase and, for a ranking too large to keep, `truncated`.
 * A paged decision's first page: this, with one page of `rejections`, `paging` and `next`.
 */
export const DecisionSchema = z.looseObject({
  decision_id: z.string(),
  // The stored request is a POST /schedule body with its defaults applied: it refers to that input schema.
  request: z.unknown().meta({ $ref: '#/components/schemas/ScheduleRequest' }),
  placed: z.boolean(),
  summary: z.string(),
  hosts_considered: int(),
  filter_counts: z.record(z.string(), int()).describe('filter → hosts it rejected'),
  rejections: z.record(z.string(), RejectionSchema).describe('host → its first rejection'),
  ranking: z.array(RankedHostSchema).describe("the best survivors' weigher breakdown (decision_ranking_limit)"),
  picks: z.array(PickSchema),
  claims: z.array(ClaimSchema).optional(),
  dry_run: z.boolean(),
  decided_at: timestamp(),
  host_state_age_ms: z.number(),
  paging: PagingSchema.optional(),
  next: nextOfPage,
});

/** `GET /decisions/{id}?next=`: a later page of a paged decision's rejections. */
export const DecisionPageSchema = z.strictObject({
  decision_id: z.string(),
  rejections: z.record(z.string(), RejectionSchema).describe('host → its first rejection, this page'),
  paging: PagingSchema,
  next: nextOfPage,
});

/** `GET /decisions/{id}?host=`: that one host's verdict. */
export const HostVerdictSchema = z.discriminatedUnion('verdict', [
  z.object({
    decision_id: z.string(),
    host: z.string(),
    verdict: z.literal('rejected'),
    filter: z.string(),
    reason: z.string(),
    instance_index: int().optional(),
    code: z.string().optional(),
    figures: z.record(z.string(), z.unknown()).optional(),
  }),
  z.object({
    decision_id: z.string(),
    host: z.string(),
    verdict: z.literal('picked'),
    instances: z.array(z.object({ instance_uuid: z.string(), weight: z.number() })),
    rank: int().optional(),
    weight: z.number().optional(),
    weighers: z.array(WeigherPartSchema).optional(),
  }),
  z.object({
    decision_id: z.string(),
    host: z.string(),
    verdict: z.literal('passed'),
    rank: int().describe('place among the ranked survivors, 1 = best'),
    weight: z.number(),
    weighers: z.array(WeigherPartSchema),
  }),
]);

/** `GET /decisions`: a page of stored decisions, each as a trace needs it (core/decision-list.ts). */
export const DecisionListSchema = z.object({
  decisions: z.array(
    z.object({
      decision_id: z.string(),
      decided_at: z.string().optional(),
      placed: z.boolean().optional(),
      dry_run: z.boolean().optional(),
      summary: z.string().optional(),
      request: z.unknown().optional(),
      picks: z.unknown().optional(),
    }),
  ),
  next: z.string().optional(),
});
