import { defineFilter } from './define-filter';
import { compileExtraSpec, type ExtraSpecMatcher } from './extra-specs-ops';

/** One extra spec the AggregateInstanceExtraSpecsFilter checks against node metadata. */
export interface AggregateSpec {
  key: string;
  metadataKey: string;
  req: string;
  /** `req` compiled once (Nova's extra-specs operators). */
  match: ExtraSpecMatcher;
}

const SCOPE = 'aggregate_instance_extra_specs';

/**
 * The extra specs this filter checks: unscoped keys and keys in the
 * `aggregate_instance_extra_specs:` scope (split at the first `:` only); keys
 * of any other scope are ignored (Nova's `aggregate_instance_extra_specs.py`).
 */
export const aggregateSpecsOf = (extraSpecs: Readonly<Record<string, string>>): AggregateSpec[] => {
  const out: AggregateSpec[] = [];
  for (const [key, req] of Object.entries(extraSpecs)) {
    const colon = key.indexOf(':');
    if (colon < 0) out.push({ key, metadataKey: key, req, match: compileExtraSpec(req) });
    else if (key.slice(0, colon) === SCOPE) {
      out.push({ key, metadataKey: key.slice(colon + 1), req, match: compileExtraSpec(req) });
    }
  }
  return out;
};

/** Whether the node metadata satisfies one spec: one member of the comma-separated value matching suffices. */
const satisfied = (md: Readonly<Record<string, string>>, spec: AggregateSpec): boolean => {
  const raw = Object.hasOwn(md, spec.metadataKey) ? md[spec.metadataKey] : undefined;
  if (raw === undefined) return false;
  // One value is the common case: no split.
  return raw.includes(',') ? raw.split(',').some((v) => spec.match(v.trim())) : spec.match(raw.trim());
};

/**
 * AggregateInstanceExtraSpecsFilter: every such extra spec must be matched by
 * the node's metadata (Nova's host aggregate metadata). A metadata value is a
 * comma-separated set, as Nova merges aggregates; one matching member suffices.
 * A key absent from the metadata rejects the host, as in Nova.
 */
export const AggregateInstanceExtraSpecsFilter = defineFilter<
  readonly AggregateSpec[],
  { key: string; wants: string; metadata_key: string; has: string | null }
>({
  name: 'AggregateInstanceExtraSpecsFilter',
  summary: "did not match the flavor's extra specs in their metadata",
  reasons: {
    missing: {
      count: "lacked metadata the flavor's extra specs ask for",
      render: (f) =>
        `AggregateInstanceExtraSpecsFilter: ${f.key} wants "${f.wants}", node metadata has no ${f.metadata_key}`,
    },
    mismatch: {
      count: "did not match the flavor's extra specs in their metadata",
      render: (f) =>
        `AggregateInstanceExtraSpecsFilter: ${f.key} wants "${f.wants}", node metadata ${f.metadata_key}="${f.has}"`,
    },
  },
  prepare: ({ spec }) => aggregateSpecsOf(spec.instance_type.extra_specs),
  idle: (specs) => specs.length === 0,
  passes(host, specs) {
    for (let i = 0; i < specs.length; i++) if (!satisfied(host.metadata, specs[i] as AggregateSpec)) return false;
    return true;
  },
  explain(host, specs) {
    const md = host.metadata;
    let failed = specs[0] as AggregateSpec;
    for (let i = 0; i < specs.length; i++) {
      failed = specs[i] as AggregateSpec;
      if (!satisfied(md, failed)) break;
    }
    const has = Object.hasOwn(md, failed.metadataKey) ? (md[failed.metadataKey] as string) : null;
    return {
      code: has === null ? 'missing' : 'mismatch',
      figures: { key: failed.key, wants: failed.req, metadata_key: failed.metadataKey, has },
    };
  },
});
