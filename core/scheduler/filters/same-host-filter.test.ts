import { describe, expect, it } from 'vitest';
import { check, makeHost, makeSpec, uuidFor } from '../test-fixtures';
import { SameHostFilter } from './same-host-filter';

const INST = uuidFor(1);

// Scenarios from Nova's TestSameHostFilter.
describe('SameHostFilter', () => {
  const cases: { name: string; onHost: string[]; hint?: string[]; pass: boolean }[] = [
    { name: 'passes a host running a listed instance', onHost: [INST], hint: [INST], pass: true },
    { name: 'rejects a host with no instances', onHost: [], hint: [uuidFor(2)], pass: false },
    { name: 'rejects a host running only other instances', onHost: [INST], hint: [uuidFor(2)], pass: false },
    { name: 'passes every host without the hint', onHost: [INST], pass: true },
    { name: 'matches uuids case-insensitively', onHost: [INST], hint: [INST.toUpperCase()], pass: true },
  ];
  it.each(cases)('$name', ({ onHost, hint, pass }) => {
    const spec = makeSpec({ scheduler_hints: { same_host: hint ?? [], different_host: [] } });
    const host = makeHost({ host: 'h', instances: new Map(onHost.map((u) => [u, {}])) });
    expect(check(SameHostFilter, host, spec).pass).toBe(pass);
  });
});
