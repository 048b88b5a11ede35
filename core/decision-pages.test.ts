import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bigDecision, bigHost } from '../test/fixtures/big-decision';
import {
  decodePage,
  decodeRanking,
  encodePage,
  encodeRanking,
  halve,
  headOf,
  pageOfHost,
  splitDecision,
} from './decision-pages';
import { decodePageCursor, encodePageCursor } from './decision-read';
import type { DecisionRejection } from './ports';
import { resolveOptions } from './scheduler/options';
import { schedule } from './scheduler/scheduler';
import { NO_VALID_HOST_HOSTS, noValidHostError } from './scheduler/summary';
import { makeHost, makeSpec, seededRng } from './scheduler/test-fixtures';

const ID = '00000000-0000-4000-8000-000000000001';

describe('decision pages', () => {
  it('keep every rejection as it was: rendered sentences, foreign ones, extra fields', () => {
    const d = bigDecision(ID, 50);
    const entries = Object.entries(d.rejections).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const odd: Array<[string, DecisionRejection]> = [
      ['x-foreign', { filter: 'CustomFilter', reason: 'CustomFilter: nope', instance_index: 2 }],
      ['y-edited', { ...(entries[0]?.[1] as DecisionRejection), reason: 'not what the figures say' }],
      ['z-extra', { ...(entries[1]?.[1] as DecisionRejection), note: { a: [1, 2] } }],
    ];
    const all = [...entries, ...odd];
    const page = encodePage(all);
    // The sentence of a rejection that renders from its figures is not stored.
    expect(JSON.stringify(page)).not.toContain(d.rejections[entries[0]?.[0] ?? '']?.reason);
    expect(decodePage(JSON.parse(JSON.stringify(page)))).toEqual(Object.fromEntries(all));
  });

  it('stay inline while they fit one response, and past it cut into pages by host holding each host once', () => {
    const d = bigDecision(ID, 2000);
    const small = splitDecision(d);
    expect(small.pages).toEqual([]);
    expect(headOf(small.head).rejections).toEqual(d.rejections);
    // ~290 B a rejection: 2,000 hosts in pages of 50 KB.
    const { head, pages } = splitDecision(d, 50_000);
    expect(pages.length).toBeGreaterThan(5);
    const paging = head.paging as NonNullable<typeof head.paging>;
    const second = pages[1] as (typeof pages)[number];
    expect(paging).toMatchObject({ pages: pages.length, rejections_total: 2000 });
    const hosts = pages.flatMap((p) => p.hosts);
    expect(hosts).toEqual(Object.keys(d.rejections).sort());
    for (const p of pages) expect(JSON.stringify(decodePage(p)).length).toBeLessThanOrEqual(50_000);
    for (const [n, p] of pages.entries()) {
      for (const h of [p.hosts[0], p.hosts.at(-1)] as string[]) expect(pageOfHost(paging, h)).toBe(n);
    }
    expect(pageOfHost(paging, 'a')).toBe(-1);
    const [a, b] = halve(second) as [ReturnType<typeof encodePage>, ReturnType<typeof encodePage>];
    expect({ ...decodePage(a), ...decodePage(b) }).toEqual(decodePage(second));
    expect(Object.assign({}, ...pages.map((p) => decodePage(p)))).toEqual(d.rejections);
    expect(bigHost('cmp', 1) < bigHost('cmp', 10)).toBe(true);
  });

  it("take a page's next only as made for that decision", () => {
    const next = encodePageCursor(ID, 3);
    expect(decodePageCursor(next, ID)).toBe(3);
    for (const bad of [`${next}A`, next.replace(/.$/, 'x'), encodePageCursor(ID.replace('1', '2'), 3), '%%', ''])
      expect(() => decodePageCursor(bad, ID)).toThrow(/next/);
  });
});

describe('a stored ranking', () => {
  /** A JSON round trip, as the store's gzip of JSON does. */
  const wire = <T>(v: T): T => JSON.parse(JSON.stringify(v));

  it("comes back as the scheduler made it, to the last bit of every double, in a third of the JSON's bytes", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            free: fc.integer({ min: 0, max: 64_000 }),
            vcpus: fc.integer({ min: 0, max: 8 }),
            io: fc.integer({ min: 0, max: 8 }),
            ram_multiplier: fc.constantFrom(undefined, '-2.5', '0', '1e-7', '3'),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.constantFrom(-1, 0, 0.3, 2),
        (hosts, ioMultiplier) => {
          const states = hosts.map((h, i) =>
            makeHost({
              host: `h${i}`,
              memory_mb: 65_536,
              free_ram_mb: h.free,
              vcpus_used: h.vcpus,
              num_io_ops: h.io,
              ...(h.ram_multiplier === undefined ? {} : { metadata: { ram_weight_multiplier: h.ram_multiplier } }),
            }),
          );
          const opts = resolveOptions({ io_ops_weight_multiplier: ioMultiplier, num_instances_weight_multiplier: 0.5 });
          const { ranking, scales } = schedule(states, makeSpec({ memory_mb: 1 }), opts, seededRng(1));
          const rk = encodeRanking(ranking);
          const short = encodeRanking(ranking, scales);
          if (ranking.length === 0) {
            expect([rk, short, scales]).toEqual([undefined, undefined, undefined]);
            return;
          }
          // Three figures per weigher without the scales; two with them (every normalized value follows)
          // past four hosts, where the scales' own figures are fewer than those they save.
          expect(rk?.scales).toBeUndefined();
          if (ranking.length > 4) expect(short?.scales).toHaveLength(scales?.length ?? -1);
          else expect(short).toEqual(rk);
          for (const compact of [rk, short]) {
            const back = decodeRanking(wire(compact as NonNullable<typeof compact>));
            expect(back).toEqual(wire(ranking));
            for (const [i, r] of back.entries())
              for (const [k, w] of r.weighers.entries()) {
                expect(Object.is(w.contribution, ranking[i]?.weighers[k]?.contribution)).toBe(true);
                expect(Object.is(w.normalized, ranking[i]?.weighers[k]?.normalized)).toBe(true);
              }
          }
          expect(JSON.stringify(rk).length).toBeLessThan(JSON.stringify(ranking).length * 0.45);
          if (ranking.length > 4) expect(JSON.stringify(short).length).toBeLessThan(JSON.stringify(rk).length);
          // Scales the values do not follow from are not used.
          const off = scales?.map((c) => ({ ...c, min: c.min - 1 }));
          if (ranking.some((r) => r.weighers.some((w) => w.normalized !== 0)))
            expect(encodeRanking(ranking, off)?.scales).toBeUndefined();
          // splitDecision keeps the short form, and the head has no scales of its own.
          const { head } = splitDecision({ ...bigDecision(ID, 3), ranking, ...(scales ? { scales } : {}) });
          expect(head.rk?.scales).toEqual(short?.scales);
          expect(Object.keys(head)).not.toContain('scales');
          expect(headOf(wire(head)).ranking).toEqual(wire(ranking));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('is kept as it is when an entry would not come back the same, and either form reads back', () => {
    const part = { weigher: 'RAMWeigher', raw: 10, normalized: 0.5, multiplier: 2, contribution: 1 };
    const odd = [
      [{ host: 'a', weight: 1, weighers: [{ ...part, contribution: 0.9 }] }],
      [{ host: 'a', weight: 1, weighers: [part], note: 'x' }],
      [{ host: 'a', weight: 1, weighers: [{ ...part, raw: Number.NaN }] }],
      [
        { host: 'a', weight: 1, weighers: [part] },
        { host: 'b', weight: 1, weighers: [{ ...part, weigher: 'CPUWeigher' }] },
      ],
    ];
    for (const ranking of odd) {
      expect(encodeRanking(ranking)).toBeUndefined();
      const d = { ...bigDecision(ID, 3), ranking };
      const { head } = splitDecision(d);
      expect(head.rk).toBeUndefined();
      expect(headOf(wire(head)).ranking).toEqual(wire(ranking));
    }
    const plain = [{ host: 'a', weight: 1, weighers: [part] }];
    const { head } = splitDecision({ ...bigDecision(ID, 3), ranking: plain });
    expect(head.ranking).toBeUndefined();
    expect(headOf(wire(head)).ranking).toEqual(plain);
  });
});

describe('409 NoValidHost past 1,000 hosts', () => {
  it('keeps the counts, names 1,000 hosts, the rarest filters first, and says how many there were', () => {
    const hosts = Array.from({ length: 1500 }, (_, i) => ({
      host: `h${i}`,
      filter: i === 1400 ? 'RareFilter' : 'CommonFilter',
      code: 'c',
      figures: {},
      instance_index: 0,
    }));
    const counts = { CommonFilter: 1499, RareFilter: 1 };
    const e = noValidHostError({ filter_counts: counts, rejections: hosts, summary: 's' });
    expect(Object.keys(e.details.hosts)).toHaveLength(NO_VALID_HOST_HOSTS);
    expect(Object.keys(e.details.hosts)[0]).toBe('h1400');
    expect(e.details).toMatchObject({ filter_counts: counts, hosts_total: 1500, hosts_truncated: true });
    const few = noValidHostError({ filter_counts: counts, rejections: hosts.slice(0, 10), summary: 's' });
    expect(Object.keys(few.details.hosts)).toHaveLength(10);
    expect(few.details.hosts_truncated).toBeUndefined();
  });
});
