import { createHmac, timingSafeEqual } from 'node:crypto';
import { TokenExpiredError, UnauthorizedError, ValidationError } from './errors';

/**
 * Stateless bearer tokens signed with one secret (HMAC-SHA256), each carrying
 * its issue and expiry times (ms since the epoch):
 *   node token     qmn.<base64url("<iat>.<exp>.<host>")>.<mac>
 *   operator token qmo.<base64url("<iat>.<exp>")>.<mac>
 * where mac = base64url(HMAC(secret, "<kind>.<claims>")) over the exact text
 * before it. Verification re-encodes what it decoded and compares strings, so
 * each token has exactly one accepted spelling (no padding, no `+/`, no stray
 * bits in the last character, no leading zeros). Expiry is in the token;
 * revocation needs the issue time, compared with the node's `tokens_revoked_at`.
 */
export type Principal =
  | { kind: 'operator'; issuedAtMs: number; expiresAtMs: number }
  | { kind: 'node'; host: string; issuedAtMs: number; expiresAtMs: number };

/** The secrets a token may be signed with: tokens are minted with `current`; `previous` keeps verifying. */
export interface Keyring {
  current: string;
  /** The secret before the last rotation; its tokens work until they expire. */
  previous?: string;
}

/** Lifetimes when `--ttl` is not given (CONTRACT.md "Credentials"). */
export const DEFAULT_TTL_S = { node: 90 * 86_400, operator: 12 * 3_600 } as const;
/** No token outlives this: 366 days (a yearly re-issue, with a day of slack). */
export const MAX_TTL_S = 366 * 86_400;
/** Longer bearer values are refused before any decoding. */
const MAX_TOKEN_CHARS = 1024;

const PREFIX = { node: 'qmn', operator: 'qmo' } as const;
/** A decimal count of ms as `String(n)` writes it: no sign, no leading zero, at most 15 digits. */
const MS = /^(?:0|[1-9]\d{0,14})$/;

const mac = (secret: string, signed: string): string => createHmac('sha256', secret).update(signed).digest('base64url');
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

const claimsText = (p: Principal): string =>
  p.kind === 'node' ? `${p.issuedAtMs}.${p.expiresAtMs}.${p.host}` : `${p.issuedAtMs}.${p.expiresAtMs}`;

/** Mints a token for `principal` (its times are taken as given). */
export const mintToken = (secret: string, principal: Principal): string => {
  const signed = `${PREFIX[principal.kind]}.${b64(claimsText(principal))}`;
  return `${signed}.${mac(secret, signed)}`;
};

/** When a token is minted, and for how long (default: the kind's DEFAULT_TTL_S). */
export interface MintTime {
  nowMs: number;
  ttlS?: number;
}

const lifetime = (kind: Principal['kind'], at: MintTime) => {
  const ttlS = at.ttlS ?? DEFAULT_TTL_S[kind];
  if (!(Number.isInteger(ttlS) && ttlS > 0 && ttlS <= MAX_TTL_S)) {
    throw new ValidationError('ttl', `must be 1 s to ${MAX_TTL_S / 86_400} d`);
  }
  const issuedAtMs = Math.floor(at.nowMs);
  return { issuedAtMs, expiresAtMs: issuedAtMs + ttlS * 1000 };
};

/** Mints the token for one host's agent: it authorizes only `PUT /nodes/<host>`. */
export const nodeToken = (secret: string, host: string, at: MintTime): string =>
  mintToken(secret, { kind: 'node', host, ...lifetime('node', at) });

/** Mints an operator token: it authorizes every route. */
export const operatorToken = (secret: string, at: MintTime): string =>
  mintToken(secret, { kind: 'operator', ...lifetime('operator', at) });

/** Why a token was refused. `expired` is only said of a token whose signature verified. */
export type TokenRefusal = 'missing' | 'malformed' | 'signature' | 'expired';

export type Verification =
  | { ok: true; principal: Principal; signedWith: 'current' | 'previous' }
  | { ok: false; reason: TokenRefusal; expiresAtMs?: number };

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The principal a token's text names, or undefined when it is not in canonical form. */
const decode = (token: string): Principal | undefined => {
  if (token.length > MAX_TOKEN_CHARS) return undefined;
  const [kind, claims, sig, ...rest] = token.split('.');
  if (rest.length || sig === undefined || claims === undefined) return undefined;
  if (kind !== PREFIX.node && kind !== PREFIX.operator) return undefined;
  // Node's base64url decoder skips characters outside the alphabet, accepts `+/=`
  // and ignores the unused low bits: only a string that re-encodes to itself is canonical.
  const text = Buffer.from(claims, 'base64url').toString('utf8');
  if (b64(text) !== claims) return undefined;
  const [iat = '', exp = '', ...hostParts] = text.split('.');
  if (!MS.test(iat) || !MS.test(exp)) return undefined;
  const times = { issuedAtMs: Number(iat), expiresAtMs: Number(exp) };
  if (times.expiresAtMs <= times.issuedAtMs || times.expiresAtMs - times.issuedAtMs > MAX_TTL_S * 1000) {
    return undefined;
  }
  const principal: Principal =
    kind === PREFIX.node ? { kind: 'node', host: hostParts.join('.'), ...times } : { kind: 'operator', ...times };
  if (principal.kind === 'node' && !principal.host) return undefined;
  return claimsText(principal) === text ? principal : undefined;
};

/**
 * Verifies a bearer token at `nowMs` against the keyring: canonical form,
 * then the signature (current secret, then previous), then expiry.
 */
export const verifyToken = (keys: Keyring, token: string | undefined, nowMs: number): Verification => {
  if (!token) return { ok: false, reason: 'missing' };
  const principal = decode(token);
  if (!principal) return { ok: false, reason: 'malformed' };
  const signed = token.slice(0, token.lastIndexOf('.'));
  const sig = token.slice(signed.length + 1);
  const signedWith = same(sig, mac(keys.current, signed))
    ? 'current'
    : keys.previous !== undefined && same(sig, mac(keys.previous, signed))
      ? 'previous'
      : undefined;
  if (!signedWith) return { ok: false, reason: 'signature' };
  if (nowMs >= principal.expiresAtMs) return { ok: false, reason: 'expired', expiresAtMs: principal.expiresAtMs };
  return { ok: true, principal, signedWith };
};

/** The principal of a valid token, else the contract's 401 (`TokenExpired`, or `Unauthorized`). */
export const authenticate = (keys: Keyring, token: string | undefined, nowMs: number): Principal => {
  const v = verifyToken(keys, token, nowMs);
  if (v.ok) return v.principal;
  if (v.reason === 'expired' && v.expiresAtMs !== undefined) throw new TokenExpiredError(v.expiresAtMs);
  throw new UnauthorizedError();
};

/**
 * Whether a node token issued at `issuedAtMs` is revoked by `revokedAt` (the
 * node's `tokens_revoked_at`, ms precision): tokens issued strictly before it are,
 * so a token minted in the same millisecond as the revocation, or later, works.
 */
export const isRevoked = (revokedAt: string | null | undefined, issuedAtMs: number): boolean =>
  typeof revokedAt === 'string' && issuedAtMs < Date.parse(revokedAt);

const UNIT_S = { s: 1, m: 60, h: 3_600, d: 86_400 } as const;

/** Parses a `--ttl` DURATION (`30s`, `15m`, `12h`, `90d`) into seconds, within 1 s … MAX_TTL_S. */
export const parseDuration = (text: string): number => {
  const m = /^([1-9]\d{0,7})([smhd])$/.exec(text.trim());
  const s = m ? Number(m[1]) * UNIT_S[m[2] as keyof typeof UNIT_S] : Number.NaN;
  if (!(s <= MAX_TTL_S)) {
    throw new ValidationError(
      'ttl',
      `'${text}' is not a duration of 1s to ${MAX_TTL_S / 86_400}d (e.g. 30s, 15m, 12h, 90d)`,
    );
  }
  return s;
};
