/**
 * Decisions at any size (issue 12 item 5): a decision of 1k / 10k / 100k hosts all
 * rejected, made by the core scheduler (test/fixtures/big-decision.ts), stored through
 * DynamoDecisionStore into DynamoDB Local of its own. Per size: the items it takes,
 * their bytes (DynamoDB's item-size rules), the largest, the write cost by AWS's rules
 * (1 WCU per KB per item, rounded up; DynamoDB Local reports none), the time to encode
 * and to store it, and to read one host's verdict (the head and one page; its RCU:
 * 1 per 4 KB per item, strongly consistent).
 * Alone: `QM_TEST_PORT_OFFSET=40 npx tsx bench/decisions.ts`.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../adapters/dynamodb/client';
import { DynamoDecisionStore, decisionItems, pageKey } from '../adapters/dynamodb/decision-store';
import { pageOfHost } from '../core/decision-pages';
import { readHostVerdict } from '../core/decision-read';
import { startDynamoDbLocal } from '../scripts/lib/dynamodb-local';
import { stopChild } from '../scripts/lib/stack';
import { createTablesFromServerlessYml } from '../scripts/lib/tables';
import { bigDecision, bigHost, itemBytes, putWcu } from '../test/fixtures/big-decision';

/** One size's figures. */
export interface DecisionRow {
  hosts: number;
  items: number;
  total_bytes: number;
  largest_bytes: number;
  raw_json_bytes: number;
  wcu: number;
  encode_ms: number;
  store_ms: number;
  host_read_ms: number;
  host_read_rcu: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Runs the decision bench against a DynamoDB Local of its own (port 8900 + QM_TEST_PORT_OFFSET). */
export const benchDecisions = async (log: (s: string) => void, sizes = [1_000, 10_000, 100_000]) => {
  const port = 8900 + Number(process.env.QM_TEST_PORT_OFFSET ?? 0);
  const java = await startDynamoDbLocal(port);
  const endpoint = `http://127.0.0.1:${port}`;
  const table = 'qm-bench-decisions';
  const db = documentClient('us-east-1', endpoint);
  try {
    await createTablesFromServerlessYml(endpoint, {
      NodesTable: 'qm-bench-nodes',
      DecisionsTable: table,
      EventsTable: 'qm-bench-events',
    });
    const store = new DynamoDecisionStore(db, table);
    const rows: DecisionRow[] = [];
    for (const n of sizes) {
      log(`decisions: ${n.toLocaleString('en-US')} hosts`);
      const d = bigDecision(randomUUID(), n, 'cmp');
      const encodes: number[] = [];
      let items = decisionItems(d.decision_id, d, 3600, Date.now());
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        items = decisionItems(d.decision_id, d, 3600, Date.now());
        encodes.push(performance.now() - t);
      }
      const all = [items.head, ...items.pages];
      const sizesOf = all.map(itemBytes);
      const stores: number[] = [];
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const id = randomUUID();
        const t = performance.now();
        await store.put(id, { ...d, decision_id: id }, 3600, Date.now());
        stores.push(performance.now() - t);
        ids.push(id);
      }
      const id = ids[0] as string;
      const head = await store.head(id);
      const reads: number[] = [];
      const rcus: number[] = [];
      for (let i = 0; i < 21; i++) {
        const host = bigHost('cmp', Math.floor((i / 21) * n));
        const t = performance.now();
        const v = await readHostVerdict(store, id, host);
        reads.push(performance.now() - t);
        if (v.verdict !== 'rejected') throw new Error(`${host}: ${v.verdict}`);
        // The RCU of what it read: the head, and the page that holds the host.
        const keys = [id, ...(head?.paging ? [pageKey(id, pageOfHost(head.paging, host))] : [])];
        let rcu = 0;
        for (const k of keys) {
          const out = await db.send(new GetCommand({ TableName: table, Key: { id: k } }));
          rcu += Math.ceil(itemBytes(out.Item ?? {}) / 4096);
        }
        rcus.push(rcu);
      }
      rows.push({
        hosts: n,
        items: all.length,
        total_bytes: sizesOf.reduce((a, b) => a + b, 0),
        largest_bytes: Math.max(...sizesOf),
        raw_json_bytes: JSON.stringify(d).length,
        wcu: putWcu(all),
        encode_ms: median(encodes),
        store_ms: median(stores),
        host_read_ms: median(reads),
        host_read_rcu: Math.max(...rcus),
      });
    }
    return rows;
  } finally {
    db.destroy();
    await stopChild(java);
  }
};

const kb = (b: number) => `${(b / 1024).toLocaleString('en-US', { maximumFractionDigits: 1 })} KB`;

/** The table docs/performance.md shows. */
export const decisionsTable = (rows: DecisionRow[]) =>
  [
    '| hosts, all rejected | items | bytes stored | largest item | as plain JSON | write cost (WCU) | encode ms | store ms | read one host ms | read one host (RCU) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.hosts.toLocaleString('en-US')} | ${r.items} | ${kb(r.total_bytes)} | ${kb(r.largest_bytes)} | ${kb(r.raw_json_bytes)} | ${r.wcu} | ${r.encode_ms.toFixed(0)} | ${r.store_ms.toFixed(0)} | ${r.host_read_ms.toFixed(1)} | ${r.host_read_rcu} |`,
    ),
  ].join('\n');

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await benchDecisions((s) => process.stderr.write(`${s}\n`));
  process.stdout.write(`${decisionsTable(rows)}\n`);
}
