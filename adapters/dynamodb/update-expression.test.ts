import { describe, expect, it } from 'vitest';
import { updateExpression } from './update-expression';

describe('updateExpression', () => {
  it('joins each clause’s actions with commas, in SET, REMOVE, ADD order, and leaves out empty clauses', () => {
    expect(updateExpression({ set: ['#a = :a', '#b = :b'], remove: ['#c'], add: ['#v :one'] })).toBe(
      'SET #a = :a, #b = :b REMOVE #c ADD #v :one',
    );
    expect(updateExpression({ set: ['#a = :a'], remove: [], add: ['#v :one'] })).toBe('SET #a = :a ADD #v :one');
    expect(updateExpression({ add: ['#v :one'], set: ['#a = :a'] })).toBe('SET #a = :a ADD #v :one');
    expect(updateExpression({ set: ['#a = :a'] })).toBe('SET #a = :a');
  });
});
