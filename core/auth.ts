import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Stateless bearer tokens derived from one secret (HMAC-SHA256):
 *   node token     qmn.<base64url(host)>.<hmac("node:" + host)>
 *   operator token qmo.<hmac("operator")>
 * A token cannot be forged without the secret and needs no storage; rotating
 * the secret revokes every token at once.
 */
export type Principal = { kind: 'operator' } | { kind: 'node'; host: string };

const mac = (secret: string, subject: string): string =>
  createHmac('sha256', secret).update(subject).digest('base64url');

/** Mints the token for one host's agent. */
export const nodeToken = (secret: string, host: string): string =>
  `qmn.${Buffer.from(host).toString('base64url')}.${mac(secret, `node:${host}`)}`;

/** Mints the operator token. */
export const operatorToken = (secret: string): string => `qmo.${mac(secret, 'operator')}`;

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Verifies a bearer token; undefined when it is missing or does not verify. */
export const verifyToken = (secret: string, token: string | undefined): Principal | undefined => {
  if (!token) return undefined;
  const parts = token.split('.');
  if (parts[0] === 'qmo' && parts.length === 2) {
    return same(parts[1] ?? '', mac(secret, 'operator')) ? { kind: 'operator' } : undefined;
  }
  if (parts[0] === 'qmn' && parts.length === 3) {
    const host = Buffer.from(parts[1] ?? '', 'base64url').toString();
    return host && same(parts[2] ?? '', mac(secret, `node:${host}`)) ? { kind: 'node', host } : undefined;
  }
  return undefined;
};

/** Reads `Authorization: Bearer <token>` case-insensitively. */
export const bearer = (headers: Record<string, string | undefined> | null | undefined): string | undefined => {
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() === 'authorization' && v) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(v);
      return m?.[1];
    }
  }
  return undefined;
};
