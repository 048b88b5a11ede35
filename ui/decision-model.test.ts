import { describe, expect, it } from 'vitest';
import { decisionModel, verdictOf } from './decision-model';

describe('decisionModel and verdictOf', () => {
  const stored = {
    decision_id: 'd1',
    placed: false,
    summary: '0/3 hosts available',
    hosts_considered: 3,
    filter_counts: { RamFilter: 1, ComputeFilter: 1 },
    rejections: {
      a: { filter: 'RamFilter', reason: 'RamFilter: needs 2048 MB, 1024 MB usable', instance_index: 0 },
      b: { filter: 'ComputeFilter', reason: 'ComputeFilter: disabled', code: 'Disabled', figures: { since: 'x' } },
    },
    ranking: [
      {
        host: 'c',
        weight: 1.5,
        weighers: [{ weigher: 'RAMWeigher', raw: 1, normalized: 1, multiplier: 1.5, contribution: 1.5 }],
      },
    ],
    picks: [],
    request: { request_spec: { instance_type: { vcpus: 2, memory_mb: 2048, root_gb: 20 }, num_instances: 1 } },
  };

  it('reads the stored map of rejections, with code and figures where present, and the ranking', () => {
    const m = decisionModel(stored);
    expect(m.rejections).toEqual([
      { host: 'a', filter: 'RamFilter', reason: 'RamFilter: needs 2048 MB, 1024 MB usable', instanceIndex: 0 },
      {
        host: 'b',
        filter: 'ComputeFilter',
        reason: 'ComputeFilter: disabled',
        code: 'Disabled',
        figures: { since: 'x' },
      },
    ]);
    expect(m.weighers).toEqual(['RAMWeigher']);
    expect(m.flavor).toEqual({ name: '', vcpus: 2, memory_mb: 2048, disk_gb: 20, instances: 1 });
  });

  it('reads a list of rejections the same as the map', () => {
    const list = decisionModel({ ...stored, rejections: [{ host: 'a', filter: 'RamFilter', reason: 'r' }] });
    expect(list.rejections).toEqual([{ host: 'a', filter: 'RamFilter', reason: 'r' }]);
  });

  it('says why not a host in one sentence with the numbers', () => {
    const m = decisionModel(stored);
    expect(verdictOf(m, 'a')).toBe('a was rejected by RamFilter: needs 2048 MB, 1024 MB usable');
    expect(verdictOf(m, 'c')).toBe('c passed every filter and ranked 1 of 1 (weight 1.500).');
    expect(verdictOf(m, 'z')).toMatch(/^z is not in this decision/);
  });
});

describe('decisionModel of a paged decision', () => {
  it('keeps the total of rejections beside the first page it holds', () => {
    const m = decisionModel({
      decision_id: 'd',
      hosts_considered: 100_000,
      rejections: { a: { filter: 'RamFilter', reason: 'RamFilter: needs 2048 MB, 0 MB usable' } },
      paging: { page: 1, pages: 30, rejections_in_page: 1, rejections_total: 100_000 },
      truncated: { ranking_total: 500 },
    });
    expect(m.rejections).toHaveLength(1);
    expect(m.paging).toEqual({ pages: 30, rejectionsTotal: 100_000 });
    expect(m.truncated).toEqual({ ranking_total: 500 });
  });
});
