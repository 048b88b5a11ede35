/**
 * A claim's decision at a size that needs pages (issue 12 item 5): the head goes with the
 * claim, the pages in a batch after it, every item under 400 KB with a TTL. Against the
 * stack's DynamoDB Local, in tables of its own, so no other test's fleet grows.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { documentClient } from '../adapters/dynamodb/client';
import { DynamoDecisionStore } from '../adapters/dynamodb/decision-store';
import { DynamoFleetStore } from '../adapters/dynamodb/fleet-store';
import { toItem } from '../adapters/dynamodb/node-item';
import { readDecision } from '../core/decision-read';
import { applyReport } from '../core/node/apply';
import { createTablesFromServerlessYml } from '../scripts/lib/tables';
import { bigDecision, itemBytes } from './fixtures/big-decision';
import { makeReport, stack } from './helpers';

type Json = Record<string, any>;

const db = documentClient('us-east-1', stack().dynamodbUrl);
afterAll(() => db.destroy());

describe("a claim's decision of 20,000 hosts", () => {
  it('stores its head with the claim and its pages after, all readable, none over 400 KB', async () => {
    const tag = randomUUID().slice(0, 8);
    const tables = {
      NodesTable: `cp-${tag}-nodes`,
      DecisionsTable: `cp-${tag}-decisions`,
      EventsTable: `cp-${tag}-events`,
    };
    await createTablesFromServerlessYml(stack().dynamodbUrl, tables);
    const host = `cp-${tag}`;
    const now = Date.now();
    const node = toItem(
      applyReport(undefined, makeReport(host), host, { id: 1, service_id: 1 }, now, { claimTtlS: 600, windowS: 7200 }),
      1,
      now,
    );
    await db.send(new PutCommand({ TableName: tables.NodesTable, Item: node }));
    const stored = (await db.send(new GetCommand({ TableName: tables.NodesTable, Key: { host } }))).Item as Json;
    const id = randomUUID();
    const uuid = randomUUID();
    const decision = { ...bigDecision(id, 20_000), placed: true, picks: [{ instance_uuid: uuid, host, weight: 1 }] };
    const claim = {
      instance_uuid: uuid,
      vcpus: 1,
      memory_mb: 512,
      disk_gb: 1,
      claimed_at: new Date(now).toISOString(),
      expires_at: new Date(now + 600_000).toISOString(),
    };
    const fleet = new DynamoFleetStore(db, tables.NodesTable, tables.DecisionsTable);
    const out = await fleet.claim(
      [
        {
          host,
          baseline: Number(stored.baseline ?? 0),
          maxClaimedBefore: { vcpus: 1000, memory_mb: 1_000_000, disk_gb: 100_000 },
          add: { vcpus: 1, memory_mb: 512, disk_gb: 1 },
          claims: [claim],
        },
      ],
      undefined,
      now,
      { id, decision, ttlS: 3600 },
    );
    expect(out.ok).toBe(true);

    const items = (await db.send(new ScanCommand({ TableName: tables.DecisionsTable }))).Items ?? [];
    const pages = items.filter((i) => String(i.id).startsWith(`${id}#p`));
    expect(pages.length).toBeGreaterThan(1);
    for (const i of items) {
      expect(itemBytes(i)).toBeLessThan(400 * 1024);
      expect(Number(i.expires_at)).toBeGreaterThan(now / 1000);
    }
    const store = new DynamoDecisionStore(db, tables.DecisionsTable);
    const seen: Record<string, unknown> = {};
    let page = (await readDecision(store, id)) as Json;
    expect(page).toMatchObject({ decision_id: id, placed: true, paging: { page: 1, pages: pages.length } });
    for (;;) {
      Object.assign(seen, page.rejections);
      if (!page.next) break;
      page = (await readDecision(store, id, page.next)) as Json;
    }
    expect(seen).toEqual(decision.rejections);
  });
});
