import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

/**
 * An item's size by DynamoDB's published rules (Developer Guide, "Item sizes and formats"): names +
 * values; a string or binary its bytes; a number ≈ 1 byte per 2 significant digits + 1; a list or map
 * 3 bytes + 1 per element (+ the element's name for a map); null and boolean 1 byte.
 * A stand-in until branch capacity's adapters/dynamodb/capacity-rules.ts lands on main (the lead dedupes).
 */
export const attributeBytes = (v: AttributeValue): number => {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return numberBytes(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((s, x) => s + Buffer.byteLength(x), 3);
  if (v.NS) return v.NS.reduce((s, x) => s + numberBytes(x), 3);
  if (v.L) return v.L.reduce((s, x) => s + 1 + attributeBytes(x), 3);
  if (v.M) return Object.entries(v.M).reduce((s, [k, x]) => s + 1 + Buffer.byteLength(k) + attributeBytes(x), 3);
  return 0;
};

const numberBytes = (n: string): number => {
  const digits = n.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
};

/** The size of a document-client item (as the DynamoDB adapters send it), in bytes. */
export const itemBytes = (item: Record<string, unknown>): number =>
  Object.entries(marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: false })).reduce(
    (s, [k, v]) => s + Buffer.byteLength(k) + attributeBytes(v),
    0,
  );

/** Write units of a write that leaves an item of `after` bytes where one of `before` was: 1 per KB of the larger. */
export const writeUnits = (before: number, after: number, transactional = false): number =>
  Math.max(1, Math.ceil(Math.max(before, after) / 1024)) * (transactional ? 2 : 1);
