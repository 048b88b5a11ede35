import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'qm-simulate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const qm = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/qm.mjs', ...args], {
      env: { ...process.env, QM_SECRET: 'test' },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
};

const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

// 20 hosts of 16 vCPUs / 32 GB / 400 GB; 100 creates of 2 vCPUs / 2 GB / 20 GB: 8 fit a host (CPU at ratio 1).
const fleet = file(
  'fleet.json',
  JSON.stringify({
    hosts: Array.from({ length: 20 }, (_, i) => ({ host: `h${i}`, vcpus: 16, memory_mb: 32768, local_gb: 400 })),
  }),
);
const trace = file(
  'trace.jsonl',
  Array.from({ length: 100 }, (_, i) =>
    JSON.stringify({ t: i, op: 'create', id: `vm${i}`, flavor: { vcpus: 2, memory_mb: 2048, root_gb: 20 } }),
  ).join('\n'),
);
const exact = { reserved_host_memory_mb: 0, cpu_allocation_ratio: 1 };
const spread = file('spread.json', JSON.stringify(exact));
const stack = file(
  'stack.json',
  JSON.stringify({ ...exact, ram_weight_multiplier: -1, cpu_weight_multiplier: -1, disk_weight_multiplier: -1 }),
);

describe('qm simulate', { timeout: 180_000 }, () => {
  it('prints the contract JSON per configuration: stacking uses ceil(100 / 8) = 13 hosts, spreading all 20', async () => {
    const r = await qm(
      'simulate',
      '--fleet',
      fleet,
      '--trace',
      trace,
      '--config',
      `spread=${spread}`,
      '--config',
      `stack=${stack}`,
      '--seed',
      '3',
      '--json',
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { configs: Array<Record<string, unknown>> };
    expect(
      out.configs.map((c) => [c.name, c.placed, c.rejected, c.acceptance_rate, c.hosts_used_peak, c.hosts_used_end]),
    ).toEqual([
      ['spread', 100, 0, 1, 20, 20],
      ['stack', 100, 0, 1, 13, 13],
    ]);
    expect(Object.keys(out.configs[0] ?? {}).sort()).toEqual(
      [
        'name',
        'placed',
        'rejected',
        'acceptance_rate',
        'rejected_by',
        'hosts_used_peak',
        'hosts_used_end',
        'utilization',
        'fragmentation',
        'decision_ms',
        'deletes_skipped',
      ].sort(),
    );
  });

  it('prints a table with one column per configuration and writes simulation.md and the chart with --out', async () => {
    const out = join(dir, 'out');
    const r = await qm(
      'simulate',
      '--fleet',
      fleet,
      '--trace',
      trace,
      '--config',
      `spread=${spread}`,
      '--config',
      `stack=${stack}`,
      '--out',
      out,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s+spread\s+stack\n/);
    expect(r.stdout).toMatch(/hosts in use, end\s+20\s+13/);
    expect(readFileSync(join(out, 'simulation.md'), 'utf8')).toMatch(/\| hosts in use, end \| 20 \| 13 \|/);
    const svg = readFileSync(join(out, 'simulation.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('>stack</text>');
  });

  it('exits 2 naming the line, the option or the filter at fault', async () => {
    const bad = file('bad.jsonl', `${readFileSync(trace, 'utf8').split('\n')[0]}\n{"t": 1, "op": "create", "id": "x"}`);
    const r1 = await qm('simulate', '--fleet', fleet, '--trace', bad, '--config', `a=${spread}`);
    expect([r1.code, r1.stderr]).toEqual([2, expect.stringMatching(/bad\.jsonl line 2: flavor: /)]);
    const typo = file('typo.json', '{"ram_weight_multipler": -1}');
    const r2 = await qm('simulate', '--fleet', fleet, '--trace', trace, '--config', `t=${typo}`);
    expect([r2.code, r2.stderr]).toEqual([2, expect.stringMatching(/unknown option ram_weight_multipler/)]);
    const filters = file('filters.json', '{"enabled_filters": ["RamFilter", "NoSuchFilter"]}');
    const r3 = await qm('simulate', '--fleet', fleet, '--trace', trace, '--config', `f=${filters}`);
    expect([r3.code, r3.stderr]).toEqual([2, expect.stringMatching(/unknown filter "NoSuchFilter"/)]);
    const r4 = await qm('simulate', '--fleet', fleet, '--trace', trace, '--config', `a=${spread}`, '--bogus');
    expect(r4.code).toBe(2);
  });

  it('generates the same trace for the same seed, and a trace it can replay', async () => {
    const a = await qm('simulate', '--generate-trace', '--count', '200', '--seed', '5');
    const b = await qm('simulate', '--generate-trace', '--count', '200', '--seed', '5');
    expect(a.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    const lines = a.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { t: number; op: string });
    expect(lines.filter((l) => l.op === 'create')).toHaveLength(200);
    expect(lines.map((l) => l.t)).toEqual([...lines.map((l) => l.t)].sort((x, y) => x - y));
    const generated = file('gen.jsonl', a.stdout);
    const r = await qm('simulate', '--fleet', fleet, '--trace', generated, '--config', `a=${spread}`, '--json');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { configs: Array<{ placed: number }> }).configs[0]?.placed).toBeGreaterThan(0);
  });
});
