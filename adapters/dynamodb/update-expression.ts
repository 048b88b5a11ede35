/**
 * An UpdateExpression from its clauses, each a list of actions, leaving out the
 * empty ones: `SET a = :a, b = :b REMOVE c ADD d :one`. Every builder of an
 * update (claims, the group item, the ledger's changes) assembles it here.
 */
export const updateExpression = (clauses: { set?: string[]; remove?: string[]; add?: string[] }): string =>
  (
    [
      ['SET', clauses.set],
      ['REMOVE', clauses.remove],
      ['ADD', clauses.add],
    ] as const
  )
    .filter(([, actions]) => actions !== undefined && actions.length > 0)
    .map(([verb, actions]) => `${verb} ${(actions as string[]).join(', ')}`)
    .join(' ');
