/**
 * Hypervisor version requirements as Nova's ImagePropertiesFilter reads them:
 * the host's integer version (oslo `versionutils.convert_version_to_str`:
 * 6002000 → "6.2.0") tested against the image's `hypervisor_version_requires`
 * with distutils' `VersionPredicate` over `StrictVersion` (">=6.0,<6.2").
 */

/** A StrictVersion: up to three numeric parts, optional `a`/`b` pre-release. */
export interface StrictVersion {
  parts: readonly [number, number, number];
  pre: readonly [string, number] | null;
}

type Op = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** One parsed clause of a predicate. */
export interface VersionClause {
  op: Op;
  version: StrictVersion;
  text: string;
}

const STRICT = /^(\d+)\.(\d+)(?:\.(\d+))?(?:([ab])(\d+))?$/;
const CLAUSE = /^\s*(<=|>=|<|>|!=|==)\s*([^\s,]+)\s*$/;

/** distutils StrictVersion parse, or undefined where it raises ValueError. */
export const parseStrictVersion = (text: string): StrictVersion | undefined => {
  const m = STRICT.exec(text);
  if (!m) return undefined;
  return {
    parts: [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)],
    pre: m[4] ? [m[4], Number(m[5])] : null,
  };
};

/** StrictVersion ordering: numeric parts, then a release sorts after its pre-releases. */
export const compareVersions = (a: StrictVersion, b: StrictVersion): number => {
  for (let i = 0; i < 3; i++) {
    const d = (a.parts[i] as number) - (b.parts[i] as number);
    if (d !== 0) return d;
  }
  if (a.pre === null) return b.pre === null ? 0 : 1;
  if (b.pre === null) return -1;
  if (a.pre[0] !== b.pre[0]) return a.pre[0] < b.pre[0] ? -1 : 1;
  return a.pre[1] - b.pre[1];
};

/**
 * Parses `">=6.0, <6.2"`; a clause needs one of `< <= > >= == !=` and a
 * StrictVersion (at least major.minor). Returns an error sentence otherwise.
 */
export const parseVersionPredicate = (text: string): { clauses: VersionClause[] } | { error: string } => {
  const clauses: VersionClause[] = [];
  for (const piece of text.split(',')) {
    const m = CLAUSE.exec(piece);
    if (!m) return { error: `"${piece.trim()}" is not "<op> <version>" with op one of < <= > >= == !=` };
    const version = parseStrictVersion(m[2] as string);
    if (!version) return { error: `"${m[2]}" is not a version like 6.0 or 6.2.1` };
    clauses.push({ op: m[1] as Op, version, text: `${m[1]}${m[2]}` });
  }
  return { clauses };
};

/** oslo's convert_version_to_str: base-1000 digits joined by dots (0 → ""). */
export const novaVersionToString = (version: number): string => {
  const out: number[] = [];
  let v = Math.trunc(version);
  while (v > 0) {
    out.unshift(v % 1000);
    v = Math.trunc(v / 1000);
  }
  return out.join('.');
};

/**
 * The host's version as a StrictVersion, from its base-1000 digits (most
 * significant first): a lone major (`5`) counts as `5.0`, digits past the
 * third are cut.
 */
export const hostStrictVersion = (version: number): StrictVersion => {
  let v = Math.max(0, Math.trunc(version));
  let scale = 1;
  while (scale * 1000 <= v) scale *= 1000;
  const parts: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < 3 && scale >= 1; i++, scale /= 1000) {
    const digit = Math.floor(v / scale);
    parts[i] = digit;
    v -= digit * scale;
  }
  return { parts, pre: null };
};

/** Whether `version` satisfies every clause. */
export const satisfies = (version: StrictVersion, clauses: readonly VersionClause[]): boolean =>
  clauses.every(({ op, version: v }) => {
    const c = compareVersions(version, v);
    switch (op) {
      case '<':
        return c < 0;
      case '<=':
        return c <= 0;
      case '>':
        return c > 0;
      case '>=':
        return c >= 0;
      case '==':
        return c === 0;
      case '!=':
        return c !== 0;
    }
    return false;
  });
