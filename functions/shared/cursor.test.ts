import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './cursor';

describe('the GET /nodes cursor', () => {
  it('round-trips every host', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9](?:[a-z0-9.-]{0,40}[a-z0-9])?$/), (host) => {
        expect(decodeCursor(encodeCursor(host))).toBe(host);
      }),
    );
  });

  it('refuses a cursor cut short, lengthened or with one character changed, naming next', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9](?:[a-z0-9.-]{0,40}[a-z0-9])?$/),
        fc.nat(),
        fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
        (host, at, ch) => {
          const c = encodeCursor(host);
          const i = at % c.length;
          const edited = [c.slice(0, -1), `${c}A`, `${c}=`, c.slice(0, i) + ch + c.slice(i + 1)].filter((x) => x !== c);
          for (const x of edited) expect(() => decodeCursor(x), x).toThrow('next: must be the next value');
        },
      ),
    );
  });
});
