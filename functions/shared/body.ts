import { ValidationError } from '../../core/errors';

/**
 * Parses a JSON body, naming `body` when it is missing, too large or not JSON.
 * API Gateway hands the body over as a string (base64 when `isBase64`);
 * serverless-offline parses a body of `false`, `0` or `-0` itself and hands
 * over the value, so any other type is taken as already parsed (and measured
 * by its JSON form).
 */
export const parseJsonBody = (body: unknown, isBase64: boolean | undefined, maxBytes: number): unknown => {
  if (body === null || body === undefined || body === '') throw new ValidationError('body', 'a JSON body is required');
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  if (raw === undefined) throw new ValidationError('body', 'is not valid JSON');
  const text = isBase64 && typeof body === 'string' ? Buffer.from(body, 'base64').toString('utf8') : raw;
  const size = Buffer.byteLength(text);
  if (size > maxBytes)
    throw new ValidationError('body', `is ${size} bytes, more than the limit of ${maxBytes}`, { limit: maxBytes });
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ValidationError('body', `is not valid JSON (${(e as Error).message})`);
  }
};
