/**
 * Errors of the scheduler core, after the project's QmError base
 * (Powertools' shape: one base class, `…Error` subclasses that keep `cause`).
 */
import { QmError } from '../errors';

/** What NoValidHost tells the client: why every host was turned down, in numbers. */
export interface NoValidHostDetails {
  /** Filter name → hosts it rejected (each host counted once, under its first rejection). */
  filter_counts: Record<string, number>;
  /** Host → the first rejection, e.g. "RamFilter: needs 2048 MB, 1024 MB usable of 4096 MB × 1.5". */
  hosts: Record<string, string>;
  summary: string;
  [extra: string]: unknown;
}

/**
 * 409 NoValidHost: no host passed every filter for one of the instances. Unlike
 * Nova's bare message, the details say per host which filter rejected it and why.
 */
export class NoValidHostError extends QmError {
  declare readonly details: NoValidHostDetails;
  constructor(details: NoValidHostDetails, options?: { cause?: unknown }) {
    super(409, 'NoValidHost', `No valid host was found. ${details.summary}`, details, options);
  }
}
