import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { operatorToken } from '../core/auth';
import { call, report, stack, uniqueHost } from './helpers';

type Json = Record<string, any>;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `npx qm …` against the test stack (its URL and secret from env, as a user would set them). */
const qm = (args: string[], env: Record<string, string> = {}): Promise<Run> => {
  const { QM_TOKEN: _t, QM_API_URL: _u, NO_COLOR: _n, ...base } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/qm.mjs', ...args],
      { env: { ...base, QM_SECRET: stack().secret, QM_API_URL: stack().baseUrl, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
};

/** A port nothing listens on. */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
};

// Three hosts in a zone of their own: a has the most free RAM, b less, c none to spare
// (65536 − 64000 used − 512 reserved = 1024 MB usable).
let az: string;
let hosts: [string, string, string];
const USED = [8_000, 16_000, 64_000];

describe('npx qm for people, against the real stack', () => {
  beforeAll(async () => {
    az = `az-${randomUUID().slice(0, 8)}`;
    const names: string[] = [];
    for (const used of USED) {
      const h = uniqueHost('qm');
      expect((await report(h, { availability_zone: az, memory_mb_used: used })).status).toBe(200);
      names.push(h);
    }
    hosts = names as [string, string, string];
  });

  it('qm nodes: one aligned row per node with status, zone, used+claimed/total bars, and the fleet totals', async () => {
    const claim = await call<Json>('POST', '/schedule', {
      body: {
        request_spec: {
          instance_type: { vcpus: 2, memory_mb: 4096, root_gb: 10 },
          instance_properties: { availability_zone: az },
        },
      },
    });
    expect(claim.body.selections[0].host).toBe(hosts[0]);
    const r = await qm(['nodes']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^HOST\s+STATUS\s+ZONE\s+DISABLED\s+VCPU\s+RAM\s+DISK\s+VMS\s+CLAIMS\s+DRIFT$/);
    const row = lines.find((l) => l.startsWith(`${hosts[0]} `)) as string;
    // vCPU: 4 used + 2 claimed of 40; RAM: 8000 MB used + 4096 claimed of 64 GiB; one live claim.
    expect(row).toMatch(
      new RegExp(`^${hosts[0]}\\s+up\\s+${az}\\s+-\\s+[█▒░]{10} 4\\+2/40\\s+[█▒░]{10} 7\\.8G\\+4\\.0G/64G\\s`),
    );
    expect(row).toMatch(/\s0\s+1\s+0$/);
    // Columns line up: every row starts its ZONE column where the header does.
    const zoneAt = (lines[0] as string).indexOf('ZONE');
    for (const h of hosts) expect(lines.find((l) => l.startsWith(`${h} `))?.indexOf(az)).toBe(zoneAt);
    expect(r.stdout).toMatch(/\d+ nodes: \d+ up, \d+ down, \d+ disabled/);
    // Not a terminal: no colour codes.
    expect(r.stdout).not.toContain('\x1b[');
  });

  it("qm nodes --json prints the API's nodes; --all adds the soft-deleted ones", async () => {
    const gone = uniqueHost('qm-gone');
    await report(gone);
    await call('DELETE', `/nodes/${gone}`);
    const live = JSON.parse((await qm(['nodes', '--json'])).stdout) as { nodes: Json[] };
    const names = live.nodes.map((n) => n.host);
    for (const h of hosts) expect(names).toContain(h);
    expect(names).not.toContain(gone);
    expect(live.nodes.find((n) => n.host === hosts[2])).toMatchObject({
      memory_mb_used: 64_000,
      availability_zone: az,
    });
    const all = await qm(['nodes', '--all']);
    expect(all.stdout.split('\n').find((l) => l.startsWith(`${gone} `))).toMatch(/^\S+\s+deleted\s/);
  });

  it('qm disable / enable: the switch, with its reason, seen by qm node and by the scheduler', async () => {
    const h = hosts[1];
    const off = await qm(['disable', h, '--reason', 'disk swap']);
    expect(off.code).toBe(0);
    expect(off.stdout).toBe(`disabled ${h} (disk swap): the scheduler skips it until \`qm enable ${h}\`\n`);
    const node = await qm(['node', h]);
    expect(node.stdout.split('\n')[0]).toBe(`${h}  up  zone ${az}  disabled (disk swap)`);
    expect(node.stdout).toMatch(/^ {2}RAM {3}[█▒░]{20} {2}16G used \+ 0M claimed of 64G \(48G free\)$/m);
    expect(node.stdout).toMatch(/^ {2}disabled_reason\s+disk swap$/m);
    expect(node.stdout).toMatch(/^ {2}memory_mb_used\s+16000$/m);
    expect(node.stdout).toMatch(/^claims: none$/m);
    expect((await call<Json>('GET', `/nodes/${h}`)).body).toMatchObject({
      disabled: true,
      disabled_reason: 'disk swap',
    });
    const on = await qm(['enable', h, '--json']);
    expect(on.code).toBe(0);
    expect(JSON.parse(on.stdout)).toMatchObject({ host: h, disabled: false, disabled_reason: null });
  });

  it('qm schedule --dry-run prints the picks and the ranking with each weigher, and claims nothing', async () => {
    const r = await qm(['schedule', '--vcpus', '1', '--memory-mb', '2048', '--root-gb', '10', '--az', az, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^dry run: would place 1 instance \(nothing claimed\)$/m);
    expect(r.stdout).toMatch(new RegExp(`^[0-9a-f-]{36}\\s+${hosts[0]}\\s+\\d+\\.\\d{3}$`, 'm'));
    expect(r.stdout).toMatch(
      new RegExp(`^ *1\\s+${hosts[0]}\\s+\\d\\.\\d{3} \\(RAMWeigher \\+\\d\\.\\d{3}, CPUWeigher`, 'm'),
    );
    expect(r.stdout).toMatch(/^2\/\d+ hosts available: .*1 had insufficient RAM \(RamFilter\)/m);
    const node = (await call<Json>('GET', `/nodes/${hosts[1]}`)).body;
    expect(node.claims).toEqual([]);
  });

  it('qm schedule passes every flag into the request spec: extra specs, image properties, group and policy, --num', async () => {
    const arm = await qm([
      'schedule',
      '--vcpus',
      '1',
      '--memory-mb',
      '512',
      '--az',
      az,
      '--extra-spec',
      'capabilities:cpu_info:arch=aarch64',
      '--json',
    ]);
    expect(arm.code).toBe(1);
    expect(JSON.parse(arm.stdout).error.details.filter_counts).toMatchObject({ ComputeCapabilitiesFilter: 3 });
    const image = await qm([
      'schedule',
      '--vcpus',
      '1',
      '--memory-mb',
      '512',
      '--az',
      az,
      '--image-property',
      'architecture=aarch64',
      '--dry-run',
    ]);
    expect(image.code).toBe(1);
    expect(image.stdout).toMatch(/^ImagePropertiesFilter\s+3$/m);
    const group = `g-${randomUUID().slice(0, 8)}`;
    const spread = await qm([
      'schedule',
      '--vcpus',
      '1',
      '--memory-mb',
      '512',
      '--swap-mb',
      '0',
      '--ephemeral-gb',
      '1',
      '--num',
      '2',
      '--az',
      az,
      '--group',
      group,
      '--policy',
      'anti-affinity',
      '--json',
    ]);
    expect(spread.code).toBe(0);
    const picks = JSON.parse(spread.stdout).selections as Json[];
    expect(picks).toHaveLength(2);
    expect(new Set(picks.map((p) => p.host)).size).toBe(2);
    const d = (await call<Json>('GET', `/decisions/${JSON.parse(spread.stdout).decision_id}`)).body;
    expect(d.request.request_spec.instance_type).toMatchObject({ vcpus: 1, memory_mb: 512, ephemeral_gb: 1, swap: 0 });
    expect(d.request.filter_properties.scheduler_hints).toMatchObject({ group, group_policy: 'anti-affinity' });
  });

  it('qm schedule that fits nowhere prints the NoValidHost summary and exits 1; qm why names the filter and the numbers', async () => {
    // Two fresh hosts of their own zone, so no earlier claim moves the figures:
    // d: 65536 − 8000 used − 512 reserved = 57024 MB usable; e: 65536 − 64000 − 512 = 1024.
    const zone = `az-${randomUUID().slice(0, 8)}`;
    const [d, e] = [uniqueHost('qm-d'), uniqueHost('qm-e')];
    await report(d, { availability_zone: zone, memory_mb_used: 8_000 });
    await report(e, { availability_zone: zone, memory_mb_used: 64_000 });
    const r = await qm(['schedule', '--vcpus', '1', '--memory-mb', '60000', '--az', zone]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^no valid host: 0\/\d+ hosts available: .*2 had insufficient RAM \(RamFilter\)/m);
    expect(r.stdout).toMatch(/^RamFilter\s+2$/m);
    const id = /decision ([0-9a-f-]{36}): npx qm why/.exec(r.stdout)?.[1] as string;
    expect(id).toBeDefined();
    const why = await qm(['why', id, d]);
    expect(why.code).toBe(0);
    expect(why.stdout).toBe(`${d}: rejected by RamFilter: needs 60000 MB, 57024 MB usable of 65536 MB × 1\n`);
    expect((await qm(['why', id, e])).stdout).toBe(
      `${e}: rejected by RamFilter: needs 60000 MB, 1024 MB usable of 65536 MB × 1\n`,
    );
    const json = JSON.parse((await qm(['why', id, e, '--json'])).stdout);
    expect(json).toMatchObject({ decision_id: id, host: e, verdict: 'rejected', filter: 'RamFilter' });
    const summary = await qm(['why', id]);
    expect(summary.code).toBe(0);
    expect(summary.stdout).toMatch(new RegExp(`^decision ${id}: not placed \\(NoValidHost\\)`));
    expect(summary.stdout).toMatch(/^RamFilter\s+2$/m);
    expect(summary.stdout).toMatch(/^\(passed every filter\)\s+0$/m);
  });

  it('qm why <decision> <host> for a picked and a passed host: the weight and each weigher', async () => {
    const placed = await call<Json>('POST', '/schedule', {
      body: {
        request_spec: {
          instance_type: { vcpus: 1, memory_mb: 1024, root_gb: 1 },
          instance_properties: { availability_zone: az },
        },
      },
    });
    const id = placed.body.decision_id;
    const best = placed.body.selections[0].host;
    const other = hosts.find((h) => h !== best && h !== hosts[2]) as string;
    expect((await qm(['why', id, best])).stdout).toMatch(
      new RegExp(
        `^${best}: picked, weight -?\\d+\\.\\d{3} \\(RAMWeigher [+-]\\d\\.\\d{3}, CPUWeigher [+-]\\d\\.\\d{3}, `,
      ),
    );
    expect((await qm(['why', id, other])).stdout).toMatch(
      new RegExp(`^${other}: passed, weight -?\\d+\\.\\d{3} \\(RAMWeigher [+-]\\d\\.\\d{3}, .*\\), ranked [23]\\n$`),
    );
  });

  it('exits 1 when the API refuses: an unknown node, an unknown decision, a host not in it, a bad token', async () => {
    const missing = await qm(['node', uniqueHost('nowhere')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/qm: the API refused \(404 NodeNotFound\)/);
    expect((await qm(['why', randomUUID()])).code).toBe(1);
    const notIn = await qm(['why', randomUUID(), hosts[0], '--json']);
    expect(notIn.code).toBe(1);
    expect(JSON.parse(notIn.stdout).error.code).toBe('NotFound');
    const bad = await qm(['nodes', '--token', 'qmo.nope.nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/401 Unauthorized/);
  });

  it('takes the token from --token or QM_TOKEN before minting one', async () => {
    const expired = operatorToken('some-other-secret', { nowMs: Date.now() });
    expect((await qm(['nodes'], { QM_TOKEN: expired })).code).toBe(1);
    expect((await qm(['nodes', '--token', stack().operatorToken], { QM_TOKEN: expired })).code).toBe(0);
  });

  it('exits 2 on a usage error, naming it, before calling anything', async () => {
    const cases = [
      ['nodes', '--bogus'],
      ['schedule', '--memory-mb', '512'],
      ['schedule', '--vcpus', 'two', '--memory-mb', '512'],
      ['schedule', '--vcpus', '1', '--memory-mb', '512', '--group', 'g'],
      ['schedule', '--vcpus', '1', '--memory-mb', '512', '--policy', 'spread'],
      ['schedule', '--vcpus', '1', '--memory-mb', '512', '--extra-spec', 'novalue'],
      ['why', 'not-a-uuid'],
      ['node', 'not a host'],
      ['nodes', '--api-url', 'nowhere'],
      [],
    ];
    // An API that cannot be reached: a command that called it would exit 3, not 2.
    const QM_API_URL = `http://127.0.0.1:${await closedPort()}/dev`;
    for (const args of cases) {
      const r = await qm(args, { QM_API_URL });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.length, args.join(' ')).toBeGreaterThan(0);
    }
  });

  it('exits 3 when the API cannot be reached', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/dev`;
    const r = await qm(['nodes', '--api-url', url]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`qm: cannot reach ${url}: ECONNREFUSED`));
    expect((await qm(['why', randomUUID(), 'h'], { QM_API_URL: url })).code).toBe(3);
  });
});
