import { ValidationError } from '../../core/errors';
import { HOST_PATTERN } from '../../core/schema';

/**
 * `GET /nodes` continues from an opaque `next`: base64url (unpadded) of `n1:<host>`, the
 * host the previous page ended with. Decoding checks the form exactly, so a malformed or
 * truncated `next` is a 400 naming `next`, never a silent restart from the first page.
 */
const PREFIX = 'n1:';

export const encodeCursor = (host: string): string => Buffer.from(`${PREFIX}${host}`, 'utf8').toString('base64url');

export const decodeCursor = (next: string): string => {
  const bad = () => new ValidationError('next', 'must be the next value of a previous page');
  if (!/^[A-Za-z0-9_-]+$/.test(next)) throw bad();
  const text = Buffer.from(next, 'base64url').toString('utf8');
  // One encoding per cursor: what does not re-encode to itself was not made by encodeCursor.
  if (encodeCursor(text.slice(PREFIX.length)) !== next || !text.startsWith(PREFIX)) throw bad();
  const host = text.slice(PREFIX.length);
  if (!HOST_PATTERN.test(host)) throw bad();
  return host;
};
