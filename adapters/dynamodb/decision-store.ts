import { gunzipSync, gzipSync } from 'node:zlib';

import { type DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  type CompactPage,
  cutRanking,
  type DecisionHead,
  decodePage,
  halve,
  headOf,
  pagingOf,
  rankedCount,
  rankingOf,
  type StoredHead,
  splitDecision,
} from '../../core/decision-pages';
import type { DecisionRecord, DecisionRejection, DecisionStore, InstanceClaimRef } from '../../core/ports';
import { batchPutAll } from './batch';

/**
 * Largest gzipped body an item gets: DynamoDB items hold 400 KB, and the key and
 * the other attributes need room. A page gzipped larger is cut in two until it fits.
 */
export const MAX_BODY_BYTES = 350_000;

/** A head's ranking kept when the head would not fit one item with all of it (a dry run over a huge fleet). */
const RANKING_KEPT = 100;

// Level 1: a third of level 6's CPU on the claim path, for a few percent more bytes.
const gz = (v: unknown): Buffer => gzipSync(JSON.stringify(v), { level: 1 });

/** The key of page `n` of decision `id`: no decision id or instance pointer has a `#p`. */
export const pageKey = (id: string, n: number): string => `${id}#p${n}`;

/**
 * The stored form of a decision: its head item (`id`, gzipped JSON, `created_at`,
 * `expires_at` in epoch s for TTL) and its page items (`<id>#p<n>`, gzipped
 * compact pages, the same `expires_at`), none over MAX_BODY_BYTES of body.
 */
export const decisionItems = (
  id: string,
  decision: DecisionRecord,
  ttlS: number,
  nowMs: number,
): { head: Record<string, unknown>; pages: Record<string, unknown>[] } => {
  const expires_at = Math.floor(nowMs / 1000) + ttlS;
  let { head, pages } = splitDecision(decision);
  let body = gz(head);
  if (body.length > MAX_BODY_BYTES && head.rx) {
    // Rejections that fit one response but not the head's item (names that barely compress): one page.
    const { rx, ...rest } = head;
    pages = [rx];
    head = rest;
  }
  const fitted: { page: CompactPage; body: Buffer }[] = [];
  const queue = [...pages];
  while (queue.length > 0) {
    const page = queue.shift() as CompactPage;
    const b = gz(page);
    if (b.length > MAX_BODY_BYTES && page.hosts.length > 1) queue.unshift(...halve(page));
    else fitted.push({ page, body: b });
  }
  if (fitted.length > 0) {
    const total = fitted.reduce((t, f) => t + f.page.hosts.length, 0);
    head = {
      ...head,
      paging: pagingOf(
        fitted.map((f) => f.page),
        total,
      ),
    };
    body = gz(head);
  }
  if (body.length > MAX_BODY_BYTES) {
    head = { ...cutRanking(head, RANKING_KEPT), truncated: { ranking_total: rankedCount(head) } };
    body = gz(head);
  }
  return {
    head: { id, body, created_at: new Date(nowMs).toISOString(), expires_at },
    pages: fitted.map((f, n) => ({ id: pageKey(id, n), body: f.body, expires_at })),
  };
};

/** An item's body, read back. */
const unzip = (item: Record<string, unknown>): unknown =>
  JSON.parse(gunzipSync(item.body as Uint8Array).toString('utf8'));

/** TTL deletion lags expiry by up to a day or two: an expired item is gone to the reader. */
const live = (item: Record<string, unknown> | undefined): item is Record<string, unknown> =>
  item !== undefined && Number(item.expires_at) * 1000 > Date.now();

/**
 * The pointer of an instance uuid to its claim (contract rule 6) lives in the decisions
 * table, under a key no decision id has (ids are uuids): out of the nodes table's scan
 * and its by_change_sharded index, and expired by the same TTL.
 */
export const pointerKey = (uuid: string): string => `instance#${uuid}`;

/**
 * A pointer item. A group member's has no `expires_at`: it is how notify finds the
 * group of an instance a report has since absorbed, and it goes when the member leaves.
 */
export const pointerItem = (ref: InstanceClaimRef, ttlS: number, nowMs: number): Record<string, unknown> => ({
  id: pointerKey(ref.instance_uuid),
  host: ref.host,
  claimed_at: ref.claimed_at,
  decision_id: ref.decision_id,
  vcpus: ref.vcpus,
  memory_mb: ref.memory_mb,
  disk_gb: ref.disk_gb,
  ...(ref.group === undefined ? { expires_at: Math.floor(nowMs / 1000) + ttlS } : { group: ref.group }),
});

/** The claim a pointer item names. */
export const refOf = (item: Record<string, unknown>): InstanceClaimRef => ({
  instance_uuid: String(item.id).slice('instance#'.length),
  host: String(item.host),
  claimed_at: String(item.claimed_at),
  ...(item.decision_id === undefined ? {} : { decision_id: String(item.decision_id) }),
  vcpus: Number(item.vcpus ?? 0),
  memory_mb: Number(item.memory_mb ?? 0),
  disk_gb: Number(item.disk_gb ?? 0),
  ...(item.group === undefined ? {} : { group: String(item.group) }),
});

/**
 * Decisions in the decisions table: a head item each and, past one response's
 * worth of rejections, page items (core/decision-pages.ts); `expires_at` drives TTL.
 */
export class DynamoDecisionStore implements DecisionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(id: string, decision: DecisionRecord, ttlS: number, nowMs: number): Promise<void> {
    const { head, pages } = decisionItems(id, decision, ttlS, nowMs);
    // Pages first: a reader who finds the head finds its pages.
    await batchPutAll(this.db, this.table, pages);
    await this.db.send(new PutCommand({ TableName: this.table, Item: head }));
  }

  async head(id: string): Promise<DecisionHead | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true }));
    return live(out.Item) ? headOf(unzip(out.Item) as StoredHead) : undefined;
  }

  async page(id: string, n: number): Promise<Record<string, DecisionRejection> | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { id: pageKey(id, n) }, ConsistentRead: true }),
    );
    return live(out.Item) ? decodePage(unzip(out.Item) as CompactPage) : undefined;
  }

  /** A Scan page of heads (not the pages, not the instance pointers: both have a `#`), unexpired, created at or after `since`. */
  async list(q: {
    since?: string;
    limit: number;
    after?: string;
  }): Promise<{ decisions: DecisionHead[]; last?: string }> {
    const out = await this.db.send(
      new ScanCommand({
        TableName: this.table,
        Limit: q.limit,
        ...(q.after ? { ExclusiveStartKey: { id: q.after } } : {}),
        FilterExpression: `NOT contains(id, :hash) AND expires_at > :now${q.since ? ' AND created_at >= :since' : ''}`,
        ExpressionAttributeValues: {
          ':hash': '#',
          ':now': Math.floor(Date.now() / 1000),
          ...(q.since ? { ':since': q.since } : {}),
        },
      }),
    );
    // A listing has no rejections: the inline ones are not decoded.
    const decisions = (out.Items ?? []).map((i) => {
      const stored = unzip(i) as StoredHead;
      const { rx: _rx, rejections: _r, rk: _rk, ...rest } = stored;
      return { ...rest, ranking: rankingOf(stored) };
    });
    const last = out.LastEvaluatedKey?.id;
    return { decisions, ...(typeof last === 'string' ? { last } : {}) };
  }
}
