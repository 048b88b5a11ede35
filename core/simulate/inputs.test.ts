import { describe, expect, it } from 'vitest';
import { SimulationInputError } from './errors';
import { parseConfig, parseFleet, parseTrace } from './inputs';

const create = (o: Record<string, unknown> = {}) =>
  JSON.stringify({ t: 0, op: 'create', id: 'a', flavor: { vcpus: 1, memory_mb: 512, root_gb: 1 }, ...o });

describe('parseTrace', () => {
  it('names the line of a line that is not JSON', () => {
    expect(() => parseTrace(`${create()}\n\n{"t": 1, "op": "delete"`, 'T.jsonl')).toThrow(
      /^T\.jsonl line 3: is not JSON/,
    );
  });

  it('names the line and the flavor field the schedule function would refuse', () => {
    const text = [create(), create({ t: 1, flavor: { vcpus: 1, memory_mb: 0, root_gb: 1 } })].join('\n');
    expect(() => parseTrace(text)).toThrow(/^trace line 2: flavor\.memory_mb: /);
  });

  it('names an unknown field, an unknown op and a line out of time order', () => {
    expect(() => parseTrace(create({ colour: 'red' }))).toThrow(/line 1: colour: is not a known field/);
    expect(() => parseTrace('{"t": 0, "op": "resize", "id": "a"}')).toThrow(/line 1: op: must be "create" or "delete"/);
    expect(() => parseTrace([create({ t: 5 }), '{"t": 4, "op": "delete", "id": "a"}'].join('\n'))).toThrow(
      /line 2: t: 4 is before the previous event's 5/,
    );
  });

  it('turns a multi-instance create into one request of instances <id>-1 … <id>-N', () => {
    const tr = parseTrace(create({ num_instances: 3, group: 'g', group_policy: 'anti-affinity' }));
    const ev = tr.events[0];
    expect(ev?.op === 'create' && ev.ids).toEqual(['a-1', 'a-2', 'a-3']);
    expect(ev?.op === 'create' && ev.spec.num_instances).toBe(3);
    expect(ev?.op === 'create' && ev.spec.scheduler_hints.group_policy).toBe('anti-affinity');
    expect(tr.instances).toBe(3);
  });

  it('refuses a group without its policy, as POST /schedule does', () => {
    expect(() => parseTrace(create({ group: 'g' }))).toThrow(
      /line 1: group_policy: group and group_policy go together/,
    );
  });

  it("finds the trace's most common flavor by instances", () => {
    const big = { vcpus: 4, memory_mb: 8192, root_gb: 40 };
    const tr = parseTrace([create(), create({ id: 'b', flavor: big }), create({ id: 'c', flavor: big })].join('\n'));
    expect(tr.flavors.get(tr.mostCommonFlavor ?? '')?.instance_type.memory_mb).toBe(8192);
  });
});

describe('parseConfig', () => {
  it('takes the defaults for what it leaves out', () => {
    const c = parseConfig('stack', '{"ram_weight_multiplier": -1}');
    expect(c.opts.ram_weight_multiplier).toBe(-1);
    expect(c.opts.cpu_allocation_ratio).toBe(4);
  });

  it('names an unknown option and an unknown filter', () => {
    expect(() => parseConfig('x', '{"ram_weight_multipler": -1}', 'x.json')).toThrow(
      /config x \(x\.json\): .*unknown option ram_weight_multipler/,
    );
    expect(() => parseConfig('x', '{"enabled_filters": ["RamFilter", "FastFilter"]}')).toThrow(
      /unknown filter "FastFilter"/,
    );
    expect(() => parseConfig('x', '[]')).toThrow(SimulationInputError);
  });
});

describe('parseFleet', () => {
  it('names a bad host and a repeated one', () => {
    expect(() => parseFleet('{"hosts": [{"host": "a", "vcpus": -1, "memory_mb": 1, "local_gb": 1}]}', 'F')).toThrow(
      /^F: hosts\.0\.vcpus: /,
    );
    const h = '{"host": "a", "vcpus": 1, "memory_mb": 1, "local_gb": 1}';
    expect(() => parseFleet(`{"hosts": [${h}, ${h}]}`, 'F')).toThrow(/F: hosts\.1\.host: repeats a/);
  });
});
