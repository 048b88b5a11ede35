import { QmError } from '../errors';

/**
 * A simulation input that cannot be used: a bad fleet, trace line or config.
 * `where` names the file and line or option; the CLI exits 2 on it, as on any
 * usage error.
 */
export class SimulationInputError extends QmError {
  constructor(where: string, message: string, details: Record<string, unknown> = {}) {
    super(400, 'SimulationInput', `${where}: ${message}`, { where, ...details });
  }
}
