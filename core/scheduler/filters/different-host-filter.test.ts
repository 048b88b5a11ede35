import { describe, expect, it } from 'vitest';
import { check, makeHost, makeSpec, uuidFor } from '../test-fixtures';
import { DifferentHostFilter } from './different-host-filter';

const INST = uuidFor(1);

// Scenarios from Nova's TestDifferentHostFilter.
describe('DifferentHostFilter', () => {
  const cases: { name: string; onHost: string[]; hint?: string[]; pass: boolean }[] = [
    { name: 'passes a host running none of the listed instances', onHost: [INST], hint: [uuidFor(2)], pass: true },
    { name: 'rejects a host running a listed instance', onHost: [INST], hint: [INST], pass: false },
    { name: 'passes every host without the hint', onHost: [INST], pass: true },
  ];
  it.each(cases)('$name', ({ onHost, hint, pass }) => {
    const spec = makeSpec({ scheduler_hints: { same_host: [], different_host: hint ?? [] } });
    const host = makeHost({ host: 'h', instances: new Map(onHost.map((u) => [u, {}])) });
    expect(check(DifferentHostFilter, host, spec).pass).toBe(pass);
  });

  it('names the instance', () => {
    const spec = makeSpec({ scheduler_hints: { same_host: [], different_host: [INST] } });
    const host = makeHost({ host: 'h', instances: new Map([[INST, {}]]) });
    expect(check(DifferentHostFilter, host, spec)).toMatchObject({
      pass: false,
      reason: `DifferentHostFilter: host runs instance ${INST} from different_host`,
    });
  });
});
