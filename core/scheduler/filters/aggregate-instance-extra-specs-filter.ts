import type { AggregateSpec } from '../types';
import { defineFilter } from './define-filter';
import { compileExtraSpec } from './extra-specs-ops';

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
export const AggregateInstanceExtraSpecsFilter = defineFilter({
  name: 'AggregateInstanceExtraSpecsFilter',
  summary: "did not match the flavor's extra specs in their metadata",
  passesAll: (request) => request.aggregateSpecs.length === 0,
  passes(host, _spec, ctx) {
    const specs = ctx.request.aggregateSpecs;
    for (let i = 0; i < specs.length; i++) if (!satisfied(host.metadata, specs[i] as AggregateSpec)) return false;
    return true;
  },
  explain(host, _spec, ctx) {
    const md = host.metadata;
    const { key, metadataKey, req } = ctx.request.aggregateSpecs.find((s) => !satisfied(md, s)) as AggregateSpec;
    if (!Object.hasOwn(md, metadataKey)) {
      return `AggregateInstanceExtraSpecsFilter: ${key} wants "${req}", node metadata has no ${metadataKey}`;
    }
    return `AggregateInstanceExtraSpecsFilter: ${key} wants "${req}", node metadata ${metadataKey}="${md[metadataKey]}"`;
  },
});
