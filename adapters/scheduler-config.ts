import { type ResolvedOptions, resolveOptions, SchedulerOptionsSchema } from '../core/scheduler/options';

/**
 * Scheduler options from the environment, one variable per option:
 * `QM_<OPTION IN UPPER CASE>` (e.g. QM_CPU_ALLOCATION_RATIO, QM_ENABLED_FILTERS
 * as a comma-separated list). Unset or empty → Nova's default. Validated at
 * cold start: an unknown filter name or a bad number fails the function there.
 */
export const readSchedulerOptions = (env: NodeJS.ProcessEnv = process.env): ResolvedOptions => {
  const raw: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(SchedulerOptionsSchema.shape)) {
    const text = env[`QM_${key.toUpperCase()}`];
    if (text === undefined || text.trim() === '') continue;
    const kind = schema.def.type === 'default' ? (schema.def.innerType as { def: { type: string } }).def.type : '';
    if (kind === 'array')
      raw[key] = text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (kind === 'number') raw[key] = Number(text);
    else if (kind === 'boolean') raw[key] = text === 'true' ? true : text === 'false' ? false : text;
    else raw[key] = text;
  }
  return resolveOptions(raw);
};
