import { describe, expect, it } from 'vitest';
import { bigDecision, bigHost } from '../test/fixtures/big-decision';
import { decodePage, headOf, splitDecision } from './decision-pages';
import { readDecision, readHostVerdict } from './decision-read';
import type { DecisionRejection, DecisionStore } from './ports';

const ID = '00000000-0000-4000-8000-000000000002';

/** A store of one decision cut into pages of 50 KB, page `lost` never written. */
const storeOf = (n: number, lost?: number): DecisionStore => {
  const { head, pages } = splitDecision(bigDecision(ID, n), 50_000);
  return {
    put: async () => {},
    head: async (id) => (id === ID ? headOf(head) : undefined),
    page: async (_id, p): Promise<Record<string, DecisionRejection> | undefined> =>
      p === lost || !pages[p] ? undefined : decodePage(pages[p]),
    list: async () => ({ decisions: [] }),
  };
};

describe('reading a paged decision', () => {
  it('says which page is missing instead of failing, and why a host on it is not named', async () => {
    const store = storeOf(2000, 1);
    const first = (await readDecision(store, ID)) as { next: string };
    const second = (await readDecision(store, ID, first.next)) as { paging: { missing?: true }; rejections: object };
    expect(second.paging.missing).toBe(true);
    expect(second.rejections).toEqual({});
    const onPage1 = Object.keys(
      ((await readDecision(storeOf(2000), ID, first.next)) as { rejections: object }).rejections,
    )[0];
    await expect(readHostVerdict(store, ID, onPage1 as string)).rejects.toThrow(/page of the decision .* not stored/);
    await expect(readHostVerdict(store, ID, bigHost('cmp', 0))).resolves.toMatchObject({ verdict: 'rejected' });
  });

  it('answers a small decision whole, and a next on it is a 400 naming next', async () => {
    const { head } = splitDecision(bigDecision(ID, 10));
    const store: DecisionStore = {
      put: async () => {},
      head: async () => headOf(head),
      page: async () => undefined,
      list: async () => ({ decisions: [] }),
    };
    expect(Object.keys(((await readDecision(store, ID)) as { rejections: object }).rejections)).toHaveLength(10);
    await expect(readDecision(store, ID, 'abc')).rejects.toMatchObject({ status: 400, details: { field: 'next' } });
  });
});
