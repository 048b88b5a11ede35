import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyReport,
  type Claim,
  type Drift,
  type Instance,
  type LedgerInstance,
  type LedgerPolicy,
  MAX_DRIFT,
  type NodeRecord,
  pendingUsage,
  type Report,
  reconcile,
  storedPending,
  toNodeView,
} from './nodes';

const NOW = Date.parse('2026-11-26T12:00:00.000Z');
const POLICY: LedgerPolicy = { claimTtlS: 600, windowS: 7200 };
const NOW_ISO = new Date(NOW).toISOString();

/** The ISO time `s` seconds before NOW. */
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();
/** A lowercase instance uuid numbered n. */
const U = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

const inst = (uuid: string, memory_mb = 512, disk_gb = 10, vcpus = 1): Instance => ({
  uuid,
  vcpus,
  memory_mb,
  disk_gb,
});

const claim = (
  uuid: string,
  memory_mb: number,
  o: { ageS?: number; ttlS?: number; confirmedAgoS?: number; disk_gb?: number; vcpus?: number } = {},
): Claim => {
  const ageS = o.ageS ?? 0;
  return {
    instance_uuid: uuid,
    vcpus: o.vcpus ?? 1,
    memory_mb,
    disk_gb: o.disk_gb ?? 10,
    claimed_at: ago(ageS),
    expires_at: ago(ageS - (o.ttlS ?? 600)),
    ...(o.confirmedAgoS === undefined ? {} : { confirmed_at: ago(o.confirmedAgoS) }),
  };
};

const entry = (memory_mb: number, agoS = 0, disk_gb = 10, vcpus = 1): LedgerInstance => ({
  vcpus,
  memory_mb,
  disk_gb,
  at: ago(agoS),
});

const baseReport: Report = {
  hypervisor_hostname: 'h',
  hypervisor_type: 'QEMU',
  hypervisor_version: 1,
  cpu_info: { arch: 'x86_64', vendor: 'v', model: 'm', features: [], topology: { sockets: 1, cores: 1, threads: 1 } },
  vcpus: 16,
  memory_mb: 65536,
  local_gb: 1000,
  vcpus_used: 2,
  memory_mb_used: 4096,
  local_gb_used: 100,
  disk_available_least: 900,
  running_vms: 0,
  current_workload: 0,
  seq: 1,
  reported_at: '2026-11-26T12:00:00Z',
};

const record = (over: Partial<NodeRecord> = {}): NodeRecord => ({
  ...applyReport(undefined, baseReport, 'h', { id: 1, service_id: 1 }, NOW, POLICY),
  ...over,
});

const missing = (
  uuid: string,
  u: { vcpus: number; memory_mb: number; disk_gb: number },
  since: string,
  detail: string,
): Drift => ({
  kind: 'missing_instance',
  instance_uuid: uuid,
  vcpus: u.vcpus,
  memory_mb: u.memory_mb,
  disk_gb: u.disk_gb,
  since,
  detail,
});

const unknown = (i: Instance, since = NOW_ISO): Drift => ({
  kind: 'unknown_instance',
  instance_uuid: i.uuid.toLowerCase(),
  vcpus: i.vcpus,
  memory_mb: i.memory_mb,
  disk_gb: i.disk_gb,
  since,
  detail: 'reported running, but no scheduler claimed it and no create.end announced it',
});

describe('the fixture', () => {
  it('starts from an empty ledger', () => {
    const r = record();
    expect([r.claims, r.announced, r.released, r.gone, r.drift, r.instances]).toEqual([{}, {}, {}, {}, [], []]);
  });
});

describe('reconcile: claims', () => {
  it('returns an empty ledger with no previous record and no instances', () => {
    expect(reconcile(undefined, [], NOW, POLICY)).toEqual({
      claims: {},
      announced: {},
      released: {},
      gone: {},
      drift: [],
    });
  });

  it('absorbs a claim whose instance the report lists (any case), with no drift', () => {
    const a = U(1);
    const out = reconcile(
      record({ claims: { [a]: claim(a, 512), [U(2)]: claim(U(2), 256) } }),
      [inst(a.toUpperCase())],
      NOW,
      POLICY,
    );
    expect(out.claims).toEqual({ [U(2)]: claim(U(2), 256) });
    expect(out.drift).toEqual([]);
  });

  it('absorbs a listed claim even when it has expired or was confirmed long ago, without drift', () => {
    const out = reconcile(
      record({ claims: { [U(1)]: claim(U(1), 1, { ageS: 5000 }), [U(2)]: claim(U(2), 1, { confirmedAgoS: 5000 }) } }),
      [inst(U(1)), inst(U(2))],
      NOW,
      POLICY,
    );
    expect(out.claims).toEqual({});
    expect(out.drift).toEqual([]);
  });

  it('keeps an unconfirmed claim until expires_at, then drops it as missing_instance drift', () => {
    const live = claim(U(1), 512, { ageS: 599 });
    const atExpiry = claim(U(2), 256, { ageS: 600, disk_gb: 5, vcpus: 2 });
    const late = claim(U(3), 128, { ageS: 601 });
    const out = reconcile(record({ claims: { [U(1)]: live, [U(2)]: atExpiry, [U(3)]: late } }), [], NOW, POLICY);
    expect(out.claims).toEqual({ [U(1)]: live });
    expect(out.drift).toEqual([
      missing(U(2), atExpiry, ago(600), `claim expired at ${NOW_ISO}: no create.end, no report listed it`),
      missing(U(3), late, ago(601), `claim expired at ${ago(1)}: no create.end, no report listed it`),
    ]);
  });

  it('keeps a confirmed claim past expires_at until claim_ttl after confirmation, then reaps it with drift', () => {
    const kept = claim(U(1), 512, { ageS: 3000, confirmedAgoS: 600 });
    const reaped = claim(U(2), 256, { ageS: 3000, confirmedAgoS: 601 });
    const out = reconcile(record({ claims: { [U(1)]: kept, [U(2)]: reaped } }), [], NOW, POLICY);
    expect(out.claims).toEqual({ [U(1)]: kept });
    expect(out.drift).toEqual([
      missing(U(2), reaped, ago(3000), `confirmed at ${ago(601)}, but no report listed it within claim_ttl`),
    ]);
  });

  it('uses the policy claim_ttl for confirmed claims', () => {
    const c = claim(U(1), 512, { ageS: 100, confirmedAgoS: 50 });
    expect(reconcile(record({ claims: { [U(1)]: c } }), [], NOW, { claimTtlS: 49, windowS: 7200 }).claims).toEqual({});
    expect(reconcile(record({ claims: { [U(1)]: c } }), [], NOW, { claimTtlS: 50, windowS: 7200 }).claims).toEqual({
      [U(1)]: c,
    });
  });
});

describe('reconcile: announced', () => {
  it('absorbs an announced instance the report lists, without drift', () => {
    const out = reconcile(record({ announced: { [U(1)]: entry(512, 5000) } }), [inst(U(1).toUpperCase())], NOW, POLICY);
    expect(out.announced).toEqual({});
    expect(out.drift).toEqual([]);
  });

  it('keeps an unlisted announcement for claim_ttl, then reaps it as missing_instance drift', () => {
    const kept = entry(512, 600);
    const reaped = entry(256, 601, 3, 4);
    const out = reconcile(record({ announced: { [U(1)]: kept, [U(2)]: reaped } }), [], NOW, POLICY);
    expect(out.announced).toEqual({ [U(1)]: kept });
    expect(out.drift).toEqual([
      missing(
        U(2),
        reaped,
        ago(601),
        `announced by create.end at ${ago(601)}, but no report listed it within claim_ttl`,
      ),
    ]);
  });
});

describe('reconcile: released and tombstones', () => {
  it('keeps a released entry only while the report still lists the instance', () => {
    const r1 = entry(512, 30);
    const r2 = entry(256, 30);
    const out = reconcile(
      record({ instances: [inst(U(1)), inst(U(2))], released: { [U(1)]: r1, [U(2)]: r2 } }),
      [inst(U(1).toUpperCase())],
      NOW,
      POLICY,
    );
    expect(out.released).toEqual({ [U(1)]: r1 });
    expect(out.drift).toEqual([]);
  });

  it('keeps tombstones for windowS and forgets them after', () => {
    const out = reconcile(record({ gone: { [U(1)]: ago(7200), [U(2)]: ago(7201) } }), [], NOW, POLICY);
    expect(out.gone).toEqual({ [U(1)]: ago(7200) });
    expect(out.released).toEqual({});
  });

  it('turns a listed tombstoned instance into a released entry sized by the report, keeping the tombstone', () => {
    const out = reconcile(record({ gone: { [U(1)]: ago(30) } }), [inst(U(1).toUpperCase(), 2048, 40, 4)], NOW, POLICY);
    expect(out.released).toEqual({ [U(1)]: { vcpus: 4, memory_mb: 2048, disk_gb: 40, at: ago(30) } });
    expect(out.gone).toEqual({ [U(1)]: ago(30) });
    expect(out.drift).toEqual([]);
  });

  it('does not overwrite a stored released entry with the report sizes of its tombstone', () => {
    const stored = entry(512, 40);
    const out = reconcile(
      record({ instances: [inst(U(1), 512)], released: { [U(1)]: stored }, gone: { [U(1)]: ago(40) } }),
      [inst(U(1), 9999)],
      NOW,
      POLICY,
    );
    expect(out.released).toEqual({ [U(1)]: stored });
  });

  it('does not turn an expired tombstone into a released entry; a never-listed instance becomes unknown drift', () => {
    const i = inst(U(1));
    const out = reconcile(record({ gone: { [U(1)]: ago(7201) } }), [i], NOW, POLICY);
    expect(out.released).toEqual({});
    expect(out.gone).toEqual({});
    expect(out.drift).toEqual([unknown(i)]);
  });

  it('a report after the release that no longer lists the instance drops the released entry', () => {
    const first = reconcile(record({ gone: { [U(1)]: ago(30) } }), [inst(U(1))], NOW, POLICY);
    const second = reconcile(record({ ...first, instances: [inst(U(1))] }), [], NOW + 1000, POLICY);
    expect(second.released).toEqual({});
    expect(second.gone).toEqual({ [U(1)]: ago(30) });
  });
});

describe('reconcile: drift', () => {
  it('records a listed instance the ledger never knew as unknown_instance, lowercased, since now', () => {
    const i = inst('ABCDEF01-0000-4000-8000-000000000001', 768, 7, 3);
    expect(reconcile(record(), [i], NOW, POLICY).drift).toEqual([unknown(i)]);
    expect(reconcile(undefined, [i], NOW, POLICY).drift).toEqual([unknown(i)]);
  });

  it.each<[string, Partial<NodeRecord>]>([
    ['a claim', { claims: { [U(1)]: claim(U(1), 512) } }],
    ['an expired claim', { claims: { [U(1)]: claim(U(1), 512, { ageS: 5000 }) } }],
    ['an announcement', { announced: { [U(1)]: entry(512) } }],
    ['a tombstone', { gone: { [U(1)]: ago(10) } }],
    ['the previous report', { instances: [inst(U(1).toUpperCase())] }],
  ])('does not flag an instance known from %s', (_, over) => {
    expect(reconcile(record(over), [inst(U(1))], NOW, POLICY).drift).toEqual([]);
  });

  it('keeps an unknown instance once, with its first time, while listed, and drops it when no longer listed', () => {
    const i = inst(U(1));
    const r1 = applyReport(undefined, { ...baseReport, instances: [i] }, 'h', { id: 1, service_id: 1 }, NOW, POLICY);
    expect(r1.drift).toEqual([unknown(i, NOW_ISO)]);
    const r2 = applyReport(
      r1,
      { ...baseReport, seq: 2, instances: [i] },
      'h',
      { id: 1, service_id: 1 },
      NOW + 60_000,
      POLICY,
    );
    expect(r2.drift).toEqual([unknown(i, NOW_ISO)]);
    const r3 = applyReport(
      r2,
      { ...baseReport, seq: 3, instances: [] },
      'h',
      { id: 1, service_id: 1 },
      NOW + 120_000,
      POLICY,
    );
    expect(r3.drift).toEqual([]);
  });

  it('keeps a stored unknown_instance entry as is while listed, even if the previous report did not list it', () => {
    const i = inst(U(1));
    const stored = unknown(i, ago(3600));
    expect(reconcile(record({ drift: [stored] }), [i], NOW, POLICY).drift).toEqual([stored]);
  });

  it('keeps missing_instance drift for windowS + claim_ttl after its since, then drops it', () => {
    const keep = missing(U(1), inst(U(1)), ago(7800), 'x');
    const drop = missing(U(2), inst(U(2)), ago(7801), 'y');
    expect(reconcile(record({ drift: [keep, drop] }), [], NOW, POLICY).drift).toEqual([keep]);
  });

  it('keeps old missing drift even if the instance is listed later (and flags it unknown too)', () => {
    const old = missing(U(1), inst(U(1)), ago(1000), 'x');
    const i = inst(U(1));
    expect(reconcile(record({ drift: [old] }), [i], NOW, POLICY).drift).toEqual([unknown(i), old]);
  });

  it('orders drift newest first, ties by instance uuid', () => {
    const out = reconcile(
      record({
        claims: { [U(5)]: claim(U(5), 1, { ageS: 700 }), [U(4)]: claim(U(4), 1, { ageS: 900 }) },
        announced: { [U(3)]: entry(1, 700) },
        drift: [missing(U(6), inst(U(6)), ago(800), 'old')],
      }),
      [inst(U(2)), inst(U(1))],
      NOW,
      POLICY,
    );
    expect(out.drift.map((d) => [d.instance_uuid, d.kind, d.since])).toEqual([
      [U(1), 'unknown_instance', NOW_ISO],
      [U(2), 'unknown_instance', NOW_ISO],
      [U(3), 'missing_instance', ago(700)],
      [U(5), 'missing_instance', ago(700)],
      [U(6), 'missing_instance', ago(800)],
      [U(4), 'missing_instance', ago(900)],
    ]);
  });

  it(`caps drift at MAX_DRIFT (${MAX_DRIFT}), keeping the newest`, () => {
    expect(MAX_DRIFT).toBe(50);
    const olds = Array.from({ length: 10 }, (_, k) => missing(U(1000 + k), inst(U(1000 + k)), ago(100 + k), 'old'));
    const listed = Array.from({ length: 45 }, (_, k) => inst(U(k + 1)));
    const out = reconcile(record({ drift: olds }), listed, NOW, POLICY);
    expect(out.drift).toHaveLength(50);
    expect(out.drift.slice(0, 45)).toEqual(listed.map((i) => unknown(i)));
    expect(out.drift.slice(45).map((d) => d.instance_uuid)).toEqual([1000, 1001, 1002, 1003, 1004].map(U));
  });

  it('does not duplicate unknown drift capped away on the next report', () => {
    const listed = Array.from({ length: 60 }, (_, k) => inst(U(k + 1)));
    const first = reconcile(record(), listed, NOW, POLICY);
    expect(first.drift.map((d) => d.instance_uuid)).toEqual(listed.slice(0, 50).map((i) => i.uuid));
    const second = reconcile(record({ ...first, instances: listed }), listed, NOW + 60_000, POLICY);
    expect(second.drift).toEqual(first.drift);
  });
});

describe('reconcile: purity', () => {
  it('does not modify the previous record', () => {
    const prev = record({
      instances: [inst(U(1))],
      claims: { [U(1)]: claim(U(1), 1), [U(2)]: claim(U(2), 1, { ageS: 9000 }) },
      announced: { [U(3)]: entry(1, 9000) },
      released: { [U(4)]: entry(1) },
      gone: { [U(5)]: ago(9000), [U(6)]: ago(1) },
      drift: [missing(U(7), inst(U(7)), ago(99_999), 'old')],
    });
    const copy = structuredClone(prev);
    reconcile(prev, [inst(U(6)), inst(U(8))], NOW, POLICY);
    expect(prev).toEqual(copy);
  });
});

describe('pendingUsage and storedPending', () => {
  const ledger = () =>
    record({
      instances: [inst(U(2)), inst(U(5))],
      claims: {
        [U(1)]: claim(U(1), 100, { disk_gb: 1, vcpus: 1 }), // live, unconfirmed
        [U(2)]: claim(U(2), 200, { disk_gb: 2, vcpus: 2 }), // listed
        [U(3)]: claim(U(3), 400, { ageS: 601, disk_gb: 4, vcpus: 4 }), // expired
        [U(4)]: claim(U(4), 800, { ageS: 5000, confirmedAgoS: 10, disk_gb: 8, vcpus: 8 }), // confirmed
      },
      announced: { [U(6)]: entry(1600, 0, 16, 16) },
      released: { [U(5)]: entry(3200, 0, 32, 32) },
    });

  it('pendingUsage: live unlisted claims + announced − released; unconfirmed counts unlisted live unconfirmed claims', () => {
    expect(pendingUsage(ledger(), NOW)).toEqual({
      vcpus: 1 + 8 + 16 - 32,
      memory_mb: 100 + 800 + 1600 - 3200,
      disk_gb: 1 + 8 + 16 - 32,
      unconfirmed: 1,
    });
  });

  it('pendingUsage: a claim stops counting at expires_at', () => {
    const r = record({ claims: { [U(1)]: claim(U(1), 100) } });
    expect(pendingUsage(r, NOW + 599_999)).toEqual({ vcpus: 1, memory_mb: 100, disk_gb: 10, unconfirmed: 1 });
    expect(pendingUsage(r, NOW + 600_000)).toEqual({ vcpus: 0, memory_mb: 0, disk_gb: 0, unconfirmed: 0 });
  });

  it('pendingUsage: matches listed instances case-insensitively', () => {
    const r = record({ instances: [inst(U(1).toUpperCase())], claims: { [U(1)]: claim(U(1), 100) } });
    expect(pendingUsage(r, NOW)).toEqual({ vcpus: 0, memory_mb: 0, disk_gb: 0, unconfirmed: 0 });
  });

  it('pendingUsage and storedPending tolerate records without announced/released maps', () => {
    const r = record({
      claims: { [U(1)]: claim(U(1), 100) },
      announced: undefined as unknown as NodeRecord['announced'],
      released: undefined as unknown as NodeRecord['released'],
    });
    expect(pendingUsage(r, NOW)).toEqual({ vcpus: 1, memory_mb: 100, disk_gb: 10, unconfirmed: 1 });
    expect(storedPending(r)).toEqual({ vcpus: 1, memory_mb: 100, disk_gb: 10 });
  });

  it('storedPending: every stored claim (expired and listed too) + announced − released', () => {
    expect(storedPending(ledger())).toEqual({
      vcpus: 1 + 2 + 4 + 8 + 16 - 32,
      memory_mb: 100 + 200 + 400 + 800 + 1600 - 3200,
      disk_gb: 1 + 2 + 4 + 8 + 16 - 32,
    });
  });

  it('storedPending: a claim long expired by any clock still counts until a report prunes it', () => {
    const ancient: Claim = {
      ...claim(U(9), 64, { disk_gb: 64, vcpus: 64 }),
      claimed_at: '2000-01-01T00:00:00.000Z',
      expires_at: '2000-01-01T00:10:00.000Z',
    };
    expect(storedPending(record({ claims: { [U(9)]: ancient } }))).toEqual({ vcpus: 64, memory_mb: 64, disk_gb: 64 });
    expect(pendingUsage(record({ claims: { [U(9)]: ancient } }), NOW)).toEqual({
      vcpus: 0,
      memory_mb: 0,
      disk_gb: 0,
      unconfirmed: 0,
    });
  });
});

describe('toNodeView', () => {
  it('computes free RAM and disk from the measurement and the ledger', () => {
    const v = toNodeView(
      record({
        instances: [inst(U(2)), inst(U(5))],
        claims: { [U(1)]: claim(U(1), 100, { disk_gb: 1 }), [U(3)]: claim(U(3), 400, { ageS: 601, disk_gb: 4 }) },
        announced: { [U(6)]: entry(1600, 0, 16) },
        released: { [U(5)]: entry(3200, 0, 32) },
      }),
      NOW,
      60,
    );
    expect(v.free_ram_mb).toBe(65536 - 4096 - (100 + 1600 - 3200));
    expect(v.free_disk_gb).toBe(1000 - 100 - (1 + 16 - 32));
  });

  it('lists live claims and the ledger entries sorted by time then uuid, and hides the bookkeeping', () => {
    const r = record({
      claims: {
        [U(3)]: claim(U(3), 1, { ageS: 10 }),
        [U(2)]: claim(U(2), 1, { ageS: 20 }),
        [U(1)]: claim(U(1), 1, { ageS: 10 }),
        [U(9)]: claim(U(9), 1, { ageS: 700 }),
      },
      announced: { [U(4)]: entry(1, 5), [U(5)]: entry(2, 9) },
      released: { [U(7)]: entry(3, 1), [U(6)]: entry(4, 1) },
      gone: { [U(8)]: ago(1) },
      operator_availability_zone: null,
      reported_availability_zone: 'az-r',
    });
    const v = toNodeView(r, NOW, 60);
    expect(v.claims.map((c) => c.instance_uuid)).toEqual([U(2), U(1), U(3)]);
    expect(v.announced).toEqual([
      { instance_uuid: U(5), ...entry(2, 9) },
      { instance_uuid: U(4), ...entry(1, 5) },
    ]);
    expect(v.released).toEqual([
      { instance_uuid: U(6), ...entry(4, 1) },
      { instance_uuid: U(7), ...entry(3, 1) },
    ]);
    expect(v.availability_zone).toBe('az-r');
    expect(toNodeView({ ...r, operator_availability_zone: 'az-o' }, NOW, 60).availability_zone).toBe('az-o');
    expect(toNodeView({ ...r, reported_availability_zone: null }, NOW, 60).availability_zone).toBe('nova');
    expect(v.status).toBe('up');
    for (const k of ['gone', 'received_at_ms', 'reported_availability_zone', 'operator_availability_zone']) {
      expect(Object.hasOwn(v, k)).toBe(false);
    }
  });

  it('shows missing ledger maps and drift as empty', () => {
    const v = toNodeView(
      record({
        announced: undefined as unknown as NodeRecord['announced'],
        released: undefined as unknown as NodeRecord['released'],
        drift: undefined as unknown as NodeRecord['drift'],
      }),
      NOW,
      60,
    );
    expect([v.announced, v.released, v.drift, v.free_ram_mb]).toEqual([[], [], [], 65536 - 4096]);
  });
});

type Kind = 'claimed' | 'expired' | 'claimed_listed' | 'confirmed' | 'announced' | 'reported' | 'released';
const KINDS: Kind[] = ['claimed', 'expired', 'claimed_listed', 'confirmed', 'announced', 'reported', 'released'];

describe('ledger accounting (property)', () => {
  it('free_ram_mb = memory_mb − memory_mb_used − Σlive unlisted claims − Σannounced + Σreleased; storedPending sums everything stored', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ kind: fc.constantFrom(...KINDS), mem: fc.nat(4096), disk: fc.nat(100) }), {
          maxLength: 25,
        }),
        fc.nat(8192),
        (rows, used) => {
          const claims: Record<string, Claim> = {};
          const announced: Record<string, LedgerInstance> = {};
          const released: Record<string, LedgerInstance> = {};
          const instances: Instance[] = [];
          let liveUnlisted = 0;
          let allClaims = 0;
          let ann = 0;
          let rel = 0;
          let allClaimsDisk = 0;
          rows.forEach(({ kind, mem, disk }, k) => {
            const u = U(k + 1);
            switch (kind) {
              case 'claimed':
                claims[u] = claim(u, mem, { ageS: 10, disk_gb: disk });
                liveUnlisted += mem;
                allClaims += mem;
                allClaimsDisk += disk;
                return;
              case 'expired':
                claims[u] = claim(u, mem, { ageS: 601, disk_gb: disk });
                allClaims += mem;
                allClaimsDisk += disk;
                return;
              case 'claimed_listed':
                claims[u] = claim(u, mem, { ageS: 10, disk_gb: disk });
                instances.push(inst(u.toUpperCase(), mem, disk));
                allClaims += mem;
                allClaimsDisk += disk;
                return;
              case 'confirmed':
                claims[u] = claim(u, mem, { ageS: 5000, confirmedAgoS: 100, disk_gb: disk });
                liveUnlisted += mem;
                allClaims += mem;
                allClaimsDisk += disk;
                return;
              case 'announced':
                announced[u] = entry(mem, 5, disk);
                ann += mem;
                return;
              case 'reported':
                instances.push(inst(u, mem, disk));
                return;
              case 'released':
                instances.push(inst(u, mem, disk));
                released[u] = entry(mem, 5, disk);
                rel += mem;
                return;
            }
          });
          const r = record({ memory_mb_used: used, instances, claims, announced, released });
          expect(toNodeView(r, NOW, 60).free_ram_mb).toBe(65536 - used - liveUnlisted - ann + rel);
          const annDisk = Object.values(announced).reduce((s, a) => s + a.disk_gb, 0);
          const relDisk = Object.values(released).reduce((s, a) => s + a.disk_gb, 0);
          expect(storedPending(r)).toEqual({
            vcpus: Object.keys(claims).length + Object.keys(announced).length - Object.keys(released).length,
            memory_mb: allClaims + ann - rel,
            disk_gb: allClaimsDisk + annDisk - relDisk,
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
