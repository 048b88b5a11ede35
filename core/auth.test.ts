import { describe, expect, it } from 'vitest';
import { bearer, nodeToken, operatorToken, verifyToken } from './auth';

describe('tokens', () => {
  it('verifies a node token for its host only, and the operator token', () => {
    expect(verifyToken('s', nodeToken('s', 'host-a'))).toEqual({ kind: 'node', host: 'host-a' });
    expect(verifyToken('s', operatorToken('s'))).toEqual({ kind: 'operator' });
  });

  it('rejects tokens from another secret, tampered hosts and garbage', () => {
    expect(verifyToken('s', nodeToken('other', 'host-a'))).toBeUndefined();
    const [, , sig] = nodeToken('s', 'host-a').split('.');
    expect(verifyToken('s', `qmn.${Buffer.from('host-b').toString('base64url')}.${sig}`)).toBeUndefined();
    for (const t of [undefined, '', 'qmo', 'qmo.', 'qmn..', 'Bearer x', `${operatorToken('s')}x`]) {
      expect(verifyToken('s', t)).toBeUndefined();
    }
  });

  it('reads the bearer token from any header casing', () => {
    expect(bearer({ Authorization: 'Bearer abc' })).toBe('abc');
    expect(bearer({ authorization: 'bearer abc' })).toBe('abc');
    expect(bearer({ authorization: 'Basic abc' })).toBeUndefined();
    expect(bearer(null)).toBeUndefined();
  });
});
