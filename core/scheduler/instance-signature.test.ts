import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addToSignature, groupBit, instanceBit, mayRun, signatureOf } from './instance-signature';

describe('instance signature', () => {
  it('never says a host cannot run an instance or group it has (no false negatives)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uuid(), fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined })), {
          maxLength: 60,
        }),
        (entries) => {
          const instances = new Map(entries.map(([u, g]) => [u, g === undefined ? {} : { group: g }]));
          const s = signatureOf(instances);
          for (const [u, i] of instances) {
            expect(mayRun(s, instanceBit(u))).toBe(true);
            if (i.group !== undefined) expect(mayRun(s, groupBit(i.group))).toBe(true);
          }
        },
      ),
    );
  });

  it('rules out a host whose bits are clear, and keeps up with additions', () => {
    const s = signatureOf(new Map());
    expect([s.instance_sig_lo, s.instance_sig_hi]).toEqual([0, 0]);
    const bit = instanceBit('6b29edcd-00fd-4019-8e84-cc16b7afec19');
    expect(mayRun(s, bit)).toBe(false);
    addToSignature(s, bit);
    expect(mayRun(s, bit)).toBe(true);
    expect(mayRun(s, (bit + 1) % 60)).toBe(false);
  });

  it('spreads uuids over all 60 bits and keeps words small integers', () => {
    const bits = new Set(
      Array.from({ length: 2000 }, (_, i) => instanceBit(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)),
    );
    expect(bits.size).toBe(60);
    const all = signatureOf(new Map([...Array(2000).keys()].map((i) => [`u${i}`, {}])));
    expect(all).toEqual({ instance_sig_lo: 2 ** 30 - 1, instance_sig_hi: 2 ** 30 - 1 });
  });

  it('treats a host without a signature as possibly running anything', () => {
    expect(mayRun({}, 5)).toBe(true);
  });
});
