/**
 * Scheduler options with Nova's names, meanings and defaults
 * (`nova/conf/scheduler.py` [filter_scheduler], `nova/conf/compute.py`).
 * Read once at cold start: `resolveOptions` fails loudly on anything unknown.
 */
import { z } from 'zod';
import { canonicalArch } from './canonical';
import { FILTERS, REGISTRY } from './filters/index';
import type { AnyFilter, Weigher } from './types';
import { WEIGHERS } from './weighers/index';

/** Nova's `enabled_filters` default for this project: every registered filter, in the registry's order. */
export const DEFAULT_ENABLED_FILTERS: readonly string[] = REGISTRY.map((f) => f.name);

/** All five weighers (Nova's `weight_classes = nova.scheduler.weights.all_weighers` for these five). */
export const DEFAULT_WEIGHERS = [
  'RAMWeigher',
  'CPUWeigher',
  'DiskWeigher',
  'IoOpsWeigher',
  'NumInstancesWeigher',
] as const;

const ratio = (d: number) => z.number().nonnegative().max(1e6).default(d);
const mb = (d: number) => z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).default(d);
const multiplier = (d: number) => z.number().min(-1e9).max(1e9).default(d);

/** Scheduler options; every field defaults to Nova's value. */
export const SchedulerOptionsSchema = z.strictObject({
  enabled_filters: z.array(z.string()).default([...DEFAULT_ENABLED_FILTERS]),
  weighers: z.array(z.string()).default([...DEFAULT_WEIGHERS]),
  /**
   * 4.0: Nova's `initial_cpu_allocation_ratio` since 2023.1 (Antelope). Train's
   * default was 16.0 (and `initial_ram_allocation_ratio` 1.5); both were lowered then.
   */
  cpu_allocation_ratio: ratio(4.0),
  /** 1.0: Nova's `initial_ram_allocation_ratio` since 2023.1 (Train: 1.5). */
  ram_allocation_ratio: ratio(1.0),
  disk_allocation_ratio: ratio(1.0),
  reserved_host_memory_mb: mb(512),
  reserved_host_disk_mb: mb(0),
  reserved_host_cpus: mb(0),
  max_io_ops_per_host: mb(8),
  max_instances_per_host: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(50),
  ram_weight_multiplier: multiplier(1.0),
  cpu_weight_multiplier: multiplier(1.0),
  disk_weight_multiplier: multiplier(1.0),
  io_ops_weight_multiplier: multiplier(-1.0),
  num_instances_weight_multiplier: multiplier(0.0),
  /** Pick at random among this many best hosts (Nova: min 1). */
  host_subset_size: z.number().int().min(1).max(1000).default(1),
  /**
   * Shuffle hosts tied for the best weight before taking the subset. Nova's
   * `shuffle_best_same_weighed_hosts` defaults to false; here true, because many
   * schedulers racing for the same first host of an equal fleet only lose claims.
   */
  shuffle_best_same_weighed_hosts: z.boolean().default(true),
  /** Architecture assumed for images that name none (Nova's `image_properties_default_architecture`). */
  image_properties_default_architecture: z
    .string()
    .refine((a) => canonicalArch(a) !== undefined, 'is not an architecture Nova knows')
    .nullable()
    .default(null),
  /** Seconds without a report after which a node is down (Nova's `service_down_time`). */
  service_down_time: z.number().positive().max(1e9).default(60),
  /** Seconds an unconfirmed claim lives. */
  claim_ttl: z.number().positive().max(1e9).default(600),
  default_availability_zone: z.string().min(1).max(255).default('nova'),
});

/** Validated scheduler options. */
export type SchedulerOptions = z.infer<typeof SchedulerOptionsSchema>;

/** Options plus the filter and weigher objects they name, in order; usable wherever options are. */
export interface ResolvedOptions extends SchedulerOptions {
  readonly resolved: { readonly filters: readonly AnyFilter[]; readonly weighers: readonly Weigher[] };
}

/** Raised at cold start for options that do not validate; names the offending option. */
export class SchedulerConfigError extends Error {
  override name = 'SchedulerConfigError';
}

/** Nova's defaults, resolved. */
export const defaultOptions = (): ResolvedOptions => resolveOptions({});

/**
 * Validates raw options (missing fields take Nova's defaults) and resolves the
 * filter and weigher names. Throws SchedulerConfigError naming an unknown
 * filter or weigher, or the first invalid field.
 */
export const resolveOptions = (raw: unknown): ResolvedOptions => {
  const r = SchedulerOptionsSchema.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue?.path.map(String).join('.') || 'options';
    const what = issue?.code === 'unrecognized_keys' ? `unknown option ${issue.keys.join(', ')}` : issue?.message;
    throw new SchedulerConfigError(`scheduler option ${field}: ${what ?? 'is invalid'}`);
  }
  const opts = r.data;
  const filters = opts.enabled_filters.map((name) => {
    const f = Object.hasOwn(FILTERS, name) ? FILTERS[name] : undefined;
    if (!f) {
      throw new SchedulerConfigError(
        `scheduler option enabled_filters: unknown filter "${name}" (known: ${Object.keys(FILTERS).join(', ')})`,
      );
    }
    return f;
  });
  const weighers = opts.weighers.map((name) => {
    const w = Object.hasOwn(WEIGHERS, name) ? WEIGHERS[name] : undefined;
    if (!w) {
      throw new SchedulerConfigError(
        `scheduler option weighers: unknown weigher "${name}" (known: ${Object.keys(WEIGHERS).join(', ')})`,
      );
    }
    return w;
  });
  for (const key of ['enabled_filters', 'weighers'] as const) {
    const dup = opts[key].find((n, i) => opts[key].indexOf(n) !== i);
    if (dup) throw new SchedulerConfigError(`scheduler option ${key}: "${dup}" is listed twice`);
  }
  return { ...opts, resolved: { filters, weighers } };
};
