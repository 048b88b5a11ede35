import { createHash } from 'node:crypto';
import { ValidationError } from '../../core/errors';
import { HOST_PATTERN } from '../../core/schema';

/**
 * `GET /nodes` continues from an opaque `next`: base64url (unpadded) of
 * `n1:<host>:<check>`, the host the previous page ended with and 8 hex digits
 * of its SHA-256. Decoding checks the form exactly and the check digits, so a
 * malformed, truncated or edited `next` is a 400 naming `next`, never a silent
 * restart (or a jump) somewhere else in the table.
 */
const PREFIX = 'n1:';
const check = (host: string) => createHash('sha256').update(`${PREFIX}${host}`).digest('hex').slice(0, 8);

export const encodeCursor = (host: string): string =>
  Buffer.from(`${PREFIX}${host}:${check(host)}`, 'utf8').toString('base64url');

export const decodeCursor = (next: string): string => {
  const bad = () => new ValidationError('next', 'must be the next value of a previous page');
  if (!/^[A-Za-z0-9_-]+$/.test(next)) throw bad();
  const m = /^n1:(.+):([0-9a-f]{8})$/.exec(Buffer.from(next, 'base64url').toString('utf8'));
  const host = m?.[1];
  if (!host || !HOST_PATTERN.test(host) || m?.[2] !== check(host)) throw bad();
  // One encoding per cursor: what does not re-encode to itself was not made by encodeCursor.
  if (encodeCursor(host) !== next) throw bad();
  return host;
};
