import { describe, expect, it } from 'vitest';
import { parseNotification } from '../core/events';
import type { Instance } from '../core/nodes';
import { CREATE_END, DELETE_END, diffDomains, notification } from './notifications';

const A: Instance = { uuid: '882315da-fb95-4c50-814b-cda400eadc21', vcpus: 2, memory_mb: 2048, disk_gb: 20 };
const B: Instance = { uuid: '6b29edcd-00fd-4019-8e84-cc16b7afec19', vcpus: 1, memory_mb: 976, disk_gb: 10 };
const C: Instance = { uuid: 'ee8eca59-01a7-4bbe-8657-3438492be603', vcpus: 8, memory_mb: 16384, disk_gb: 0 };
const D: Instance = { uuid: '5c01bcc9-1ed4-4753-8d24-e92c145608ba', vcpus: 4, memory_mb: 4096, disk_gb: 40 };

const NOW = new Date('2026-11-23T10:00:00.000Z');
const ids = () => {
  let i = 0;
  return () => `id-${++i}`;
};
const diff = (before: Instance[], after: Instance[]) => diffDomains(before, after, 'host-a', NOW, ids());

describe('diffDomains', () => {
  it('publishes nothing when the same domains run, in any order and uuid case', () => {
    expect(diff([A, B], [B, { ...A, uuid: A.uuid.toUpperCase() }])).toEqual([]);
    expect(diff([], [])).toEqual([]);
  });

  it('publishes create.end for a domain that appeared, sized as it runs now', () => {
    expect(diff([A], [A, D])).toEqual([
      {
        message_id: 'id-1',
        event_type: CREATE_END,
        publisher_id: 'compute.host-a',
        timestamp: '2026-11-23T10:00:00.000Z',
        priority: 'INFO',
        payload: { instance_id: D.uuid, vcpus: 4, memory_mb: 4096, disk_gb: 40, host: 'host-a' },
      },
    ]);
  });

  it('publishes delete.end for a domain that vanished, sized as last seen', () => {
    expect(diff([A, B], [B])).toMatchObject([
      { event_type: DELETE_END, payload: { instance_id: A.uuid, vcpus: 2, memory_mb: 2048, disk_gb: 20 } },
    ]);
  });

  it('orders a swap as deletes, then creates, each by uuid, with a fresh id each', () => {
    // before A B C, after B C D plus E: A went; D and E came.
    const E = { ...D, uuid: '00000000-1111-4222-8333-444444444444' };
    const out = diff([A, B, C], [D, C, B, E]);
    expect(out.map((n) => [n.event_type, n.payload.instance_id, n.message_id])).toEqual([
      [DELETE_END, A.uuid, 'id-1'],
      [CREATE_END, E.uuid, 'id-2'],
      [CREATE_END, D.uuid, 'id-3'],
    ]);
  });

  it('does not count a resize as a lifecycle event', () => {
    expect(diff([A], [{ ...A, vcpus: 4, memory_mb: 8192 }])).toEqual([]);
  });

  it('lower-cases the instance id', () => {
    const upper = { ...D, uuid: D.uuid.toUpperCase() };
    expect(diff([], [upper])[0]?.payload.instance_id).toBe(D.uuid);
  });

  it('makes notifications the notify function accepts, with the instance and host they name', () => {
    for (const n of diff([A, B], [B, D])) {
      const e = parseNotification(JSON.stringify(n));
      expect(e.host).toBe('host-a');
      expect(e.message_id).toBe(n.message_id);
      if (n.event_type === CREATE_END) {
        expect(e).toMatchObject({ kind: 'create_end', instance: D.uuid, vcpus: 4, memory_mb: 4096, disk_gb: 40 });
      } else {
        expect(e).toMatchObject({ kind: 'release', instance: A.uuid });
      }
    }
  });
});

describe('notification', () => {
  it("wraps a payload in Nova's envelope", () => {
    const n = notification('h1', 'compute.instance.delete.end', { instance_id: A.uuid }, NOW, () => 'm-1');
    expect(n).toEqual({
      message_id: 'm-1',
      event_type: 'compute.instance.delete.end',
      publisher_id: 'compute.h1',
      timestamp: '2026-11-23T10:00:00.000Z',
      priority: 'INFO',
      payload: { instance_id: A.uuid },
    });
    expect(parseNotification(JSON.stringify(n))).toMatchObject({ kind: 'release', host: 'h1' });
  });
});
