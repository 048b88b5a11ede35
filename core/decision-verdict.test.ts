import { describe, expect, it } from 'vitest';
import { HostNotInDecisionError, hostVerdict, type StoredDecision } from './decision-verdict';

const weighers = [{ weigher: 'RAMWeigher', raw: 4096, normalized: 1, multiplier: 1, contribution: 1 }];
// Four hosts: a picked, b ranked second, c rejected by RamFilter, d a survivor past the kept ranking.
const decision: StoredDecision = {
  hosts_considered: 4,
  rejections: {
    c: { filter: 'RamFilter', reason: 'needs 2048 MB, 1024 MB usable of 4096 MB × 1.0', instance_index: 0 },
  },
  ranking: [
    { host: 'a', weight: 1.5, weighers },
    { host: 'b', weight: 0.5, weighers },
  ],
  picks: [{ instance_uuid: 'u1', host: 'a', weight: 1.5 }],
};

describe('hostVerdict', () => {
  it('reads a picked host with the instances it got and its breakdown', () => {
    expect(hostVerdict('d1', decision, 'a')).toEqual({
      decision_id: 'd1',
      host: 'a',
      verdict: 'picked',
      instances: [{ instance_uuid: 'u1', weight: 1.5 }],
      rank: 1,
      weight: 1.5,
      weighers,
    });
  });

  it('reads a survivor with its rank and weigher breakdown', () => {
    expect(hostVerdict('d1', decision, 'b')).toMatchObject({ verdict: 'passed', rank: 2, weight: 0.5, weighers });
  });

  it('reads a rejected host with its filter and reason, passing typed figures through when stored', () => {
    expect(hostVerdict('d1', decision, 'c')).toEqual({
      decision_id: 'd1',
      host: 'c',
      verdict: 'rejected',
      filter: 'RamFilter',
      reason: 'needs 2048 MB, 1024 MB usable of 4096 MB × 1.0',
      instance_index: 0,
    });
    const typed: StoredDecision = {
      rejections: { c: { filter: 'RamFilter', reason: 'r', code: 'InsufficientRAM', figures: { requested: 2048 } } },
    };
    expect(hostVerdict('d1', typed, 'c')).toMatchObject({ code: 'InsufficientRAM', figures: { requested: 2048 } });
  });

  it('is a 404 for a host the decision does not name, saying whether it may have been an unranked survivor', () => {
    expect(() => hostVerdict('d1', decision, 'd')).toThrow(HostNotInDecisionError);
    expect(() => hostVerdict('d1', decision, 'd')).toThrow(/best-ranked survivors only/);
    const all: StoredDecision = { ...decision, hosts_considered: 3 };
    expect(() => hostVerdict('d1', all, 'zz')).toThrow(/not among the hosts considered/);
  });

  it('does not take an inherited property for a host', () => {
    expect(() => hostVerdict('d1', decision, 'constructor')).toThrow(HostNotInDecisionError);
  });
});
