/**
 * A compact snapshot of the fleet in the nodes table, so a cold schedule container loads it with a
 * handful of reads instead of scanning every node item (docs/scale.md, "Cold start").
 *
 * Layout: the nodes as the scheduler holds them (`StoredNode`), cut into consecutive parts; each
 * part is one chunk item under `#snapshot#<generation>#<i>`: its nodes with the record fields that
 * repeat across hosts (cpu_info, metadata, hypervisor_type, zones, …) interned in the part's own
 * dictionary, as JSON, gzipped, at most 350 KB (under the 400 KB item limit with margin). Parts
 * decode on their own, so a reader gunzips and parses each as it arrives (gunzip on libuv's
 * threadpool, beside the main thread's JSON.parse of the part before) and never holds the whole
 * fleet's JSON at once (at 100k hosts ~155 MB as one string: ~1 s of gunzip, ~1 s of parse, all
 * after the last read). The head `#snapshot`, written LAST, names the format, the generation, its
 * chunk count, its as-of time and the SHA-256 of the parts' bytes in order.
 * Every key starts with `#`, so `isNodeItem` skips them; none has `shard`, so by_change never sees them.
 */
import { isAscii } from 'node:buffer';
import { createHash, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gunzipSync, gzip } from 'node:zlib';
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import type { NodeRecord } from '../../core/node/record';
import type { StoredNode } from '../../core/ports';
import { META_PREFIX } from './node-item';

/** Bytes of gzipped snapshot per chunk item: 400 KB item limit less margin for the key and attribute names. */
export const CHUNK_BYTES = 350 * 1024;
export const SNAPSHOT_HEAD = `${META_PREFIX}snapshot`;
export const SNAPSHOT_LEASE = `${META_PREFIX}snapshot-lease`;
const chunkKey = (generation: string, i: number) => `${SNAPSHOT_HEAD}#${generation}#${i}`;
/** DynamoDB's limit of keys in one BatchGetItem. */
const MAX_BATCH_GET = 100;
/**
 * Keys per BatchGetItem: 16 MB per call and 350 KB per chunk allow 45; 2, so responses arrive one
 * after another and each part decodes while the next is still on its way.
 */
const CHUNKS_PER_GET = 2;
/** BatchGetItems in flight at once. */
const GETS_IN_FLIGHT = 6;
/**
 * 3: drift's shared strings interned (2: one self-contained gzipped part per chunk; 1: one gzip
 * stream cut into chunks). An older head reads as 'undecodable': the container scans once.
 */
const FORMAT = 3;
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * Record fields that differ per host or change with every write: kept inline. Every other field
 * (cpu_info, metadata, hypervisor_type, zones, disabled_reason, …, and fields added later) is
 * interned: hosts of one model share one copy in the bytes and, once decoded, in the heap.
 */
const PER_NODE = new Set<string>([
  'host',
  'id',
  'service_id',
  'created_at',
  'updated_at',
  'deleted_at',
  'deleted',
  'vcpus_used',
  'memory_mb_used',
  'local_gb_used',
  'disk_available_least',
  'current_workload',
  'running_vms',
  'hypervisor_hostname',
  'instances',
  'claims',
  'announced',
  'released',
  'gone',
  'drift',
  'seq',
  'reported_at',
  'received_at_ms',
  'tokens_revoked_at',
]);

/** One node in the snapshot: inline fields, interned fields as dictionary indexes, the bookkeeping. */
type EncodedNode = {
  r: Record<string, unknown>;
  i: Record<string, number>;
  v: number;
  b: number;
  c: number;
  u: StoredNode['claimed'];
};
type Encoded = { f: number; asOfMs: number; dict: unknown[]; nodes: EncodedNode[] };

/** A value shared by many nodes must not be changed through one of them. */
const deepFreeze = <T>(v: T): T => {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
};

/**
 * String fields of a drift entry (`Drift`: always strings) that repeat across entries and hosts —
 * its kind, its time, its sentence: each stored as its index in the part's dictionary. Drift is
 * the biggest inline field of a host that adopted instances nobody scheduled (~630 of ~1,100 bytes
 * in bench:coldstart's fleet).
 */
const DRIFT_SHARED = ['kind', 'since', 'detail'] as const;

/** Replaces every repeated field value by its index in one dictionary (one entry per distinct JSON). */
export const internNodes = (nodes: readonly StoredNode[], asOfMs: number): Encoded => {
  const dict: unknown[] = [];
  const index = new Map<string, number>();
  const intern = (v: unknown): number => {
    const key = JSON.stringify(v);
    let at = index.get(key);
    if (at === undefined) {
      at = dict.push(v) - 1;
      index.set(key, at);
    }
    return at;
  };
  const out: EncodedNode[] = nodes.map((n) => {
    const r: Record<string, unknown> = {};
    const i: Record<string, number> = {};
    for (const [k, v] of Object.entries(n.record)) {
      if (k === 'drift' && Array.isArray(v)) r[k] = v.map((d) => internDrift(d, intern));
      else if (PER_NODE.has(k) || v === null || v === undefined) r[k] = v;
      else i[k] = intern(v);
    }
    return { r, i, v: n.ver, b: n.baseline, c: n.changedAt, u: n.claimed };
  });
  return { f: FORMAT, asOfMs, dict, nodes: out };
};

const internDrift = (d: unknown, intern: (v: unknown) => number): unknown => {
  if (!d || typeof d !== 'object') return d;
  const e = { ...(d as Record<string, unknown>) };
  for (const k of DRIFT_SHARED) if (typeof e[k] === 'string') e[k] = intern(e[k]);
  return e;
};

/** The nodes back from `internNodes`; interned values are shared (and frozen). */
export const expandNodes = (e: Encoded): StoredNode[] => {
  if (e.f !== FORMAT) throw new Error(`snapshot format ${e.f} is not ${FORMAT}`);
  const dict = e.dict;
  for (const v of dict) deepFreeze(v);
  const out: StoredNode[] = new Array(e.nodes.length);
  // Indexed loops and for…in: Object.entries per node cost ~100 ms at 100k hosts.
  for (let j = 0; j < e.nodes.length; j++) {
    const n = e.nodes[j] as EncodedNode;
    const record = n.r;
    const drift = record.drift;
    if (Array.isArray(drift))
      for (const d of drift as Record<string, unknown>[])
        for (const k of DRIFT_SHARED) if (typeof d[k] === 'number') d[k] = dict[d[k]];
    for (const k in n.i) record[k] = dict[n.i[k] as number];
    out[j] = { record: record as unknown as NodeRecord, ver: n.v, baseline: n.b, changedAt: n.c, claimed: n.u };
  }
  return out;
};

export const sha256 = (parts: readonly Buffer[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('base64');
};

/** gzip level: 6 (zlib's default) packs 100k nodes' ~155 MB of JSON into ~6 MB. */
const LEVEL = 6;

/**
 * The snapshot of `nodes` as of `asOfMs`, as gzipped parts of at most `maxBytes` each (at least
 * one, so an empty fleet has a chunk). A part's node count is guessed from the previous part's
 * bytes per node (aiming at 90 % of `maxBytes`), halved and redone when it comes out too big.
 * gzip runs on the threadpool: the lease holder's container keeps serving between parts.
 */
export const encodeParts = async (
  nodes: readonly StoredNode[],
  asOfMs: number,
  maxBytes = CHUNK_BYTES,
): Promise<Buffer[]> => {
  const out: Buffer[] = [];
  let per = 1000;
  for (let at = 0; at < nodes.length || out.length === 0; ) {
    const n = Math.max(1, Math.min(per, nodes.length - at));
    const part = await gzipAsync(asciiJson(internNodes(nodes.slice(at, at + n), asOfMs)), { level: LEVEL });
    if (part.length > maxBytes) {
      if (n === 1) throw new Error(`node ${nodes[at]?.record.host} alone is ${part.length} B of snapshot`);
      per = Math.floor(n / 2);
      continue;
    }
    out.push(part);
    at += n;
    per = Math.max(1, Math.floor((n * 0.9 * maxBytes) / Math.max(1, part.length)));
  }
  return out;
};

/**
 * JSON with every non-ASCII character as a `\u` escape: the same value, but one-byte text, which
 * the reader turns into a string by copying (latin1) instead of decoding UTF-8.
 */
export const asciiJson = (v: unknown): string =>
  JSON.stringify(v).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A part's JSON, gunzipped, back to nodes (interned values shared). */
const partOf = (raw: Buffer): { asOfMs: number; nodes: StoredNode[] } => {
  // ASCII (every part `asciiJson` wrote): latin1 is a copy; anything else is decoded as UTF-8.
  const e = JSON.parse(raw.toString(isAscii(raw) ? 'latin1' : 'utf8')) as Encoded;
  return { asOfMs: e.asOfMs, nodes: expandNodes(e) };
};

/**
 * zlib's output buffer for one part: its whole unzipped size, which gzip's trailer holds (ISIZE, the
 * last 4 bytes, little-endian, mod 2^32). zlib's default 16 KB meant ~270 threadpool round trips, as
 * many buffers and a concatenation per 4 MB part: ~1 s of the main thread at 100k hosts.
 */
const gunzipOptions = (bytes: Buffer) => ({
  chunkSize:
    bytes.length >= 18
      ? Math.min(256 * 1024 * 1024, Math.max(64 * 1024, bytes.readUInt32LE(bytes.length - 4) + 1))
      : 64 * 1024,
});

/** One part back (synchronous: tests and tools; the reader uses `decodePart`). */
export const decodePartSync = (bytes: Buffer) => partOf(gunzipSync(bytes, gunzipOptions(bytes)));

/** One part back: gunzip on the threadpool (one round trip), then parse and expand on the main thread. */
export const decodePart = async (bytes: Buffer) => partOf(await gunzipAsync(bytes, gunzipOptions(bytes)));

/** The head item: which generation is current, and the one before it (kept, for readers of an older head). */
type Head = {
  host: string;
  format: number;
  generation: string;
  chunks: number;
  as_of_ms: number;
  sha256: string;
  bytes: number;
  nodes: number;
  previous?: { generation: string; chunks: number };
};

/** What a snapshot write did: its size and its cost (1 WCU per KB rounded up per item, AWS's rule). */
export type SnapshotWritten = {
  generation: string;
  nodes: number;
  bytes: number;
  chunks: number;
  wcu: number;
  /** Each chunk's gzipped bytes, in order. */
  chunkBytes: number[];
};

/** Why a read found no usable snapshot (the caller scans instead). */
export type SnapshotMiss = 'no-head' | 'missing-chunk' | 'bad-checksum' | 'undecodable';

/**
 * Reads and writes the fleet snapshot of one nodes table, and the lease that lets one schedule
 * container at a time write it.
 */
export class FleetSnapshotStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
    /** Who this container is, in the lease. */
    readonly owner: string = randomUUID(),
  ) {}

  /**
   * Takes or renews the writer's lease until now + `forMs`: a conditional PutItem that succeeds when
   * nobody holds it, it has expired, or this owner holds it. False when another owner holds it.
   */
  async acquireLease(forMs: number): Promise<boolean> {
    const now = this.now();
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { host: SNAPSHOT_LEASE, owner: this.owner, expires_ms: now + forMs },
          ConditionExpression: 'attribute_not_exists(host) OR expires_ms < :now OR #owner = :me',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': now, ':me': this.owner },
        }),
      );
      return true;
    } catch (e) {
      if ((e as Error).name === 'ConditionalCheckFailedException') return false;
      throw e;
    }
  }

  /**
   * Writes a snapshot of `nodes` as of `asOfMs`: the chunks first, then the head naming them, then
   * deletes the generation before the previous one (the previous stays for readers of the old head).
   */
  async write(nodes: readonly StoredNode[], asOfMs: number): Promise<SnapshotWritten> {
    const pieces = await encodeParts(nodes, asOfMs);
    const bytes = pieces.reduce((n, p) => n + p.length, 0);
    const generation = `${asOfMs.toString(36)}-${randomUUID().slice(0, 8)}`;
    const old = await this.head(true);
    let wcu = 0;
    // Chunk by chunk, a few at a time: each is ~350 WCU on its own partition key.
    await inParallel(pieces, 4, async (data, i) => {
      await this.db.send(new PutCommand({ TableName: this.table, Item: { host: chunkKey(generation, i), data } }));
      wcu += Math.ceil((data.length + 64) / 1024);
    });
    const head: Head = {
      host: SNAPSHOT_HEAD,
      format: FORMAT,
      generation,
      chunks: pieces.length,
      as_of_ms: asOfMs,
      sha256: sha256(pieces),
      bytes,
      nodes: nodes.length,
      ...(old ? { previous: { generation: old.generation, chunks: old.chunks } } : {}),
    };
    await this.db.send(new PutCommand({ TableName: this.table, Item: head }));
    wcu += 1;
    const stale = old?.previous;
    if (stale) await this.deleteGeneration(stale.generation, stale.chunks);
    return {
      generation,
      nodes: nodes.length,
      bytes,
      chunks: pieces.length,
      wcu,
      chunkBytes: pieces.map((p) => p.length),
    };
  }

  /**
   * The snapshot the head names, or why there is none usable. Eventually consistent reads are
   * enough: chunks are written once under fresh keys before the head names them, so a read
   * returns a whole chunk or none, and an old head names a generation still kept.
   */
  async read(): Promise<{ asOfMs: number; nodes: StoredNode[]; bytes: number } | { miss: SnapshotMiss }> {
    const head = await this.head(false);
    if (!head) return { miss: 'no-head' };
    if (head.format !== FORMAT) return { miss: 'undecodable' };
    const keys = Array.from({ length: head.chunks }, (_, i) => ({ host: chunkKey(head.generation, i) }));
    const groups: { host: string }[][] = [];
    for (let i = 0; i < keys.length; i += CHUNKS_PER_GET) groups.push(keys.slice(i, i + CHUNKS_PER_GET));
    const index = new Map(keys.map((k, i) => [k.host, i]));
    // Filled, not holey: `some` below must see a chunk that never came.
    const parts: (Buffer | undefined)[] = Array.from({ length: keys.length }, () => undefined);
    const decoded: (StoredNode[] | undefined)[] = Array.from({ length: keys.length }, () => undefined);
    let broken = false;
    // Each part is decoded as soon as its response is in, while the other reads are on their way.
    const decoding: Promise<void>[] = [];
    await inParallel(groups, GETS_IN_FLIGHT, async (g) => {
      for (const item of await batchGetEventual(this.db, this.table, g)) {
        const i = index.get(String(item.host));
        if (i === undefined) continue;
        const b = Buffer.from(item.data as Uint8Array);
        parts[i] = b;
        decoding.push(
          decodePart(b).then(
            (d) => {
              decoded[i] = d.nodes;
            },
            () => {
              broken = true;
            },
          ),
        );
      }
    });
    await Promise.all(decoding);
    if (parts.some((p) => p === undefined)) return { miss: 'missing-chunk' };
    const whole = parts as Buffer[];
    if (sha256(whole) !== head.sha256) return { miss: 'bad-checksum' };
    if (broken) return { miss: 'undecodable' };
    const nodes: StoredNode[] = [];
    for (const d of decoded) for (const n of d ?? []) nodes.push(n);
    return { asOfMs: head.as_of_ms, nodes, bytes: head.bytes };
  }

  private async head(consistent: boolean): Promise<Head | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { host: SNAPSHOT_HEAD }, ConsistentRead: consistent }),
    );
    return out.Item as Head | undefined;
  }

  private async deleteGeneration(generation: string, chunks: number): Promise<void> {
    await inParallel(
      Array.from({ length: chunks }, (_, i) => i),
      8,
      async (i) => {
        await this.db.send(new DeleteCommand({ TableName: this.table, Key: { host: chunkKey(generation, i) } }));
      },
    );
  }
}

/** Runs `f` over `items`, at most `width` at once. */
const inParallel = async <T>(items: readonly T[], width: number, f: (x: T, i: number) => Promise<void>) => {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await f(items[i] as T, i);
      }
    }),
  );
};

/** BatchGetItem, eventually consistent (half the RCU of batch.ts's consistent batchGetAll), unprocessed keys asked again. */
const batchGetEventual = async (
  db: DynamoDBDocumentClient,
  table: string,
  keys: Record<string, unknown>[],
): Promise<Record<string, unknown>[]> => {
  if (keys.length > MAX_BATCH_GET) throw new Error(`${keys.length} keys do not fit one BatchGetItem`);
  const found: Record<string, unknown>[] = [];
  let left: Record<string, unknown>[] | undefined = keys;
  for (let round = 0; left && left.length > 0; round++) {
    if (round >= 5) throw new Error(`${left.length} snapshot chunks unprocessed`);
    const out = await db.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: left } } }));
    found.push(...(out.Responses?.[table] ?? []));
    left = out.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined;
  }
  return found;
};
