import { describe, expect, it } from 'vitest';
import { renderDecision } from './why';

describe('qm why on a paged decision', () => {
  it('shows the complete counts and says the decision is paged', () => {
    const out = renderDecision({
      decision_id: 'd',
      placed: false,
      summary: '0/100000 hosts available',
      hosts_considered: 100_000,
      filter_counts: { RamFilter: 100_000 },
      picks: [],
      paging: { pages: 30, rejections_total: 100_000 },
    });
    expect(out).toMatch(/RamFilter\s+100000/);
    expect(out).toContain('paged: 100000 rejected hosts in 30 pages');
  });
});
