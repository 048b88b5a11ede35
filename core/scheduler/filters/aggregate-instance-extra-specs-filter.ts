import { type AggregateSpec, type Filter, PASS, reject } from '../types';
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

/**
 * AggregateInstanceExtraSpecsFilter: every such extra spec must be matched by
 * the node's metadata (Nova's host aggregate metadata). A metadata value is a
 * comma-separated set, as Nova merges aggregates; one matching member suffices.
 * A key absent from the metadata rejects the host, as in Nova.
 */
export const AggregateInstanceExtraSpecsFilter: Filter = {
  name: 'AggregateInstanceExtraSpecsFilter',
  summary: "did not match the flavor's extra specs in their metadata",
  filter(host, _spec, ctx) {
    const specs = ctx.request.aggregateSpecs;
    if (specs.length === 0) return PASS;
    const md = host.metadata;
    for (const { key, metadataKey, req, match } of specs) {
      const raw = Object.hasOwn(md, metadataKey) ? md[metadataKey] : undefined;
      if (raw === undefined) {
        return reject(`AggregateInstanceExtraSpecsFilter: ${key} wants "${req}", node metadata has no ${metadataKey}`);
      }
      // One value is the common case: no split.
      const ok = raw.includes(',') ? raw.split(',').some((v) => match(v.trim())) : match(raw.trim());
      if (!ok) {
        return reject(
          `AggregateInstanceExtraSpecsFilter: ${key} wants "${req}", node metadata ${metadataKey}="${raw}"`,
        );
      }
    }
    return PASS;
  },
};
