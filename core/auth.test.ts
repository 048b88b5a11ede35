import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  authenticate,
  DEFAULT_TTL_S,
  isRevoked,
  MAX_TTL_S,
  mintToken,
  nodeToken,
  operatorToken,
  parseDuration,
  verifyToken,
} from './auth';

const NOW = Date.UTC(2026, 10, 30, 9, 0, 0);
const at = { nowMs: NOW };
const keys = { current: 's' };
const b64 = (t: string) => Buffer.from(t).toString('base64url');

describe('tokens', () => {
  it('verifies a node token for its host only, and the operator token', () => {
    expect(verifyToken(keys, nodeToken('s', 'host-a', at), NOW)).toMatchObject({
      ok: true,
      principal: { kind: 'node', host: 'host-a', issuedAtMs: NOW, expiresAtMs: NOW + DEFAULT_TTL_S.node * 1000 },
    });
    expect(verifyToken(keys, operatorToken('s', at), NOW)).toMatchObject({
      ok: true,
      principal: { kind: 'operator', expiresAtMs: NOW + DEFAULT_TTL_S.operator * 1000 },
    });
  });

  it('rejects tokens from another secret, tampered hosts and garbage', () => {
    expect(verifyToken(keys, nodeToken('other', 'host-a', at), NOW)).toMatchObject({ ok: false, reason: 'signature' });
    const [kind, , sig] = nodeToken('s', 'host-a', at).split('.');
    const forged = `${kind}.${b64(`${NOW}.${NOW + 1000}.host-b`)}.${sig}`;
    expect(verifyToken(keys, forged, NOW)).toMatchObject({ ok: false, reason: 'signature' });
    for (const t of [undefined, '', 'qmo', 'qmo.', 'qmn..', 'qmn...', 'Bearer x', `${operatorToken('s', at)}x`]) {
      expect(verifyToken(keys, t, NOW).ok, String(t)).toBe(false);
    }
  });

  it('refuses the tokens of the old format, which never expired', () => {
    const oldNode = `qmn.${b64('host-a')}.${'A'.repeat(43)}`;
    expect(verifyToken(keys, oldNode, NOW)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(verifyToken(keys, `qmo.${'A'.repeat(43)}`, NOW)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('expires a token at its expiry, with its own code, only once its signature holds', () => {
    const t = nodeToken('s', 'h', { nowMs: NOW, ttlS: 30 });
    expect(verifyToken(keys, t, NOW + 29_999).ok).toBe(true);
    expect(verifyToken(keys, t, NOW + 30_000)).toEqual({ ok: false, reason: 'expired', expiresAtMs: NOW + 30_000 });
    expect(() => authenticate(keys, t, NOW + 30_000)).toThrow(expect.objectContaining({ code: 'TokenExpired' }));
    // A forged expired token says nothing about expiry.
    expect(verifyToken(keys, nodeToken('x', 'h', { nowMs: 0, ttlS: 1 }), NOW)).toMatchObject({ reason: 'signature' });
    expect(() => authenticate(keys, undefined, NOW)).toThrow(expect.objectContaining({ code: 'Unauthorized' }));
  });

  it('keeps verifying tokens of the previous secret after a rotation, and mints with the current one', () => {
    const rotated = { current: 'new', previous: 's' };
    expect(verifyToken(rotated, nodeToken('s', 'h', at), NOW)).toMatchObject({ ok: true, signedWith: 'previous' });
    expect(verifyToken(rotated, nodeToken('new', 'h', at), NOW)).toMatchObject({ ok: true, signedWith: 'current' });
    expect(verifyToken(rotated, nodeToken('older', 'h', at), NOW)).toMatchObject({ ok: false, reason: 'signature' });
    // Expiry still holds for the previous secret's tokens.
    const short = operatorToken('s', { nowMs: NOW, ttlS: 60 });
    expect(verifyToken(rotated, short, NOW + 60_000)).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('accepts only the canonical spelling of a token', () => {
    const t = nodeToken('s', 'host-a', at);
    const [kind, claims, sig] = t.split('.') as [string, string, string];
    const text = Buffer.from(claims, 'base64url').toString();
    const variants = [
      `${kind}.${claims}==.${sig}`, // padding
      `${kind}.${Buffer.from(text).toString('base64')}.${sig}`, // standard alphabet, padded
      `${kind}.${claims}.${sig}=`,
      `${kind}.${claims.slice(0, 4)}\n${claims.slice(4)}.${sig}`, // a character the decoder skips
      `${kind}.${claims}!.${sig}`,
      `${kind.toUpperCase()}.${claims}.${sig}`,
      ` ${t}`,
      `${kind}.${b64(`0${text}`)}.${sig}`, // a leading zero re-signed below
    ];
    for (const v of variants) expect(verifyToken(keys, v, NOW).ok, JSON.stringify(v)).toBe(false);
    // Even signed with the secret, a non-canonical claim text is refused.
    for (const bad of [`0${NOW}.${NOW + 1}.h`, `+${NOW}.${NOW + 1}.h`, `${NOW}.${NOW + 1}.`, `${NOW}.${NOW - 1}.h`]) {
      const signed = `qmn.${b64(bad)}`;
      const mac = nodeToken('s', 'h', at).split('.')[2];
      expect(verifyToken(keys, `${signed}.${mac}`, NOW).ok).toBe(false);
    }
  });

  it('property: no change to a valid token is accepted, and every valid token round-trips', () => {
    const host = fc.stringMatching(/^[a-z0-9](?:[a-z0-9.-]{0,30}[a-z0-9])?$/);
    const kind = fc.constantFrom('node' as const, 'operator' as const);
    const ttl = fc.integer({ min: 1, max: MAX_TTL_S });
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('flip' as const), at: fc.nat(), to: fc.integer({ min: 32, max: 126 }) }),
      fc.record({
        op: fc.constant('insert' as const),
        at: fc.nat(),
        ch: fc.constantFrom('=', '+', '/', '.', ' ', 'A'),
      }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('pad' as const) }),
      fc.record({ op: fc.constant('expire' as const), by: fc.integer({ min: 0, max: 10 ** 9 }) }),
    );
    fc.assert(
      fc.property(kind, host, ttl, fc.integer({ min: 0, max: 4e12 }), mutation, (k, h, ttlS, nowMs, m) => {
        const t = k === 'node' ? nodeToken('s', h, { nowMs, ttlS }) : operatorToken('s', { nowMs, ttlS });
        const ok = verifyToken(keys, t, nowMs);
        expect(ok).toMatchObject({ ok: true, principal: { kind: k, issuedAtMs: nowMs } });
        if (ok.ok) expect(mintToken('s', ok.principal)).toBe(t);
        if (m.op === 'expire') {
          const v = verifyToken(keys, t, nowMs + ttlS * 1000 + m.by);
          expect(v).toMatchObject({ ok: false, reason: 'expired' });
          return;
        }
        let changed: string;
        if (m.op === 'flip') {
          const i = m.at % t.length;
          changed = t.slice(0, i) + String.fromCharCode(m.to) + t.slice(i + 1);
        } else if (m.op === 'insert') {
          const i = m.at % (t.length + 1);
          changed = t.slice(0, i) + m.ch + t.slice(i);
        } else if (m.op === 'delete') {
          const i = m.at % t.length;
          changed = t.slice(0, i) + t.slice(i + 1);
        } else changed = `${t}=`;
        fc.pre(changed !== t);
        expect(verifyToken(keys, changed, nowMs).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('revokes node tokens issued strictly before the revocation time', () => {
    const rev = new Date(NOW).toISOString();
    expect(isRevoked(rev, NOW - 1)).toBe(true);
    expect(isRevoked(rev, NOW)).toBe(false); // minted in the same millisecond: after it
    expect(isRevoked(null, 0)).toBe(false);
    expect(isRevoked(undefined, 0)).toBe(false);
  });

  it('parses --ttl durations and refuses others', () => {
    expect(parseDuration('30s')).toBe(30);
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('12h')).toBe(43_200);
    expect(parseDuration('90d')).toBe(90 * 86_400);
    for (const bad of ['', '0s', '10', '1w', '-1d', '1.5h', '367d', '01d', 'd']) {
      expect(() => parseDuration(bad), bad).toThrow(expect.objectContaining({ code: 'ValidationError' }));
    }
    expect(() => nodeToken('s', 'h', { nowMs: NOW, ttlS: MAX_TTL_S + 1 })).toThrow();
  });
});
