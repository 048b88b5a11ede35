import { z } from 'zod';
import { ValidationError } from './errors';

/** Hostnames after RFC 1123 (labels of letters, digits and hyphens), plus `_` seen in the wild. */
export const HOST_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,252}[A-Za-z0-9])?$/;
/** Nova's instance uuids; the version nibble is not checked. */
export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const count = () => z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/**
 * Parses `value` with `schema`; the first issue becomes a ValidationError naming
 * the field by its dotted path (e.g. `cpu_info.topology.cores`).
 */
export const parseWith = <T>(schema: z.ZodType<T>, value: unknown, root = 'body'): T => {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (!issue) throw new ValidationError(root, 'is invalid');
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const key = [...path, issue.keys[0] ?? ''].join('.');
    throw new ValidationError(key, 'is not a known field');
  }
  const field = path.length > 0 ? path.join('.') : root;
  throw new ValidationError(field, issue.message);
};
