import { isAscii } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredNode } from '../../core/ports';
import { CHUNK_BYTES, decodePart, decodePartSync, encodeParts, expandNodes, internNodes } from './fleet-snapshot';

/** A stored node with the fields the snapshot treats differently: per-node ones and shared ones. */
const nodeArb: fc.Arbitrary<StoredNode> = fc
  .record({
    // Any UTF-16 (lone surrogates too): parts are ASCII JSON with \u escapes, read as latin1.
    host: fc.string({ minLength: 1, maxLength: 12, unit: 'binary' }),
    ver: fc.nat(),
    cpu: fc.constantFrom('Xeon', 'EPYC', 'Neoverse'),
    metadata: fc.dictionary(fc.constantFrom('rack', 'pool', 'constructor', '__proto__'), fc.string({ maxLength: 4 })),
    az: fc.option(fc.constantFrom('az-1', 'az-2'), { nil: null }),
    used: fc.nat(1000),
    extra: fc.option(fc.jsonValue(), { nil: undefined }),
    instances: fc.array(fc.record({ uuid: fc.uuid(), vcpus: fc.nat(8), memory_mb: fc.nat(), disk_gb: fc.nat() }), {
      maxLength: 3,
    }),
    // Drift's kind, since and detail are interned; its other fields stay inline.
    drift: fc.array(
      fc.record({
        kind: fc.constantFrom('unknown_instance', 'missing_instance'),
        instance_uuid: fc.uuid(),
        vcpus: fc.nat(8),
        memory_mb: fc.nat(),
        disk_gb: fc.nat(),
        since: fc.constantFrom('2026-12-03T00:00:00.000Z', '2026-12-03T00:00:01.000Z'),
        detail: fc.oneof(
          fc.constantFrom('reported running, but no scheduler claimed it'),
          fc.string({ unit: 'grapheme' }),
        ),
      }),
      { maxLength: 3 },
    ),
  })
  .map(
    (x) =>
      ({
        record: {
          host: x.host,
          vcpus_used: x.used,
          cpu_info: { arch: 'x86_64', model: x.cpu, features: ['avx2'] },
          metadata: x.metadata,
          reported_availability_zone: x.az,
          instances: x.instances,
          drift: x.drift,
          claims: {},
          ...(x.extra === undefined ? {} : { extra_field: x.extra }),
        },
        ver: x.ver,
        baseline: x.ver,
        changedAt: 1_700_000_000_000 + x.used,
        claimed: { vcpus: x.used, memory_mb: 0, disk_gb: 0 },
      }) as unknown as StoredNode,
  );

/** JSON equality: what a node read back from DynamoDB equals (no undefined, -0 as 0). */
const asJson = (v: unknown) => JSON.parse(JSON.stringify(v));

describe('the fleet snapshot encoding', () => {
  it('gives every node back exactly, in order, through the dictionary, gzip and the parts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(nodeArb, { maxLength: 30 }),
        fc.nat(),
        fc.integer({ min: 3000, max: 20_000 }),
        async (nodes, asOfMs, maxBytes) => {
          expect(asJson(expandNodes(asJson(internNodes(nodes, asOfMs))))).toEqual(asJson(nodes));
          const parts = await encodeParts(nodes, asOfMs, maxBytes);
          const back = parts.flatMap((p) => decodePartSync(p).nodes);
          expect(asJson(back)).toEqual(asJson(nodes));
          for (const p of parts) {
            expect(p.length).toBeLessThanOrEqual(maxBytes);
            expect(isAscii(gunzipSync(p))).toBe(true);
            expect((await decodePart(p)).asOfMs).toBe(asOfMs);
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('keeps one copy of a value many nodes share, and shares it once decoded', () => {
    // 100 hosts of 2 CPU models: 2 cpu_info entries, 1 metadata, in the dictionary; none per host.
    const nodes = Array.from(
      { length: 100 },
      (_, i) =>
        ({
          record: { host: `h${i}`, cpu_info: { model: i % 2 ? 'a' : 'b' }, metadata: { rack: 'r1' }, claims: {} },
          ver: 1,
          baseline: 1,
          changedAt: 0,
          claimed: { vcpus: 0, memory_mb: 0, disk_gb: 0 },
        }) as unknown as StoredNode,
    );
    const e = internNodes(nodes, 0);
    expect(e.dict).toHaveLength(3);
    const back = expandNodes(asJson(e));
    expect(back[0]?.record.cpu_info).toBe(back[2]?.record.cpu_info);
    expect(back[0]?.record.cpu_info).not.toBe(back[1]?.record.cpu_info);
    expect(Object.isFrozen(back[0]?.record.cpu_info)).toBe(true);
    // Per-node maps are never shared: a node's claims can change without touching another's.
    expect(back[0]?.record.claims).not.toBe(back[1]?.record.claims);
  });

  it('cuts a fleet into parts under the chunk size, as few as the size allows', async () => {
    // 3,000 nodes whose hosts are 200 random hex bytes each (gzip halves hex at best): ≥ 300 KB of
    // gzip, so several parts at 100 KB, each full to within the 90 % aim and a halving.
    const nodes = Array.from(
      { length: 3000 },
      (_, i) =>
        ({
          record: { host: `h${i}-${randomBytes(100).toString('hex')}`, claims: {} },
          ver: 1,
          baseline: 1,
          changedAt: 0,
          claimed: { vcpus: 0, memory_mb: 0, disk_gb: 0 },
        }) as unknown as StoredNode,
    );
    const parts = await encodeParts(nodes, 7, 100_000);
    const total = parts.reduce((n, p) => n + p.length, 0);
    expect(parts.length).toBeGreaterThanOrEqual(Math.ceil(total / 100_000));
    expect(parts.length).toBeLessThanOrEqual(Math.ceil(total / 40_000));
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(100_000);
    expect(parts.flatMap((p) => decodePartSync(p).nodes).map((n) => n.record.host)).toEqual(
      nodes.map((n) => n.record.host),
    );
    expect(await encodeParts([], 7)).toHaveLength(1);
    expect(CHUNK_BYTES).toBeLessThan(400 * 1024 - 1024);
  });
});
