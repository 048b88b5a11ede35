import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredNode } from '../../core/ports';
import { CHUNK_BYTES, chunk, decodeSnapshot, encodeSnapshot, expandNodes, internNodes } from './fleet-snapshot';

/** A stored node with the fields the snapshot treats differently: per-node ones and shared ones. */
const nodeArb: fc.Arbitrary<StoredNode> = fc
  .record({
    host: fc.string({ minLength: 1, maxLength: 12 }),
    ver: fc.nat(),
    cpu: fc.constantFrom('Xeon', 'EPYC', 'Neoverse'),
    metadata: fc.dictionary(fc.constantFrom('rack', 'pool', 'constructor', '__proto__'), fc.string({ maxLength: 4 })),
    az: fc.option(fc.constantFrom('az-1', 'az-2'), { nil: null }),
    used: fc.nat(1000),
    extra: fc.option(fc.jsonValue(), { nil: undefined }),
    instances: fc.array(fc.record({ uuid: fc.uuid(), vcpus: fc.nat(8), memory_mb: fc.nat(), disk_gb: fc.nat() }), {
      maxLength: 3,
    }),
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
  it('gives every node back exactly, through the dictionary and through gzip', () => {
    fc.assert(
      fc.property(fc.array(nodeArb, { maxLength: 30 }), fc.nat(), (nodes, asOfMs) => {
        expect(asJson(expandNodes(asJson(internNodes(nodes, asOfMs))))).toEqual(asJson(nodes));
        const back = decodeSnapshot(encodeSnapshot(nodes, asOfMs));
        expect(back.asOfMs).toBe(asOfMs);
        expect(asJson(back.nodes)).toEqual(asJson(nodes));
      }),
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

  it('cuts bytes into pieces of at most the chunk size that join back to them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 1, max: 700 }), (bytes, size) => {
        const b = Buffer.from(bytes);
        const pieces = chunk(b, size);
        expect(pieces.length).toBe(Math.max(1, Math.ceil(b.length / size)));
        for (const p of pieces) expect(p.length).toBeLessThanOrEqual(size);
        expect(Buffer.concat(pieces).equals(b)).toBe(true);
      }),
    );
    expect(CHUNK_BYTES).toBeLessThan(400 * 1024 - 1024);
  });
});
