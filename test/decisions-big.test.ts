/**
 * Decisions at any size (issue 12 item 5, CONTRACT.md "Scheduling"): a
 * 100,000-host all-rejected decision made by the core scheduler, stored through
 * the real adapter into DynamoDB Local, read back over HTTP a page at a time and
 * host by host; and a real schedule over 2,000 hosts all rejected, through the API
 * (a claim's paged decision: test/decision-claim-pages.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { BatchWriteCommand, type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allPages } from '../adapters/dynamodb/batch';
import { documentClient } from '../adapters/dynamodb/client';
import { DynamoDecisionStore } from '../adapters/dynamodb/decision-store';
import { toItem } from '../adapters/dynamodb/node-item';
import { encodePageCursor } from '../core/decision-read';
import { applyReport } from '../core/node/apply';
import type { DecisionRecord } from '../core/ports';
import { bigDecision, bigHost, itemBytes } from './fixtures/big-decision';
import { call, makeReport, stack } from './helpers';

type Json = Record<string, any>;

const decisionsTable = () => stack().nodesTable.replace(/-nodes$/, '-decisions');
let db: DynamoDBDocumentClient;
beforeAll(() => {
  db = documentClient('us-east-1', stack().dynamodbUrl);
});
afterAll(() => db.destroy());

/** Every item of the decisions table whose key starts with the decision id: its head and its pages. */
const itemsOf = (id: string) =>
  allPages((start) =>
    db.send(
      new ScanCommand({
        TableName: decisionsTable(),
        FilterExpression: 'begins_with(id, :id)',
        ExpressionAttributeValues: { ':id': id },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    ),
  );

/** GET /decisions/{id}, then every ?next= until a page has none: the pages' answers in order. */
const readAllPages = async (id: string): Promise<Json[]> => {
  const first = await call<Json>('GET', `/decisions/${id}`);
  expect(first.status).toBe(200);
  const pages = [first.body];
  while (pages.at(-1)?.next) {
    const r = await call<Json>('GET', `/decisions/${id}?next=${pages.at(-1)?.next}`);
    expect(r.status).toBe(200);
    pages.push(r.body);
  }
  return pages;
};

/** Every item under DynamoDB's 400 KB and with a TTL. */
const expectItemsFit = async (id: string, pages: number) => {
  const items = await itemsOf(id);
  expect(items.map((i) => i.id).sort()).toEqual([id, ...Array.from({ length: pages }, (_, n) => `${id}#p${n}`)].sort());
  for (const item of items) {
    expect(itemBytes(item)).toBeLessThan(400 * 1024);
    expect(Number(item.expires_at)).toBeGreaterThan(Date.now() / 1000);
  }
};

describe('a 100,000-host decision, all rejected', () => {
  const id = randomUUID();
  const prefix = `big-${id.slice(0, 8)}`;
  const n = 100_000;
  let record: DecisionRecord;

  beforeAll(async () => {
    record = bigDecision(id, n, prefix);
    await new DynamoDecisionStore(db, decisionsTable()).put(id, record, 3600, Date.now());
  });

  it('reads back a page at a time: every host exactly once, with the stored reason', async () => {
    const pages = await readAllPages(id);
    const [first] = pages as [Json];
    expect(first).toMatchObject({
      decision_id: id,
      placed: false,
      hosts_considered: n,
      filter_counts: record.filter_counts,
    });
    expect(first.paging).toMatchObject({ page: 1, rejections_total: n });
    expect(first.paging.pages).toBe(pages.length);
    expect(pages.length).toBeGreaterThan(1);
    const seen = new Map<string, Json>();
    pages.forEach((p, i) => {
      expect(p.paging.page).toBe(i + 1);
      const hosts = Object.keys(p.rejections);
      expect(p.paging.rejections_in_page).toBe(hosts.length);
      for (const h of hosts) {
        expect(seen.has(h)).toBe(false);
        seen.set(h, p.rejections[h]);
      }
      // Later pages carry the rejections and where they are, not the head again.
      if (i > 0)
        expect(Object.keys(p).sort()).toEqual(
          ['decision_id', 'paging', 'rejections', ...(p.next ? ['next'] : [])].sort(),
        );
    });
    expect(seen.size).toBe(n);
    for (const i of [0, 1, 12_345, 99_999]) {
      const h = bigHost(prefix, i);
      expect(seen.get(h)).toEqual(record.rejections[h]);
    }
    await expectItemsFit(id, first.paging.pages);
  });

  it('answers ?host= for a host on the first, a middle and the last page', async () => {
    const first = (await call<Json>('GET', `/decisions/${id}`)).body;
    const pages = first.paging.pages as number;
    // Host names sort as their numbers: host i is on page ~ i / (n / pages).
    for (const i of [0, Math.floor(n / 2), n - 1]) {
      const h = bigHost(prefix, i);
      const v = await call<Json>('GET', `/decisions/${id}?host=${h}`);
      expect(v.status).toBe(200);
      const r = record.rejections[h] as Json;
      expect(v.body).toEqual({ decision_id: id, host: h, verdict: 'rejected', ...r });
    }
    expect(pages).toBeGreaterThan(2);
    const stranger = await call<Json>('GET', `/decisions/${id}?host=${prefix}-zzz.example.net`);
    expect(stranger.status).toBe(404);
    expect(stranger.body.error.code).toBe('HostNotInDecision');
  });

  it('is a 400 naming next for an edited, foreign or past-the-end next, and for next with host', async () => {
    const first = (await call<Json>('GET', `/decisions/${id}`)).body;
    const next = first.next as string;
    const bad = [
      `${next.slice(0, -2)}AA`,
      'not-a-cursor',
      encodePageCursor(randomUUID(), 1),
      encodePageCursor(id, first.paging.pages),
    ];
    for (const c of bad) {
      const r = await call<Json>('GET', `/decisions/${id}?next=${c}`);
      expect(r.status, c).toBe(400);
      expect(r.body.error.details.field).toBe('next');
    }
    const both = await call<Json>('GET', `/decisions/${id}?next=${next}&host=${bigHost(prefix, 1)}`);
    expect(both.status).toBe(400);
    expect(both.body.error.details.field).toBe('next');
  });

  it('is listed once by GET /decisions, and its pages are not', async () => {
    const ids: string[] = [];
    let next: string | undefined;
    const since = new Date(Date.parse(record.decided_at as string) - 1000).toISOString();
    do {
      const r = await call<Json>('GET', `/decisions?since=${since}${next ? `&next=${next}` : ''}`);
      expect(r.status).toBe(200);
      ids.push(...r.body.decisions.map((d: Json) => d.decision_id));
      next = r.body.next;
    } while (next);
    expect(ids.filter((d) => d === id)).toHaveLength(1);
    for (const d of ids) expect(d).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('a real schedule over 2,000 hosts, all rejected', () => {
  const az = `az-big-${randomUUID().slice(0, 8)}`;
  // Few enough that the shared test fleet's decisions stay one page for the files after this one.
  const n = 2000;
  const host = (i: number) => `${az}-${String(i).padStart(5, '0')}`;

  beforeAll(async () => {
    // Straight into the nodes table, as reports would leave them: every host's RAM taken, so no other test's
    // request lands on them either.
    const now = Date.now();
    const items = Array.from({ length: n }, (_, i) =>
      toItem(
        applyReport(
          undefined,
          makeReport(host(i), {
            availability_zone: az,
            memory_mb: 65_536,
            memory_mb_used: 65_536 - (i % 400),
          } as never),
          host(i),
          { id: 900_000 + i, service_id: 900_000 + i },
          now,
          { claimTtlS: 600, windowS: 7200 },
        ),
        1,
        now,
      ),
    );
    for (let i = 0; i < items.length; i += 25) {
      let req: Record<string, unknown[]> | undefined = {
        [stack().nodesTable]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
      };
      while (req && Object.keys(req).length > 0) {
        const out = await db.send(new BatchWriteCommand({ RequestItems: req as never }));
        req = out.UnprocessedItems as Record<string, unknown[]> | undefined;
      }
    }
  });

  afterAll(async () => {
    // Gone from the table for the files after this one (a warm schedule container forgets them at its next rescan).
    for (let i = 0; i < n; i += 25) {
      const keys = Array.from({ length: Math.min(25, n - i) }, (_, k) => ({
        DeleteRequest: { Key: { host: host(i + k) } },
      }));
      let req: Record<string, unknown[]> | undefined = { [stack().nodesTable]: keys };
      while (req && Object.keys(req).length > 0) {
        const out = await db.send(new BatchWriteCommand({ RequestItems: req as never }));
        req = out.UnprocessedItems as Record<string, unknown[]> | undefined;
      }
    }
  });

  it('answers 409 with complete counts and a capped host list, and stores every host for GET /decisions/{id}', async () => {
    const r = await call<Json>('POST', '/schedule', {
      body: {
        request_spec: {
          instance_type: { vcpus: 1, memory_mb: 4096, root_gb: 10 },
          instance_properties: { availability_zone: az },
        },
      },
    });
    expect(r.status).toBe(409);
    const details = r.body.error.details;
    const considered = Object.values(details.filter_counts as Record<string, number>).reduce((t, c) => t + c, 0);
    expect(details.filter_counts.RamFilter).toBe(n);
    expect(details.hosts_total).toBe(considered);
    expect(details.hosts_truncated).toBe(true);
    expect(Object.keys(details.hosts)).toHaveLength(1000);

    const pages = await readAllPages(details.decision_id);
    const all: Record<string, Json> = Object.assign({}, ...pages.map((p) => p.rejections));
    expect(Object.keys(all)).toHaveLength(considered);
    for (let i = 0; i < n; i++) expect(all[host(i)]?.filter).toBe('RamFilter');
    // The 409's sentences are the stored ones.
    for (const [h, reason] of Object.entries(details.hosts as Record<string, string>))
      expect(all[h]?.reason).toBe(reason);
    const v = await call<Json>('GET', `/decisions/${details.decision_id}?host=${host(n - 1)}`);
    expect(v.body).toMatchObject({ verdict: 'rejected', filter: 'RamFilter' });
    expect(v.body.reason).toMatch(/needs 4096 MB, -?\d+ MB usable/);
    await expectItemsFit(details.decision_id, pages[0]?.paging?.pages ?? 0);
  });
});
