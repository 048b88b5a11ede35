import { z } from 'zod';
import { ValidationError } from './errors';
import { count, HOST_PATTERN, UUID_PATTERN } from './schema';

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

/** A resource reservation made by the scheduler, held until a report or notification absorbs it. */
export interface Claim {
  instance_uuid: string;
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
  group?: string;
  claimed_at: string;
  expires_at: string;
  /**
   * Set by the instance's `create.end`: the claim no longer expires at `expires_at`; a report listing
   * the instance absorbs it, and one that still does not list it `claim_ttl` later reaps it as drift.
   */
  confirmed_at?: string;
}

/** Resources of one instance. */
export interface Usage {
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
}

/** An instance the ledger counts on top of (announced) or takes off (released) the last report's figures. */
export interface LedgerInstance extends Usage {
  /** When the event that put it here was applied. */
  at: string;
}

/**
 * Where a report's measurement and the ledger disagree (docs/accounting.md):
 * an instance nobody scheduled or announced, or a claimed/announced instance
 * that never appeared in a report within `claim_ttl` and was reaped.
 */
export interface Drift extends Usage {
  kind: 'unknown_instance' | 'missing_instance';
  instance_uuid: string;
  since: string;
  detail: string;
}

/** Ledger bookkeeping a report applies; from the report function's config. */
export interface LedgerPolicy {
  claimTtlS: number;
  /** How long tombstones and missing-instance drift are kept (the idempotency window). */
  windowS: number;
}

/** What the store keeps per host: Nova's compute_nodes columns plus our bookkeeping. */
export interface NodeRecord {
  host: string;
  id: number;
  service_id: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  /** Nova's soft-delete marker: 0 when live, the row's id when deleted. */
  deleted: number;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  vcpus_used: number;
  memory_mb_used: number;
  local_gb_used: number;
  hypervisor_type: string;
  hypervisor_version: number;
  cpu_info: CpuInfo;
  disk_available_least: number;
  current_workload: number;
  running_vms: number;
  hypervisor_hostname: string;
  instances: Instance[];
  /** What the agent reported; the operator's `availability_zone` wins. */
  reported_availability_zone: string | null;
  operator_availability_zone: string | null;
  disabled: boolean;
  disabled_reason: string | null;
  metadata: Record<string, string>;
  claims: Record<string, Claim>;
  /** create.end of an instance no scheduler claimed, not yet in a report: counted on top of it. */
  announced: Record<string, LedgerInstance>;
  /** Instances the last report lists that delete.end / create.error released: taken off it. */
  released: Record<string, LedgerInstance>;
  /** Tombstones: instances released, by time; a later create.end for one changes nothing. */
  gone: Record<string, string>;
  drift: Drift[];
  seq: number;
  /** The agent's clock at report time. */
  reported_at: string;
  /** The server's clock at report time, ms since the epoch; drives `status`. */
  received_at_ms: number;
  /**
   * Node tokens of this host issued before this time (ms precision) answer 401 TokenRevoked:
   * set by `revoke_tokens` and by DELETE, never moved back; null or absent when never revoked.
   */
  tokens_revoked_at?: string | null;
}

/** A node as the API shows it. */
export interface NodeView
  extends Omit<
    NodeRecord,
    | 'claims'
    | 'announced'
    | 'released'
    | 'gone'
    | 'reported_availability_zone'
    | 'operator_availability_zone'
    | 'received_at_ms'
  > {
  free_ram_mb: number;
  free_disk_gb: number;
  availability_zone: string;
  status: 'up' | 'down';
  claims: Claim[];
  announced: (LedgerInstance & { instance_uuid: string })[];
  released: (LedgerInstance & { instance_uuid: string })[];
}

export const DEFAULT_AVAILABILITY_ZONE = 'nova';

/** Claims still counting at `nowMs`: not absorbed, and confirmed or not expired. */
export const liveClaims = (claims: Record<string, Claim>, nowMs: number): Claim[] =>
  Object.values(claims)
    .filter((c) => c.confirmed_at !== undefined || Date.parse(c.expires_at) > nowMs)
    .sort((a, b) => a.claimed_at.localeCompare(b.claimed_at) || a.instance_uuid.localeCompare(b.instance_uuid));

/** Sum of claims (or any usages), per resource. */
export const claimedTotals = (xs: readonly Usage[]): Usage =>
  xs.reduce(
    (t, c) => ({ vcpus: t.vcpus + c.vcpus, memory_mb: t.memory_mb + c.memory_mb, disk_gb: t.disk_gb + c.disk_gb }),
    { vcpus: 0, memory_mb: 0, disk_gb: 0 },
  );

/**
 * What the ledger adds to the last report's measured usage at `nowMs`: live
 * claims + announced − released; `unconfirmed` counts the live claims no
 * create.end confirmed (confirmed, announced and released ones are already in
 * `running_vms`, which events move).
 */
export const pendingUsage = (r: NodeRecord, nowMs: number): Usage & { unconfirmed: number } => {
  const listed = new Set(r.instances.map((i) => i.uuid.toLowerCase()));
  const claims = liveClaims(r.claims, nowMs).filter((c) => !listed.has(c.instance_uuid.toLowerCase()));
  return { ...ledgerSum(claims, r), unconfirmed: claims.filter((c) => c.confirmed_at === undefined).length };
};

/** `claims` + announced − released. */
const ledgerSum = (claims: readonly Usage[], r: Pick<NodeRecord, 'announced' | 'released'>): Usage => {
  const plus = claimedTotals([...claims, ...Object.values(r.announced ?? {})]);
  const minus = claimedTotals(Object.values(r.released ?? {}));
  return {
    vcpus: plus.vcpus - minus.vcpus,
    memory_mb: plus.memory_mb - minus.memory_mb,
    disk_gb: plus.disk_gb - minus.disk_gb,
  };
};

/**
 * What the item's `claimed_*` counters hold: every stored claim (expired ones
 * too, until a report prunes them) + announced − released. Claims and events
 * move the counters with ADD/SET arithmetic; whole-item writes recompute them here.
 */
export const storedPending = (r: NodeRecord): Usage => ledgerSum(Object.values(r.claims), r);

/** `up` when the last report arrived less than `serviceDownTimeS` ago (Nova's servicegroup DB driver). */
export const nodeStatus = (receivedAtMs: number, nowMs: number, serviceDownTimeS: number): 'up' | 'down' =>
  nowMs - receivedAtMs < serviceDownTimeS * 1000 ? 'up' : 'down';

/**
 * The API view: usage accounting rule 1 — free = capacity − measured used − pending, where
 * pending = live claims not listed by the report + announced − released (docs/accounting.md).
 */
export const toNodeView = (r: NodeRecord, nowMs: number, serviceDownTimeS: number): NodeView => {
  const claims = liveClaims(r.claims, nowMs);
  const pending = pendingUsage(r, nowMs);
  const {
    claims: _c,
    announced,
    released,
    gone: _g,
    reported_availability_zone,
    operator_availability_zone,
    received_at_ms,
    ...columns
  } = r;
  const listOf = (m: Record<string, LedgerInstance> | undefined) =>
    Object.entries(m ?? {})
      .map(([instance_uuid, e]) => ({ instance_uuid, ...e }))
      .sort((a, b) => a.at.localeCompare(b.at) || a.instance_uuid.localeCompare(b.instance_uuid));
  return {
    ...columns,
    drift: r.drift ?? [],
    free_ram_mb: r.memory_mb - r.memory_mb_used - pending.memory_mb,
    free_disk_gb: r.local_gb - r.local_gb_used - pending.disk_gb,
    availability_zone: operator_availability_zone ?? reported_availability_zone ?? DEFAULT_AVAILABILITY_ZONE,
    status: nodeStatus(received_at_ms, nowMs, serviceDownTimeS),
    claims,
    announced: listOf(announced),
    released: listOf(released),
    tokens_revoked_at: r.tokens_revoked_at ?? null,
  };
};

const driftOf = (kind: Drift['kind'], uuid: string, u: Usage, since: string, detail: string): Drift => ({
  kind,
  instance_uuid: uuid,
  vcpus: u.vcpus,
  memory_mb: u.memory_mb,
  disk_gb: u.disk_gb,
  since,
  detail,
});

/** At most this many drift entries are kept per node (newest first). */
export const MAX_DRIFT = 50;
/**
 * At most this many tombstones (`gone`) per node, ≈ 62 bytes each. A release
 * finding them full takes the resources off but writes no tombstone (the
 * update's condition checks `size(gone)`), and a report keeps the newest. A
 * late create.end of an untombstoned instance is then announced: counted, the
 * safe way, until a report lists it or `claim_ttl` reaps it as drift.
 */
export const MAX_TOMBSTONES = 512;
/**
 * At most this many announced instances (create.end of an instance no scheduler
 * claimed) per node, ≈ 100 bytes each. A create.end finding them full counts
 * nothing until the next report measures the instance (`unknown_instance`
 * drift); a report keeps the newest and reaps the rest as `missing_instance`.
 */
export const MAX_ANNOUNCED = 256;

/** The `n` newest entries of a map, by the time `at` gives (ties by key). */
const newest = <T>(m: Record<string, T>, n: number, at: (v: T) => string): [string, T][] =>
  Object.entries(m)
    .sort(([ka, a], [kb, b]) => at(b).localeCompare(at(a)) || ka.localeCompare(kb))
    .slice(0, n);

const ageS = (iso: string, nowMs: number) => (nowMs - Date.parse(iso)) / 1000;

/**
 * What a report does to the ledger (docs/accounting.md): the instances it lists
 * absorb their claims and announcements (rule 3: counted once, by the
 * measurement); a claim or announcement no report lists within `claim_ttl`
 * is reaped and recorded as drift, as is a listed instance the ledger never
 * heard of; a released instance stays subtracted while the report still lists it.
 */
export const reconcile = (
  prev: Pick<NodeRecord, 'claims' | 'announced' | 'released' | 'gone' | 'drift' | 'instances'> | undefined,
  instances: Instance[],
  nowMs: number,
  policy: LedgerPolicy,
): Pick<NodeRecord, 'claims' | 'announced' | 'released' | 'gone' | 'drift'> => {
  const now = new Date(nowMs).toISOString();
  const listed = new Map(instances.map((i) => [i.uuid.toLowerCase(), i]));
  const prevListed = new Set((prev?.instances ?? []).map((i) => i.uuid.toLowerCase()));
  const missing: Drift[] = [];
  const miss = (uuid: string, u: Usage, since: string, detail: string) =>
    missing.push(driftOf('missing_instance', uuid, u, since, detail));

  const claims: Record<string, Claim> = {};
  for (const [uuid, c] of Object.entries(prev?.claims ?? {})) {
    if (listed.has(uuid.toLowerCase())) continue;
    if (c.confirmed_at === undefined) {
      if (Date.parse(c.expires_at) > nowMs) claims[uuid] = c;
      else miss(uuid, c, c.claimed_at, `claim expired at ${c.expires_at}: no create.end, no report listed it`);
    } else if (ageS(c.confirmed_at, nowMs) <= policy.claimTtlS) claims[uuid] = c;
    else miss(uuid, c, c.claimed_at, `confirmed at ${c.confirmed_at}, but no report listed it within claim_ttl`);
  }
  const announced: Record<string, LedgerInstance> = {};
  for (const [uuid, a] of Object.entries(prev?.announced ?? {})) {
    if (listed.has(uuid.toLowerCase())) continue;
    if (ageS(a.at, nowMs) <= policy.claimTtlS) announced[uuid] = a;
    else miss(uuid, a, a.at, `announced by create.end at ${a.at}, but no report listed it within claim_ttl`);
  }
  // Beyond the bound (an item written before it existed): the oldest go, as drift.
  const keptAnnounced = new Set(newest(announced, MAX_ANNOUNCED, (a) => a.at).map(([u]) => u));
  for (const [uuid, a] of Object.entries(announced)) {
    if (keptAnnounced.has(uuid)) continue;
    delete announced[uuid];
    miss(uuid, a, a.at, `announced by create.end at ${a.at}, dropped: more than ${MAX_ANNOUNCED} announced`);
  }
  const fresh = Object.entries(prev?.gone ?? {}).filter(([, at]) => ageS(at, nowMs) <= policy.windowS);
  const gone: Record<string, string> = Object.fromEntries(
    newest(Object.fromEntries(fresh), MAX_TOMBSTONES, (at) => at),
  );
  const released: Record<string, LedgerInstance> = {};
  for (const [uuid, r] of Object.entries(prev?.released ?? {})) if (listed.has(uuid.toLowerCase())) released[uuid] = r;
  // Released before any report listed it: a report measured before the delete still counts it.
  for (const [uuid, at] of Object.entries(gone)) {
    const i = listed.get(uuid.toLowerCase());
    if (i && !released[uuid]) released[uuid] = { vcpus: i.vcpus, memory_mb: i.memory_mb, disk_gb: i.disk_gb, at };
  }

  const known = (uuid: string) =>
    Object.hasOwn(prev?.claims ?? {}, uuid) ||
    Object.hasOwn(prev?.announced ?? {}, uuid) ||
    Object.hasOwn(gone, uuid) ||
    prevListed.has(uuid);
  const unknown: Drift[] = [];
  const stillUnknown = new Set<string>();
  for (const d of prev?.drift ?? []) {
    if (d.kind === 'unknown_instance' && listed.has(d.instance_uuid)) {
      unknown.push(d);
      stillUnknown.add(d.instance_uuid);
    }
  }
  for (const [uuid, i] of listed) {
    if (stillUnknown.has(uuid) || known(uuid)) continue;
    unknown.push(
      driftOf(
        'unknown_instance',
        uuid,
        i,
        now,
        'reported running, but no scheduler claimed it and no create.end announced it',
      ),
    );
  }
  const oldMissing = (prev?.drift ?? []).filter(
    (d) => d.kind === 'missing_instance' && ageS(d.since, nowMs) <= policy.windowS + policy.claimTtlS,
  );
  const drift = [...unknown, ...missing, ...oldMissing]
    .sort((a, b) => b.since.localeCompare(a.since) || a.instance_uuid.localeCompare(b.instance_uuid))
    .slice(0, MAX_DRIFT);
  return { claims, announced, released, gone, drift };
};

/** The record a report produces, given what was stored before (if anything). */
export const applyReport = (
  prev: NodeRecord | undefined,
  report: Report,
  host: string,
  ids: { id: number; service_id: number },
  nowMs: number,
  policy: LedgerPolicy,
): NodeRecord => {
  const now = new Date(nowMs).toISOString();
  const instances = report.instances ?? [];
  const ledger = reconcile(prev, instances, nowMs, policy);
  const count = (m: Record<string, unknown>) => Object.keys(m).length;
  const confirmed = Object.values(ledger.claims).filter((c) => c.confirmed_at !== undefined).length;
  return {
    host,
    id: prev?.id ?? ids.id,
    service_id: prev?.service_id ?? ids.service_id,
    created_at: prev?.created_at ?? now,
    updated_at: now,
    deleted_at: null,
    deleted: 0,
    vcpus: report.vcpus,
    memory_mb: report.memory_mb,
    local_gb: report.local_gb,
    vcpus_used: report.vcpus_used,
    memory_mb_used: report.memory_mb_used,
    local_gb_used: report.local_gb_used,
    hypervisor_type: report.hypervisor_type,
    hypervisor_version: report.hypervisor_version,
    cpu_info: report.cpu_info,
    disk_available_least: report.disk_available_least,
    current_workload: report.current_workload,
    // Measured, plus what events moved that the measurement does not see yet: the same
    // instances the resources count (confirmed and announced on top, released taken off).
    running_vms: report.running_vms + confirmed + count(ledger.announced) - count(ledger.released),
    hypervisor_hostname: report.hypervisor_hostname,
    instances,
    reported_availability_zone: report.availability_zone ?? null,
    operator_availability_zone: prev?.operator_availability_zone ?? null,
    disabled: prev?.disabled ?? false,
    disabled_reason: prev?.disabled_reason ?? null,
    metadata: prev?.metadata ?? {},
    ...ledger,
    seq: report.seq,
    reported_at: report.reported_at,
    received_at_ms: nowMs,
    // A report (a revival included) never lifts a revocation: the token that sent it was checked against it.
    tokens_revoked_at: prev?.tokens_revoked_at ?? null,
  };
};

/** The record after an operator's patch; `null` clears. */
export const applyPatch = (r: NodeRecord, p: NodePatch, nowMs: number): NodeRecord => {
  const merged = new Map(Object.entries(r.metadata));
  for (const [k, v] of p.metadata ?? []) {
    if (v === null) merged.delete(k);
    else merged.set(k, v);
  }
  // fromEntries defines own properties: a key named like an Object.prototype member stays a plain key.
  const metadata: Record<string, string> = Object.fromEntries(merged);
  if (merged.size > MAX_METADATA_KEYS) {
    throw new ValidationError('metadata', `would hold more than ${MAX_METADATA_KEYS} keys; remove some with null`);
  }
  return {
    ...r,
    updated_at: new Date(nowMs).toISOString(),
    disabled: p.disabled ?? r.disabled,
    disabled_reason: p.disabled_reason === undefined ? r.disabled_reason : p.disabled_reason,
    operator_availability_zone: p.availability_zone === undefined ? r.operator_availability_zone : p.availability_zone,
    metadata,
    tokens_revoked_at: p.revoke_tokens ? revokedAt(r, nowMs) : (r.tokens_revoked_at ?? null),
  };
};

/** The revocation time a revoke (or DELETE) at `nowMs` leaves: never earlier than one already stored. */
export const revokedAt = (r: Pick<NodeRecord, 'tokens_revoked_at'>, nowMs: number): string => {
  const now = new Date(nowMs).toISOString();
  return r.tokens_revoked_at && r.tokens_revoked_at > now ? r.tokens_revoked_at : now;
};
